// The consumer trace page: renders the trace document of this Digital Link
// (fetched from the same URL as application/json) as a journey for a phone, draws
// the temperature chart from the raw readings, and verifies every event in the
// browser with verify.js: envelope id, signed content, Ed25519 signature, leaf
// hash and inclusion proof to the anchored checkpoint, the checkpoint's
// signature by the log key. Each check goes pending -> verified or FAILED (with
// the reason); an event without an anchored leaf is "not yet anchored".
// The server-rendered #fallback stays when anything here cannot run.
'use strict';
(function () {
  const V = globalThis.TraceVerify;
  const SVG = 'http://www.w3.org/2000/svg';

  // --- small DOM helpers -------------------------------------------------------

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  function svg(tag, attrs, text) {
    const e = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
    if (text !== undefined) e.textContent = text;
    return e;
  }

  // --- HTTP: same origin only (CSP connect-src 'self') ------------------------

  function sameOrigin(url) {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  }

  async function get(url, accept) {
    for (let attempt = 0; ; ++attempt) {
      const res = await fetch(sameOrigin(url), { headers: { Accept: accept || 'application/json' } });
      if ((res.status === 429 || res.status === 503) && attempt < 6) {
        const wait = Math.min(5, Number(res.headers.get('Retry-After')) || 1);
        await new Promise((r) => setTimeout(r, wait * 1000));
        continue;
      }
      if (!res.ok) {
        let detail = '';
        try {
          detail = (await res.json()).detail || '';
        } catch (e) {
          /* not a problem document */
        }
        throw new Error('HTTP ' + res.status + ' for ' + sameOrigin(url) + (detail ? ': ' + detail : ''));
      }
      return accept === 'text/plain' ? res.text() : res.json();
    }
  }

  // Runs `fn` over `items` with at most `n` at a time.
  async function pool(items, n, fn) {
    let next = 0;
    const workers = Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await fn(items[i], i);
      }
    });
    await Promise.all(workers);
  }

  // --- what the events say --------------------------------------------------------

  const STEP_LABELS = {
    commissioning: 'Made',
    packing: 'Packed',
    unpacking: 'Unpacked',
    shipping: 'Shipped',
    receiving: 'Received',
    transporting: 'In transit',
    sensor_reporting: 'Sensor readings',
    storing: 'Stored',
    inspecting: 'Inspected',
    accepting: 'Accepted',
    loading: 'Loaded',
    departing: 'Departed',
    arriving: 'Arrived',
    retail_selling: 'Sold',
    dispensing: 'Dispensed',
    destroying: 'Destroyed',
    recalling: 'Recalled',
  };

  function bizStep(event) {
    const s = String(event.bizStep || '');
    return s.replace(/^https?:\/\/ns\.gs1\.org\/voc\/Bizstep-/, '').replace(/^urn:epcglobal:cbv:bizstep:/, '');
  }

  function isSensorOnly(event) {
    return Array.isArray(event.sensorElementList) && event.sensorElementList.length > 0 &&
      ['sensor_reporting', 'transporting', ''].includes(bizStep(event)) && event.action === 'OBSERVE';
  }

  function label(event, lotInfo) {
    const step = bizStep(event);
    if (event.type === 'TransformationEvent') return 'Processed (milled, formulated or blended)';
    if (step === 'commissioning' && event.action === 'ADD') {
      if (event.ilmd && (event.ilmd['cbvmda:harvestEndDate'] || event.ilmd['cbvmda:harvestStartDate'])) return 'Harvested';
      if (lotInfo && lotInfo.depth > 0) return 'Ingredient lot made';
      return 'Made';
    }
    if (event.type === 'AggregationEvent' && event.action === 'ADD') return 'Packed';
    if (event.type === 'AggregationEvent' && event.action === 'DELETE') return 'Unpacked';
    return STEP_LABELS[step] || (step ? step.replace(/_/g, ' ') : event.type);
  }

  function gs1CheckDigit(digits) {
    let sum = 0;
    for (let i = 0; i < digits.length; ++i) {
      const d = Number(digits[digits.length - 1 - i]);
      sum += i % 2 === 0 ? d * 3 : d;
    }
    return String((10 - (sum % 10)) % 10);
  }

  // "urn:epc:id:sgln:8850123.00001.F7" -> "GLN 8850123000016, place F7".
  function place(id) {
    if (typeof id !== 'string') return '';
    let m = id.match(/^urn:epc:id:sgln:(\d+)\.(\d*)\.(.*)$/);
    if (m) {
      const gln = m[1] + m[2] + gs1CheckDigit(m[1] + m[2]);
      return 'GLN ' + gln + (m[3] && m[3] !== '0' ? ', ' + decodeURIComponent(m[3]) : '');
    }
    m = id.match(/^urn:epc:id:giai:\d+\.(.+)$/);
    if (m) return decodeURIComponent(m[1]);
    m = id.match(/^urn:epc:id:pgln:(\d+)\.(\d+)$/);
    if (m) return 'party GLN ' + m[1] + m[2] + gs1CheckDigit(m[1] + m[2]);
    m = id.match(/^geo:([-\d.]+),([-\d.]+)/);
    if (m) return m[1] + ', ' + m[2];
    return id;
  }

  // "2026-07-03T08:00:00.000Z" with "+07:00" -> "3 Jul 2026, 15:00 (UTC+07:00)".
  function when(time, offset) {
    const t = Date.parse(time);
    if (Number.isNaN(t)) return String(time || '');
    let minutes = 0;
    const m = /^([+-])(\d\d):(\d\d)$/.exec(offset || '');
    if (m) minutes = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
    const d = new Date(t + minutes * 60000);
    const text = d.toLocaleString('en-GB', {
      timeZone: 'UTC', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
    });
    return text + ' (UTC' + (m ? offset : '') + ')';
  }

  // "urn:epc:class:lgtin:8850456.000210.HM105-2611-A" -> {company, lot}.
  function classLot(epcClass) {
    const m = /^urn:epc:class:lgtin:([\d]+)\.([\d]+)\.(.+)$/.exec(String(epcClass || ''));
    if (m) return { item: m[1] + '.' + m[2], lot: decodeURIComponent(m[3]) };
    const dl = /\/01\/(\d{14})\/10\/([^/?]+)/.exec(String(epcClass || ''));
    if (dl) return { item: dl[1], lot: decodeURIComponent(dl[2]) };
    return { item: String(epcClass || ''), lot: '' };
  }

  function quantities(list) {
    return (list || []).map((q) => {
      const c = classLot(q.epcClass);
      return (q.quantity !== undefined ? q.quantity + (q.uom ? ' ' + q.uom : '') + ' of ' : '') +
        (c.lot ? 'lot ' + c.lot : c.item);
    });
  }

  function details(event) {
    const out = [];
    const where = event.bizLocation && event.bizLocation.id;
    const at = event.readPoint && event.readPoint.id;
    if (where) out.push(['Where', place(where) + (at && at !== where ? ' (at ' + place(at) + ')' : '')]);
    else if (at) out.push(['Where', place(at)]);
    if (event.type === 'TransformationEvent') {
      const ins = quantities(event.inputQuantityList).concat(event.inputEPCList || []);
      const outs = quantities(event.outputQuantityList).concat(event.outputEPCList || []);
      if (ins.length) out.push(['From', ins.join('; ')]);
      if (outs.length) out.push(['Into', outs.join('; ')]);
    } else {
      const q = quantities(event.quantityList || event.childQuantityList);
      if (q.length) out.push(['What', q.join('; ')]);
      const epcs = event.epcList || event.childEPCs || [];
      if (epcs.length) out.push(['Items', epcs.length === 1 ? place(epcs[0]).replace(/^urn:epc:id:/, '') : epcs.length + ' items']);
    }
    const from = (event.sourceList || []).find((s) => /location|owning_party/.test(s.type));
    const to = (event.destinationList || []).find((s) => /location/.test(s.type)) ||
      (event.destinationList || []).find((s) => /owning_party/.test(s.type));
    if (from) out.push(['From', place(from.source)]);
    if (to) out.push(['To', place(to.destination)]);
    const ilmd = event.ilmd || {};
    const names = {
      'cbvmda:harvestStartDate': 'Harvest began', 'cbvmda:harvestEndDate': 'Harvest ended',
      'cbvmda:countryOfOrigin': 'Origin', 'trace:variety': 'Variety', 'trace:fieldId': 'Field',
      'trace:fieldGeo': 'Field location', 'cbvmda:bestBeforeDate': 'Best before', 'cbvmda:itemExpirationDate': 'Expires',
      'cbvmda:lotNumber': 'Lot', 'cbvmda:sellByDate': 'Sell by',
    };
    for (const [k, v] of Object.entries(ilmd)) {
      if (typeof v === 'object') continue;
      const name = names[k] || k.replace(/^[a-z]+:/, '').replace(/([a-z])([A-Z])/g, '$1 $2');
      out.push([name, k === 'trace:fieldGeo' ? place(String(v)) : String(v)]);
    }
    return out;
  }

  // --- verification state -------------------------------------------------------------

  // A check shown in the page: one element per (event, check) or per global check.
  const STATES = { pending: 'checking…', verified: 'verified', failed: 'FAILED', unanchored: 'not yet anchored' };

  function checkRow(name, title) {
    const state = el('span', { class: 'state pending' }, STATES.pending);
    const reason = el('span', { class: 'reason' });
    const row = el('li', { class: 'check', 'data-check': name, 'data-state': 'pending' }, el('span', { class: 'name' }, title), state, reason);
    return {
      row,
      set(s, why) {
        row.dataset.state = s;
        state.className = 'state ' + s;
        state.textContent = STATES[s];
        reason.textContent = why || '';
        row.dispatchEvent(new CustomEvent('trace-check', { bubbles: true }));
      },
    };
  }

  // --- rendering ----------------------------------------------------------------------

  function collectLots(doc) {
    // The lot tree flattened: the page's own lot first, then inputs depth first.
    const lots = [];
    const walk = (lot, depth, parent) => {
      lots.push({ lot, depth, parent });
      for (const input of lot.inputs || []) walk(input, depth + 1, lot);
    };
    walk(doc, 0, null);
    return lots;
  }

  function lotName(lot) {
    const p = lot.product || {};
    return (p.name || 'GTIN ' + (lot.gtin || p.gtin || '')) + ', lot ' + lot.lot;
  }

  function renderTimeline(doc, lots, entries) {
    const list = el('ol', { class: 'timeline', id: 'timeline' });
    // One row per event, the same event seen from two lots only once, by time.
    const seen = new Map();
    for (const info of lots) {
      for (const e of info.lot.events || []) {
        const key = e.envelope + '/' + e.index;
        if (!seen.has(key)) seen.set(key, { entry: e, info });
      }
    }
    const all = [...seen.values()].sort((a, b) => String(a.entry.event.eventTime).localeCompare(String(b.entry.event.eventTime)));
    // Consecutive sensor-only events of one device become one row.
    const groups = [];
    for (const item of all) {
      const last = groups[groups.length - 1];
      const sig = item.entry.signer.org + '/' + item.entry.signer.device;
      if (isSensorOnly(item.entry.event) && last && last.sensor && last.sig === sig) last.items.push(item);
      else groups.push({ sensor: isSensorOnly(item.entry.event), sig, items: [item] });
    }
    for (const g of groups) {
      const first = g.items[0];
      const ev = first.entry.event;
      const badge = el('span', { class: 'badge pending', 'data-badge': '' }, STATES.pending);
      const lotTag = first.info.depth > 0 ? el('span', { class: 'lot-tag' }, (first.info.depth > 1 ? 'upstream' : 'from') + ' lot ' + first.info.lot.lot) : null;
      const head = el('div', { class: 'step-head' },
        el('span', { class: 'step-title' }, g.sensor ? label(ev) + (g.items.length > 1 ? ' ×' + g.items.length : '') : label(ev, first.info)),
        badge);
      const dl = el('dl', { class: 'facts' });
      let facts = details(ev);
      if (g.sensor) {
        const types = new Map();
        for (const it of g.items) {
          for (const se of it.entry.event.sensorElementList || []) {
            for (const r of se.sensorReport || []) {
              const t = String(r.type || '').replace(/^gs1:/, '');
              const a = types.get(t) || { min: Infinity, max: -Infinity, uom: r.uom || '' };
              a.min = Math.min(a.min, r.value);
              a.max = Math.max(a.max, r.value);
              types.set(t, a);
            }
          }
        }
        facts = facts.filter(([k]) => k === 'Where');
        for (const [t, a] of types) facts.push([t, a.min === a.max ? a.min + ' ' + a.uom : a.min + ' to ' + a.max + ' ' + a.uom]);
      }
      for (const [k, v] of facts) dl.append(el('dt', null, k), el('dd', null, v));
      const lastEv = g.items[g.items.length - 1].entry.event;
      const time = g.items.length > 1 ? when(ev.eventTime, ev.eventTimeZoneOffset) + ' – ' + when(lastEv.eventTime, lastEv.eventTimeZoneOffset) : when(ev.eventTime, ev.eventTimeZoneOffset);
      const li = el('li', { class: 'step' + (g.sensor ? ' sensor' : ''), 'data-step': bizStep(ev) || ev.type },
        head,
        el('time', { datetime: ev.eventTime }, time),
        lotTag,
        dl,
        el('p', { class: 'signer' }, 'Signed by ', el('b', null, first.entry.signer.org), ' · device ' + first.entry.signer.device));
      list.append(li);
      // The row's badge sums up the checks of its events.
      const rows = g.items.map((it) => entries.get(it.entry.envelope + '/' + it.entry.index));
      const update = () => {
        const states = rows.flatMap((r) => r.checks.map((c) => c.row.dataset.state));
        let s = 'verified';
        if (states.includes('failed')) s = 'failed';
        else if (states.includes('pending')) s = 'pending';
        else if (states.includes('unanchored')) s = 'unanchored';
        badge.className = 'badge ' + s;
        badge.textContent = STATES[s];
        li.dataset.state = s;
      };
      for (const r of rows) r.listeners.push(update);
    }
    return list;
  }

  function renderInputs(doc) {
    if (!(doc.inputs || []).length) return null;
    const render = (lot) => {
      const made = (lot.events || []).find((e) => bizStep(e.event) === 'commissioning' && e.event.type === 'ObjectEvent') ||
        (lot.events || []).find((e) => e.event.type === 'TransformationEvent');
      const where = made && (made.event.bizLocation || made.event.readPoint || {}).id;
      const li = el('li', { class: 'input', 'data-lot': lot.lot },
        el('a', { href: sameOrigin(lot.link) }, lotName(lot)),
        el('div', { class: 'input-meta' },
          made ? 'made ' + when(made.event.eventTime, made.event.eventTimeZoneOffset) + (where ? ' at ' + place(where) : '') + ' by ' + made.signer.org : 'no origin event recorded'));
      const sub = (lot.inputs || []).map(render);
      if (sub.length) li.append(el('ul', { class: 'inputs' }, sub));
      return li;
    };
    return el('section', { id: 'inputs' }, el('h2', null, 'Made from'), el('ul', { class: 'inputs' }, doc.inputs.map(render)));
  }

  async function renderChart(info, container) {
    const types = (info.lot.sensors && info.lot.sensors.types) || [];
    const t = types.find((x) => x.type === 'Temperature' && x.count > 0);
    if (!t) return;
    const figure = el('figure', { class: 'chart', 'data-lot': info.lot.lot }, el('figcaption', null, 'Temperature · lot ' + info.lot.lot + ' · loading…'));
    container.append(figure);
    let doc;
    try {
      doc = await get(info.lot.sensors.readings);
    } catch (e) {
      figure.querySelector('figcaption').textContent = 'Temperature · lot ' + info.lot.lot + ': readings unavailable (' + e.message + ')';
      return;
    }
    const readings = (doc.readings || []).filter((r) => r.type === 'Temperature' && Number.isFinite(Date.parse(r.time)));
    if (!readings.length) return;
    const W = 360, H = 180, L = 34, R = 8, T = 10, B = 24;
    const xs = readings.map((r) => Date.parse(r.time));
    const limits = t.limits || {};
    const vs = readings.map((r) => r.value).concat([limits.min, limits.max].filter((v) => typeof v === 'number'));
    let lo = Math.min(...vs), hi = Math.max(...vs);
    if (hi - lo < 1) { lo -= 0.5; hi += 0.5; }
    const pad = (hi - lo) * 0.08;
    lo -= pad; hi += pad;
    const x0 = Math.min(...xs), x1 = Math.max(...xs) === x0 ? x0 + 1 : Math.max(...xs);
    const X = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
    const Y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
    const s = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'temperature readings of lot ' + info.lot.lot });
    if (typeof limits.min === 'number' || typeof limits.max === 'number') {
      const top = Y(typeof limits.max === 'number' ? Math.min(limits.max, hi) : hi);
      const bottom = Y(typeof limits.min === 'number' ? Math.max(limits.min, lo) : lo);
      if (bottom > top) s.append(svg('rect', { class: 'band', x: L, y: top, width: W - L - R, height: bottom - top }));
    }
    for (const v of [lo + pad, (lo + hi) / 2, hi - pad]) {
      s.append(svg('line', { class: 'grid', x1: L, x2: W - R, y1: Y(v), y2: Y(v) }));
      s.append(svg('text', { class: 'axis', x: L - 4, y: Y(v) + 3, 'text-anchor': 'end' }, v.toFixed(1)));
    }
    for (const [x, anchor] of [[x0, 'start'], [x1, 'end']]) {
      const d = new Date(x).toISOString();
      s.append(svg('text', { class: 'axis', x: X(x), y: H - 6, 'text-anchor': anchor }, d.slice(5, 10) + ' ' + d.slice(11, 16) + 'Z'));
    }
    s.append(svg('polyline', { class: 'line', points: readings.map((r, i) => X(xs[i]).toFixed(1) + ',' + Y(r.value).toFixed(1)).join(' ') }));
    let excursions = 0;
    readings.forEach((r, i) => {
      if (!r.excursion) return;
      ++excursions;
      const c = svg('circle', { class: 'excursion', cx: X(xs[i]), cy: Y(r.value), r: 4 });
      c.append(svg('title', {}, r.value + ' ' + (r.uom || '') + ' at ' + r.time));
      s.append(c);
    });
    const range = (typeof limits.min === 'number' ? limits.min : '−∞') + '–' + (typeof limits.max === 'number' ? limits.max : '∞');
    figure.querySelector('figcaption').textContent =
      'Temperature · lot ' + info.lot.lot + ' · ' + readings.length + ' readings, ' + t.min + ' to ' + t.max + ' ' + (t.uom === 'CEL' ? '°C' : t.uom);
    figure.append(s);
    figure.append(el('p', { class: excursions ? 'excursions bad' : 'excursions', 'data-excursions': excursions },
      excursions ? excursions + (excursions === 1 ? ' reading' : ' readings') + ' outside ' + range + ' (red)' : 'all readings within ' + range));
  }

  // --- verification ---------------------------------------------------------------------

  async function verifyCheckpoint(doc, keysPromise, checks) {
    // The checkpoint the trace document names, opened with the log key.
    if (!doc.checkpoint) {
      checks.note.set('unanchored', 'no anchored checkpoint yet');
      return null;
    }
    try {
      const keys = await keysPromise;
      if (!keys.log || !keys.log.name || !keys.log.public_key) throw new V.VerifyError('no log key in /api/v1/keys');
      const text = await V.verifyNote(doc.checkpoint, keys.log.name, keys.log.public_key);
      const cp = V.parseCheckpoint(text);
      checks.note.set('verified', 'tree size ' + cp.size + ', signed by ' + keys.log.name);
      return cp;
    } catch (e) {
      checks.note.set('failed', e.message);
      return { failed: e.message };
    }
  }

  async function verifyEnvelope(id, href, cpPromise, anchored) {
    // Everything one envelope's checks need, computed once for all its events.
    const cp = await cpPromise;
    const url = anchored && cp && !cp.failed ? href + '?treeSize=' + cp.size : href;
    const doc = await get(url);
    const env = doc.envelope;
    const out = { doc };
    out.id = V.envelopeId(env).then((got) => {
      if (got !== id) throw new V.VerifyError('envelope hashes to ' + got.slice(0, 16) + '…, not to its id ' + id.slice(0, 16) + '…');
    });
    return out;
  }

  function verifyEvent(entry, envPromise, cpPromise, checks) {
    const run = async (check, fn) => {
      try {
        const r = await fn();
        if (r === 'unanchored') check.set('unanchored', 'covered by no anchored checkpoint yet');
        else check.set('verified', r || '');
      } catch (e) {
        check.set('failed', e.message);
      }
    };
    const env = envPromise;
    run(checks.id, async () => {
      await (await env).id;
      return 'SHA-256 of the canonical envelope';
    });
    run(checks.content, async () => {
      const { doc } = await env;
      const signed = (doc.envelope.events || [])[entry.index];
      if (signed === undefined || V.canonicalize(signed) !== V.canonicalize(entry.event)) {
        throw new V.VerifyError('the event shown differs from event ' + entry.index + ' of the signed envelope');
      }
      return 'shown as signed';
    });
    run(checks.signature, async () => {
      const { doc } = await env;
      if (doc.signer && doc.signer.key !== entry.signer.key) throw new V.VerifyError('the envelope route names another signer key');
      await V.verifyEnvelopeSignature(doc.envelope, entry.signer.key);
      return 'Ed25519 by ' + entry.signer.org + '/' + entry.signer.device;
    });
    run(checks.inclusion, async () => {
      const cp = await cpPromise;
      const { doc } = await env;
      if (!entry.anchored || !cp) return 'unanchored';
      if (cp.failed) throw new V.VerifyError('the checkpoint did not verify: ' + cp.failed);
      if (!doc.proof || !doc.anchor) throw new V.VerifyError('the server gave no proof for an anchored event');
      if (doc.proof.treeSize !== cp.size || doc.anchor.treeSize !== cp.size) {
        throw new V.VerifyError('proof to tree size ' + doc.proof.treeSize + ', checkpoint has ' + cp.size);
      }
      if (entry.leaf !== null && doc.proof.leafIndex !== entry.leaf) throw new V.VerifyError('leaf index differs from the trace document');
      if (!V.equalBytes(V.base64Decode(doc.anchor.root, 'anchor root'), cp.root)) throw new V.VerifyError('the anchor root is not the checkpoint root');
      const leaf = await V.leafHash(V.canonicalBytes(doc.envelope));
      await V.verifyInclusion(doc.proof.leafIndex, doc.proof.treeSize, leaf, doc.proof.hashes.map((h) => V.base64Decode(h, 'proof hash')), cp.root);
      return 'leaf ' + doc.proof.leafIndex + ' of ' + cp.size;
    });
  }

  // --- the page -----------------------------------------------------------------------

  async function main() {
    const app = document.getElementById('app');
    let doc;
    try {
      doc = await get(location.pathname);
    } catch (e) {
      app.prepend(el('p', { class: 'error' }, 'Could not load the trace: ' + e.message));
      return;
    }
    const keysPromise = get('/api/v1/keys');
    keysPromise.catch(() => {});
    const lots = collectLots(doc);

    // Checks, one set per event; global ones first.
    const summary = el('section', { id: 'summary', class: 'card pending', 'data-state': 'pending' });
    const summaryText = el('p', { class: 'summary-text' }, 'Checking signatures and proofs in this browser…');
    summary.append(el('h2', null, 'Verification'), summaryText);
    const note = checkRow('checkpoint', 'Log checkpoint signature');
    const globalList = el('ul', { class: 'checks' }, note.row);
    const entries = new Map();
    const perEvent = el('ol', { class: 'event-checks', id: 'event-checks' });
    for (const info of lots) {
      for (const e of info.lot.events || []) {
        const key = e.envelope + '/' + e.index;
        if (entries.has(key)) continue;
        const checks = {
          id: checkRow('envelope-id', 'Envelope id'),
          content: checkRow('content', 'Event as signed'),
          signature: checkRow('signature', 'Signature'),
          inclusion: checkRow('inclusion', 'In the anchored log'),
        };
        const record = { entry: e, info, checks: Object.values(checks), named: checks, listeners: [] };
        entries.set(key, record);
        const li = el('li', { class: 'event-check', 'data-envelope': e.envelope, 'data-index': e.index },
          el('div', { class: 'event-check-head' }, label(e.event, info) + ' · ' + when(e.event.eventTime, e.event.eventTimeZoneOffset)),
          el('ul', { class: 'checks' }, record.checks.map((c) => c.row)));
        li.addEventListener('trace-check', () => record.listeners.forEach((f) => f()));
        perEvent.append(li);
      }
    }

    // Layout: summary, journey, made from, temperatures, verification details.
    const journey = el('section', { id: 'journey' }, el('h2', null, 'Where it has been'), renderTimeline(doc, lots, entries));
    const charts = el('section', { id: 'temperatures' }, el('h2', null, 'Temperatures'));
    const anchorBox = el('dl', { class: 'facts anchor', id: 'anchor' });
    const details = el('section', { id: 'verification' }, el('h2', null, 'How this was checked'),
      el('p', { class: 'muted' }, 'Your browser fetched every signed record, checked its Ed25519 signature and its place in the append-only log, and checked the log checkpoint against the log key. The root is committed on chain in the transaction below; trace-verify checks that commit against the chain itself.'),
      globalList, anchorBox, perEvent);
    const fallback = document.getElementById('fallback');
    if (fallback) fallback.remove();
    app.append(summary, journey);
    const inputs = renderInputs(doc);
    if (inputs) app.append(inputs);
    app.append(charts, details);

    // The summary follows every check.
    const allRows = () => [note.row, ...[...entries.values()].flatMap((r) => r.checks.map((c) => c.row))];
    const refresh = () => {
      const states = allRows().map((r) => r.dataset.state);
      const count = (s) => states.filter((x) => x === s).length;
      const failed = count('failed'), pending = count('pending');
      const events = [...entries.values()];
      const unanchored = events.filter((r) => r.named.inclusion.row.dataset.state === 'unanchored').length;
      let state = 'verified';
      if (failed) state = 'failed';
      else if (pending) state = 'pending';
      summary.className = 'card ' + state;
      summary.dataset.state = state;
      if (state === 'failed') {
        const bad = events.filter((r) => r.checks.some((c) => c.row.dataset.state === 'failed')).length;
        summaryText.textContent = failed + ' check' + (failed === 1 ? '' : 's') + ' FAILED' +
          (bad ? ' on ' + bad + ' of ' + events.length + ' steps' : '') + '. Do not trust the failed steps.';
      } else if (state === 'pending') {
        summaryText.textContent = 'Checking in this browser… ' + (states.length - pending) + ' of ' + states.length + ' checks done.';
      } else {
        summaryText.textContent = 'All ' + (events.length - unanchored) + ' anchored steps verified in this browser' +
          (unanchored ? '; ' + unanchored + ' recent step' + (unanchored === 1 ? ' is' : 's are') + ' not yet anchored' : '') + '.';
      }
    };
    details.addEventListener('trace-check', refresh);
    refresh();

    // Charts (no need to wait for them).
    const chartsDone = Promise.all(lots.map((info) => renderChart(info, charts))).then(() => {
      if (!charts.querySelector('figure')) charts.append(el('p', { class: 'muted' }, 'No temperature readings recorded for this product.'));
    });

    // Verify: the checkpoint once, then every envelope once.
    const cpPromise = verifyCheckpoint(doc, keysPromise, { note });
    const cp = await cpPromise;
    if (cp && !cp.failed) {
      // The anchor comes with any anchored envelope; show the first one's.
      anchorBox.append(el('dt', null, 'Checkpoint'), el('dd', null, 'tree size ' + cp.size + ', root ' + V.base64Encode(cp.root)));
    }
    const byEnvelope = new Map();
    for (const r of entries.values()) {
      const id = r.entry.envelope;
      if (!byEnvelope.has(id)) byEnvelope.set(id, []);
      byEnvelope.get(id).push(r);
    }
    let anchorShown = false;
    await pool([...byEnvelope.entries()], 4, async ([id, records]) => {
      const first = records[0].entry;
      const anchored = records.some((r) => r.entry.anchored);
      const envPromise = verifyEnvelope(id, first.href || '/api/v1/envelopes/' + id, cpPromise, anchored);
      envPromise.then(({ doc: d }) => {
        if (anchorShown || !d.anchor) return;
        anchorShown = true;
        const a = d.anchor;
        anchorBox.append(
          el('dt', null, 'Chain'), el('dd', null, 'chain id ' + a.chainId),
          el('dt', null, 'Contract'), el('dd', { class: 'mono' }, a.contract),
          el('dt', null, 'Transaction'), el('dd', { class: 'mono', id: 'anchor-tx' }, a.tx),
          el('dt', null, 'Block'), el('dd', null, String(a.block)));
      }, () => {});
      for (const r of records) verifyEvent(r.entry, envPromise, cpPromise, r.named);
      await envPromise.then((x) => x.id).catch(() => {});
    });
    await chartsDone;
    document.body.dataset.ready = 'true';
  }

  main().catch((e) => {
    const app = document.getElementById('app');
    if (app) app.prepend(el('p', { class: 'error' }, 'The page failed: ' + e.message));
    document.body.dataset.ready = 'error';
  });
})();
