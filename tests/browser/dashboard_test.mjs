// The producer dashboard in Debian's Chromium, driven by playwright-core, as a producer on a
// tablet (1024×768): sign in, create a site, a product and a lot, register a device, record a
// harvest, print its label (the PNG decoded by zbarimg), watch the harvest become anchored on
// the chain, then open the consumer page from the label's link on a phone in the same browser
// and let it verify everything. Run by tests/dashboard_test.cc against the real stack:
//   node tests/browser/dashboard_test.mjs CONFIG_JSON
// CONFIG_JSON: {"base": TRACE_API_URL, "email", "password", "org", "gtin": 14 digits, "gln": 13
//   digits, "lot", "device", "artifacts": folder for dashboard-*.png, "anchorSeconds": 60}
// Every dashboard page must answer 200 (or the expected redirect) with the dashboard's CSP, log
// no console error or CSP violation, and fit the tablet's width. Exits 0 and prints
// "DASHBOARD OK {json}" when every assertion holds; otherwise prints why and exits 1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// playwright-core lives in deploy/node_modules (deploy/package.json).
const require = createRequire(path.resolve(here, '../../deploy/package.json'));
const { chromium } = require('playwright-core');

if (process.argv.length !== 3) {
  console.error('usage: dashboard_test.mjs CONFIG_JSON');
  process.exit(2);
}
const cfg = JSON.parse(process.argv[2]);
for (const k of ['base', 'email', 'password', 'org', 'gtin', 'gln', 'lot', 'device', 'artifacts']) {
  assert.ok(cfg[k], 'config lacks ' + k);
}
const anchorSeconds = cfg.anchorSeconds || 60;
fs.mkdirSync(cfg.artifacts, { recursive: true });
for (const f of fs.readdirSync(cfg.artifacts)) {
  if (/^dashboard-.*\.png$/.test(f)) fs.rmSync(path.join(cfg.artifacts, f));
}
const shot = (name) => path.join(cfg.artifacts, 'dashboard-' + name + '.png');
const reEscape = (text) => text.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&');
const encodedLot = encodeURIComponent(cfg.lot);
const lotPath = '/dashboard/lots/' + cfg.gtin + '/' + encodedLot;
const digitalLink = cfg.base + '/01/' + cfg.gtin + '/10/' + encodedLot;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const problems = [];
const result = { steps: [] };
// Error statuses a step provokes on purpose (a wrong password, a wrong check digit): Chromium
// logs the page's own status as a console error; each one expected is allowed once.
const expectedErrors = [];
const watch = (page, where) => {
  page.on('pageerror', (e) => problems.push(where + ' page error: ' + e.message));
  page.on('console', (m) => {
    // CSP violations ("Refused to ...") and script errors reach the console as errors; the
    // consumer page retries 429s (as tests/browser/page_test.mjs allows).
    if (m.type() !== 'error' || (where === 'phone' && /status of 429/.test(m.text()))) return;
    // Opening the label PNG itself (not a dashboard page) makes Chromium ask for /favicon.ico,
    // which trace-api does not serve: that one 404 is counted and reported, not failed.
    const source = m.location() && m.location().url ? new URL(m.location().url) : null;
    if (source && source.pathname === '/favicon.ico' && /\.png$/.test(new URL(page.url()).pathname)) {
      faviconMisses.push(page.url());
      return;
    }
    const i = expectedErrors.findIndex((re) => re.test(m.text()));
    if (i >= 0) expectedErrors.splice(i, 1);
    else problems.push(where + ' console: ' + m.text() + ' @ ' + page.url() + (source ? ' (' + source.href + ')' : ''));
  });
};
const faviconMisses = [];
let tablet;
let phone;
try {
  tablet = await browser.newContext({
    viewport: { width: 1024, height: 768 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true,
  });
  const page = await tablet.newPage();
  watch(page, 'tablet');

  // A dashboard page as a tablet user sees it: served with the dashboard's headers, no wider
  // than the screen, every text input at least finger-sized; then a screenshot.
  const checkPage = async (response, name, { status = 200 } = {}) => {
    assert.equal(response.status(), status, name + ': status of ' + page.url());
    const h = response.headers();
    assert.match(h['content-type'] || '', /^text\/html/, name + ': content-type');
    assert.match(h['content-security-policy'] || '', /default-src 'none'/, name + ': CSP');
    assert.equal(h['cache-control'], 'no-store', name + ': cache-control');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 1024, name + ': page is ' + width + ' px wide on a 1024 px tablet');
    const small = await page.$$eval('input:not([type=hidden]), select, button, a.button', (els) =>
      els.filter((e) => e.offsetParent !== null && e.getBoundingClientRect().height < 40)
        .map((e) => e.outerHTML.slice(0, 80)));
    assert.deepEqual(small, [], name + ': controls shorter than 40 px (hard to tap)');
    await page.screenshot({ path: shot(name), fullPage: true });
    result.steps.push(name);
  };
  // Submits the form holding SELECTOR and returns the final response (after the 303).
  const submit = async (button) => {
    const [response] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load' }),
      page.locator(button).click(),
    ]);
    return response;
  };
  const notice = async () => (await page.locator('.notice').innerText()).trim();
  const noError = async (what) => {
    if (await page.locator('.error').count()) {
      assert.fail(what + ' shows an error: ' + (await page.locator('.error').first().innerText()));
    }
  };

  // 1. Not signed in: the dashboard sends the tablet to the login form.
  let r = await page.goto(cfg.base + '/dashboard', { waitUntil: 'load' });
  assert.equal(new URL(page.url()).pathname, '/dashboard/login', 'redirected to the login form');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/dashboard');
  await checkPage(r, '01-login');
  // A wrong password first: the form says so and keeps the e-mail.
  await page.fill('input[name=email]', cfg.email);
  await page.fill('input[name=password]', 'not the password');
  expectedErrors.push(/status of 401/);
  r = await submit('form button[type=submit]');
  assert.equal(r.status(), 401);
  assert.match(await page.locator('.error').innerText(), /wrong e-mail or password/);
  assert.equal(await page.inputValue('input[name=email]'), cfg.email);
  await page.fill('input[name=password]', cfg.password);
  r = await submit('form button[type=submit]');
  assert.equal(new URL(page.url()).pathname, '/dashboard', 'back to the overview after signing in');
  await checkPage(r, '02-overview');
  assert.match(await page.locator('header .who').innerText(), new RegExp(cfg.org));
  const cookies = await tablet.cookies(cfg.base);
  const session = cookies.find((c) => c.httpOnly);
  assert.ok(session, 'an HttpOnly session cookie: ' + JSON.stringify(cookies));
  assert.equal(session.sameSite, 'Strict');

  // 2. A site (the farm), a product and a lot, through their forms.
  r = await page.goto(cfg.base + '/dashboard/sites', { waitUntil: 'load' });
  await checkPage(r, '03-sites-empty');
  await page.fill('input[name=gln]', cfg.gln);
  await page.fill('input[name=name]', 'Green Valley field 7');
  await page.fill('input[name=kind]', 'farm');
  await page.fill('input[name=latitude]', '15.2287');
  await page.fill('input[name=longitude]', '104.8564');
  await page.fill('input[name=address]', 'Ban Nong Khai, Ubon Ratchathani');
  r = await submit('form[action="/dashboard/sites"] button[type=submit]');
  await noError('site form');
  assert.match(await notice(), /Site Green Valley field 7 created/);
  assert.match(await page.locator('table').innerText(), new RegExp(cfg.gln));
  await checkPage(r, '04-site-created');

  r = await page.goto(cfg.base + '/dashboard/products', { waitUntil: 'load' });
  // A wrong check digit is refused on the form, which keeps what was typed.
  const badGtin = cfg.gtin.slice(0, 13) + String((Number(cfg.gtin[13]) + 1) % 10);
  await page.fill('input[name=gtin]', badGtin);
  await page.fill('input[name=name]', 'Hom Mali paddy');
  expectedErrors.push(/status of 400/);
  r = await submit('form[action="/dashboard/products"] button[type=submit]');
  assert.equal(r.status(), 400);
  assert.match(await page.locator('.error').innerText(), /check digit/);
  assert.equal(await page.inputValue('input[name=name]'), 'Hom Mali paddy');
  await page.fill('input[name=gtin]', cfg.gtin);
  await page.fill('input[name=category]', 'rice');
  await page.fill('input[name=attributes]', 'variety=Hom Mali 105; origin=Thailand');
  await page.fill('textarea[name=description]', 'Jasmine paddy from field 7, sun dried.');
  r = await submit('form[action="/dashboard/products"] button[type=submit]');
  await noError('product form');
  assert.match(await notice(), /Product Hom Mali paddy created/);
  assert.match(await page.locator('table').innerText(), /variety=Hom Mali 105/);
  await checkPage(r, '05-product-created');

  r = await page.goto(cfg.base + '/dashboard/lots', { waitUntil: 'load' });
  await page.selectOption('select[name=gtin]', cfg.gtin);
  await page.fill('input[name=lot]', cfg.lot);
  await page.fill('input[name=note]', 'Main harvest, December');
  r = await submit('form[action="/dashboard/lots"] button[type=submit]');
  await noError('lot form');
  assert.equal(new URL(page.url()).pathname, lotPath, 'the new lot\'s page');
  assert.match(await notice(), new RegExp('Lot ' + reEscape(cfg.lot) + ' created'));
  assert.match(await page.locator('main section.card').first().innerText(), /no events yet/);
  await checkPage(r, '06-lot-created');

  // 3. A device registered by its Ed25519 public key: the MQTT credentials are shown once.
  const { publicKey } = crypto.generateKeyPairSync('ed25519');
  const publicKeyB64u = publicKey.export({ format: 'jwk' }).x;
  r = await page.goto(cfg.base + '/dashboard/devices', { waitUntil: 'load' });
  await page.fill('input[name=device]', cfg.device);
  await page.fill('input[name=name]', 'Scale at the drying yard');
  await page.fill('input[name=publicKey]', publicKeyB64u);
  r = await submit('form[action="/dashboard/devices"] button[type=submit]');
  await noError('device form');
  assert.match(await notice(), new RegExp('Device ' + cfg.device + ' registered'));
  const secrets = await page.locator('p.secret').allInnerTexts();
  assert.equal(secrets.length, 2, 'username and password shown: ' + JSON.stringify(secrets));
  assert.equal(secrets[0].trim(), cfg.org + '/' + cfg.device);
  assert.match(secrets[1].trim(), /^\S{16,}$/, 'a broker password');
  result.mqtt = { username: secrets[0].trim(), password: secrets[1].trim() };
  const deviceRow = page.locator('tr', { hasText: 'Scale at the drying yard' });
  assert.match(await deviceRow.innerText(), /active/);
  await checkPage(r, '07-device-registered');
  // Shown only once: the device list alone does not repeat the password.
  r = await page.goto(cfg.base + '/dashboard/devices', { waitUntil: 'load' });
  assert.equal(await page.locator('p.secret').count(), 0);
  assert.ok(!(await page.content()).includes(result.mqtt.password), 'the password is not shown again');

  // 4. A harvest recorded through its form, signed on the server.
  r = await page.goto(cfg.base + '/dashboard/events/new?kind=harvest', { waitUntil: 'load' });
  await checkPage(r, '08-harvest-form');
  const sitesOffered = await page.$$eval('datalist#sites option', (os) => os.map((o) => o.value));
  assert.deepEqual(sitesOffered, [cfg.gln], 'the farm is offered for the site field');
  const when = new Date(Date.now() - 10 * 60 * 1000);
  const local = when.toISOString().slice(0, 16);  // UTC wall time, entered with zone +00:00
  await page.fill('input[name=event_time]', local);
  // The browser checks the zone's pattern itself (Chromium compiles `pattern` with the v flag,
  // where an unescaped "-" in a class is a syntax error that switches the check off).
  const tz = page.locator('input[name=time_zone_offset]');
  await tz.fill('7:00');
  assert.equal(await tz.evaluate((e) => e.validity.patternMismatch), true, 'time zone 7:00 refused by the form');
  await tz.fill('-03:30');
  assert.equal(await tz.evaluate((e) => e.validity.valid), true, 'time zone -03:30 accepted by the form');
  await tz.fill('+00:00');
  await page.fill('input[name=site_gln]', cfg.gln);
  await page.selectOption('select[name=gtin]', cfg.gtin);
  await page.fill('input[name=lot]', cfg.lot);
  await page.fill('input[name=quantity]', '1250');
  await page.fill('input[name=uom]', 'KGM');
  await page.fill('input[name=variety]', 'Hom Mali 105');
  await page.fill('input[name=latitude]', '15.2287');
  await page.fill('input[name=longitude]', '104.8564');
  await page.fill('input[name=harvest_date]', when.toISOString().slice(0, 10));
  await page.fill('input[name=country]', 'TH');
  await page.screenshot({ path: shot('09-harvest-filled'), fullPage: true });
  r = await submit('form button.wide[type=submit]');
  await noError('harvest form');
  assert.equal(new URL(page.url()).pathname, lotPath, 'the harvest leads to its lot');
  const stored = await notice();
  const envelope = /envelope ([0-9a-f]{12})/.exec(stored);
  assert.ok(envelope, 'the notice names the envelope: ' + stored);
  result.envelopePrefix = envelope[1];
  const events = page.locator('main table tbody tr');
  assert.equal(await events.count(), 1, 'the harvest is listed');
  const row = await events.first().innerText();
  assert.match(row, /commissioning/, 'a commissioning step: ' + row);
  assert.match(row, new RegExp(cfg.org + ' / dashboard'), 'signed by the org\'s dashboard signer: ' + row);
  assert.match(row, new RegExp(local.slice(0, 10)), 'at the time entered: ' + row);
  // What the lot showed right after (anchoring usually takes a few seconds more).
  result.badgeAfterHarvest = await page.locator('main section.card .badge').first().innerText();
  await checkPage(r, '10-harvest-recorded');

  // 5. The label: the PNG from the lot page's link, decoded by zbarimg; then the printable sheet.
  const pngHref = await page.locator('a.button', { hasText: 'Label (PNG)' }).getAttribute('href');
  const [png] = await Promise.all([
    page.waitForResponse((resp) => resp.url().endsWith('.png') && resp.request().resourceType() === 'document'),
    page.locator('a.button', { hasText: 'Label (PNG)' }).click(),
  ]);
  assert.equal(png.status(), 200, 'label PNG');
  assert.equal(png.headers()['content-type'], 'image/png');
  const pngFile = path.join(cfg.artifacts, 'dashboard-11-label.png');
  fs.writeFileSync(pngFile, await png.body());
  result.labelHref = pngHref;
  result.decoded = execFileSync('zbarimg', ['--raw', '-q', pngFile], { encoding: 'utf8' }).replace(/\r?\n$/, '');
  assert.equal(result.decoded, digitalLink, 'the label decodes to exactly the lot\'s Digital Link');
  result.steps.push('11-label');
  r = await page.goto(cfg.base + lotPath, { waitUntil: 'load' });
  const [sheet] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.locator('a.button', { hasText: 'Printable sheet' }).click(),
  ]);
  assert.equal(sheet.status(), 200, 'printable sheet');
  assert.match(sheet.headers()['content-security-policy'] || '', /default-src 'none'/);
  const labels = await page.$$eval('svg', (ss) => ss.length);
  assert.ok(labels >= 1, 'the sheet has labels');
  assert.match(await page.locator('body').innerText(), new RegExp('\\(10\\) ' + reEscape(cfg.lot)));
  result.sheetLabels = labels;
  await page.screenshot({ path: shot('12-label-sheet'), fullPage: true });
  result.steps.push('12-label-sheet');

  // 6. The harvest becomes anchored: reload the lot page until its badge says so.
  const started = Date.now();
  let badge = '';
  for (;;) {
    r = await page.goto(cfg.base + lotPath, { waitUntil: 'load' });
    badge = await page.locator('main section.card .badge').first().innerText();
    const eventBadge = await page.locator('main table tbody tr .badge').first().innerText();
    if (/all 1 anchored/.test(badge) && eventBadge === 'anchored') break;
    assert.ok(Date.now() - started < anchorSeconds * 1000,
      'not anchored within ' + anchorSeconds + ' s: lot badge "' + badge + '", event badge "' + eventBadge + '"');
    await page.waitForTimeout(1000);
  }
  result.anchoredAfterSeconds = Math.round((Date.now() - started) / 100) / 10;
  await checkPage(r, '13-lot-anchored');
  r = await page.goto(cfg.base + '/dashboard', { waitUntil: 'load' });
  assert.match(await page.locator('main').innerText(), /all 1 anchored/, 'the overview shows the lot anchored');
  await checkPage(r, '14-overview-anchored');

  // 7. The consumer page from the label's link, on a phone, in the same browser.
  phone = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
  });
  const consumer = await phone.newPage();
  watch(consumer, 'phone');
  const cr = await consumer.goto(result.decoded, { waitUntil: 'load' });
  assert.equal(cr.status(), 200, 'consumer page');
  assert.match(cr.headers()['content-security-policy'] || '', /script-src 'self'/, 'consumer CSP');
  assert.equal((await consumer.locator('header.product h1').innerText()).trim(), 'Hom Mali paddy', 'the product');
  await consumer.waitForFunction(
    () => document.querySelector('#summary') &&
      document.querySelectorAll('li.check').length > 0 &&
      document.querySelectorAll('li.check[data-state=pending]').length === 0 &&
      document.body.dataset.ready,
    null, { timeout: 120000, polling: 250 });
  const checks = await consumer.$$eval('li.check', (rows) => rows.map((x) => ({
    check: x.dataset.check, state: x.dataset.state, reason: x.querySelector('.reason').textContent,
  })));
  result.consumer = {
    summary: await consumer.locator('#summary').getAttribute('data-state'),
    summaryText: await consumer.locator('.summary-text').innerText(),
    checks: checks.length,
    verified: checks.filter((c) => c.state === 'verified').length,
  };
  assert.deepEqual(checks.filter((c) => c.state !== 'verified'), [], 'every check verified');
  assert.equal(result.consumer.summary, 'verified', result.consumer.summaryText);
  assert.equal(await consumer.locator('li.check[data-check=inclusion]').count(), 1, 'the harvest\'s inclusion');
  assert.equal(await consumer.locator('li.check[data-check=checkpoint]').getAttribute('data-state'), 'verified');
  result.consumer.anchorTx = await consumer.locator('#anchor-tx').innerText();
  assert.match(result.consumer.anchorTx, /^0x[0-9a-f]{64}$/, 'the chain transaction');
  const steps = await consumer.$$eval('li.step', (ls) => ls.map((l) => ({
    title: l.querySelector('.step-title').textContent, signer: l.querySelector('.signer').textContent,
  })));
  assert.equal(steps.length, 1, 'one step: ' + JSON.stringify(steps));
  assert.match(steps[0].title, /Harvested/);
  assert.match(steps[0].signer, new RegExp('Signed by ' + cfg.org + ' · device dashboard'));
  const journey = await consumer.locator('#journey').innerText();
  assert.match(journey, /15\.2287\d*, 104\.8564\d*/, 'field coordinates');
  assert.match(journey, new RegExp('1250 KGM of lot ' + reEscape(cfg.lot)), 'quantity');
  assert.match(journey, /Hom Mali 105/, 'variety');
  const width = await consumer.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, 'consumer page is ' + width + ' px wide on a 390 px phone');
  result.consumer.steps = steps;
  await consumer.screenshot({ path: shot('15-consumer-phone'), fullPage: true });
  result.steps.push('15-consumer-phone');

  result.faviconMisses = faviconMisses.length;
  assert.deepEqual(problems, [], 'console errors or CSP violations');
  assert.deepEqual(expectedErrors, [], 'expected error statuses that never came');
  console.log('DASHBOARD OK ' + JSON.stringify(result));
} catch (e) {
  console.log('DASHBOARD FAILED: ' + (e && e.stack ? e.stack : e));
  console.log('result so far: ' + JSON.stringify(result));
  if (problems.length) console.log('browser said:\n  ' + problems.join('\n  '));
  for (const [ctx, name] of [[tablet, 'tablet'], [phone, 'phone']]) {
    try {
      const p = ctx && ctx.pages()[0];
      if (p) await p.screenshot({ path: shot('failed-' + name), fullPage: true });
    } catch (ignored) {
      /* the screenshot is a bonus */
    }
  }
  process.exitCode = 1;
} finally {
  await browser.close();
}
