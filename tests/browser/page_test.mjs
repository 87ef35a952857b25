// The consumer page in Debian's Chromium, driven by playwright-core, on a phone
// viewport (390×844). Run by tests/page_test.cc against the real stack:
//   node tests/browser/page_test.mjs MODE URL SCREENSHOT [ENVELOPE_ID]
// MODE:
//   good      every check of an anchored event verified, none failed, journey, chart, chain tx shown
//   medicine  good, plus the ingredient lots, the temperature excursion, the recall banner, and at
//             least one step "not yet anchored"
//   tampered  the event(s) of ENVELOPE_ID show FAILED (id, signature, inclusion), the summary FAILED
//   nojs      JavaScript off: the server-rendered timeline is there
// Exits 0 and prints "PAGE OK {json}" when every assertion holds; otherwise prints why and exits 1.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// playwright-core lives in deploy/node_modules (deploy/package.json).
const require = createRequire(path.resolve(here, '../../deploy/package.json'));
const { chromium } = require('playwright-core');

const [mode, url, screenshot, envelopeId] = process.argv.slice(2);
if (!mode || !url || !screenshot) {
  console.error('usage: page_test.mjs good|medicine|tampered|nojs URL SCREENSHOT [ENVELOPE_ID]');
  process.exit(2);
}

fs.rmSync(screenshot.replace(/\.png$/, '-failed.png'), { force: true });
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'trace-page-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  javaScriptEnabled: mode !== 'nojs',
  extraHTTPHeaders: {},
});
const problems = [];
let result = { mode };
try {
  const page = context.pages()[0] || (await context.newPage());
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    // CSP violations and script errors reach the console as errors; 429s retried by the page do too.
    if (m.type() === 'error' && !/status of 429/.test(m.text())) problems.push('console: ' + m.text());
  });
  const response = await page.goto(url, { waitUntil: 'load' });
  assert.equal(response.status(), 200, 'page status');
  const headers = response.headers();
  assert.match(headers['content-type'], /^text\/html/);
  assert.match(headers['content-security-policy'] || '', /script-src 'self'/, 'CSP header');

  if (mode === 'nojs') {
    assert.ok(await page.locator('#fallback').isVisible(), 'fallback visible without JS');
    const text = await page.locator('#fallback').innerText();
    assert.match(text, /Where it has been/);
    assert.match(text, /signed by /);
    result.fallbackSteps = await page.locator('#fallback li').count();
    assert.ok(result.fallbackSteps > 3, 'fallback timeline has steps');
  } else {
    // Every check leaves "pending" (the page retries 429s, so allow time).
    await page.waitForFunction(
      () => document.querySelector('#summary') &&
        document.querySelectorAll('li.check').length > 0 &&
        document.querySelectorAll('li.check[data-state=pending]').length === 0 &&
        document.body.dataset.ready,
      null, { timeout: 120000, polling: 250 });
    const states = await page.$$eval('li.check', (rows) => rows.map((r) => ({
      check: r.dataset.check, state: r.dataset.state, reason: r.querySelector('.reason').textContent,
      envelope: r.closest('[data-envelope]') ? r.closest('[data-envelope]').dataset.envelope : null,
    })));
    const count = (pred) => states.filter(pred).length;
    result.checks = {
      total: states.length,
      verified: count((s) => s.state === 'verified'),
      failed: count((s) => s.state === 'failed'),
      unanchored: count((s) => s.state === 'unanchored'),
    };
    result.summary = await page.locator('#summary').getAttribute('data-state');
    result.summaryText = await page.locator('.summary-text').innerText();
    assert.equal(await page.locator('#fallback').count(), 0, 'the fallback gives way to the rendered page');
    // A phone screen: nothing wider than the viewport.
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, 'page is ' + width + ' px wide on a 390 px screen');

    const steps = await page.$$eval('li.step', (ls) => ls.map((l) => ({
      step: l.dataset.step, state: l.dataset.state, title: l.querySelector('.step-title').textContent,
      signer: l.querySelector('.signer').textContent,
    })));
    result.steps = steps.length;
    assert.ok(steps.every((s) => /Signed by \S+ · device \S+/.test(s.signer)), 'every step names its signer');

    if (mode === 'good' || mode === 'medicine') {
      const failed = states.filter((s) => s.state === 'failed');
      assert.deepEqual(failed, [], 'no failed check');
      assert.equal(result.summary, 'verified', result.summaryText);
      assert.equal(await page.locator('li.check[data-check=checkpoint]').getAttribute('data-state'), 'verified');
      // Every anchored event's four checks verified; unanchored ones only on inclusion.
      for (const s of states) {
        if (s.state === 'unanchored') assert.equal(s.check, 'inclusion', 'only inclusion can be not yet anchored');
      }
      assert.ok(count((s) => s.check === 'inclusion' && s.state === 'verified') > 3, 'anchored inclusions verified');
      assert.match(await page.locator('#anchor-tx').innerText(), /^0x[0-9a-f]{64}$/, 'chain transaction shown');
      assert.ok(await page.locator('figure.chart svg polyline').count() >= 1, 'a temperature chart');
      const titles = steps.map((s) => s.title).join(' | ');
      result.titles = titles;
      if (mode === 'good') {
        for (const want of ['Harvested', 'Processed', 'Shipped', 'Received']) {
          assert.ok(titles.includes(want), 'journey lacks ' + want + ': ' + titles);
        }
        const text = await page.locator('#journey').innerText();
        assert.match(text, /Field location/, 'harvest field location');
        assert.match(text, /15\.2287, 104\.8564/, 'field coordinates from ilmd');
      } else {
        for (const lot of ['CHL-26-0417', 'MCC102-6611', 'LMH-6652']) {
          assert.ok(await page.locator(`#inputs li.input[data-lot="${lot}"]`).isVisible(), 'ingredient lot ' + lot);
        }
        assert.match(await page.locator('#inputs').innerText(), /made .* at GLN \d{13}/, 'where and when made');
        const excursions = await page.$$eval('[data-excursions]', (ps) => ps.map((p) => Number(p.dataset.excursions)));
        result.excursions = excursions;
        assert.ok(excursions.some((n) => n >= 1), 'the excursion is counted');
        assert.ok(await page.locator('figure.chart circle.excursion').count() >= 1, 'the excursion is marked');
        assert.ok(await page.locator('#recall').isVisible(), 'recall banner');
        assert.ok(result.checks.unanchored >= 1, 'a step not yet anchored');
        assert.match(result.summaryText, /not yet anchored/);
      }
    }
    if (mode === 'tampered') {
      assert.ok(envelopeId, 'tampered needs ENVELOPE_ID');
      const mine = states.filter((s) => s.envelope === envelopeId);
      assert.ok(mine.length >= 4, 'checks of the tampered envelope shown');
      for (const name of ['envelope-id', 'signature', 'inclusion']) {
        const c = mine.find((s) => s.check === name);
        assert.equal(c.state, 'failed', name + ' of the tampered envelope: ' + JSON.stringify(c));
        assert.ok(c.reason.length > 0, name + ' gives a reason');
      }
      const others = states.filter((s) => s.envelope && s.envelope !== envelopeId);
      assert.ok(others.length > 0 && others.every((s) => s.state !== 'failed'), 'only the tampered envelope fails');
      assert.equal(result.summary, 'failed');
      assert.match(result.summaryText, /FAILED/);
      assert.ok(await page.locator('li.step[data-state=failed]').first().isVisible(), 'the failed step is marked');
      result.reasons = Object.fromEntries(mine.map((s) => [s.check, s.state + ': ' + s.reason]));
    }
  }
  fs.mkdirSync(path.dirname(screenshot), { recursive: true });
  await page.screenshot({ path: screenshot, fullPage: true });
  await page.screenshot({ path: screenshot.replace(/\.png$/, '-top.png') });
  // Close-ups to look at: the chart, and the first failed step with its checks.
  if (mode !== 'nojs' && (await page.locator('#temperatures figure').count())) {
    await page.locator('#temperatures').screenshot({ path: screenshot.replace(/\.png$/, '-chart.png') });
  }
  if (mode === 'tampered') {
    await page.locator(`li.event-check[data-envelope="${envelopeId}"]`).first()
      .screenshot({ path: screenshot.replace(/\.png$/, '-failed-checks.png') });
  }
  const unexpected = problems.filter((p) => !(mode === 'tampered' && /FAILED/.test(p)));
  assert.deepEqual(unexpected, [], 'console errors');
  console.log('PAGE OK ' + JSON.stringify(result));
} catch (e) {
  console.log('PAGE FAILED ' + mode + ': ' + (e && e.stack ? e.stack : e));
  console.log('result so far: ' + JSON.stringify(result));
  if (problems.length) console.log('browser said:\n  ' + problems.join('\n  '));
  try {
    const page = context.pages()[0];
    if (page) await page.screenshot({ path: screenshot.replace(/\.png$/, '-failed.png'), fullPage: true });
  } catch (ignored) {
    /* the screenshot is a bonus */
  }
  process.exitCode = 1;
} finally {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
