// Unit test of services/api/web/verify.js (the page's in-browser verifier) under
// Node.js, against vectors written by others (../shared/testdata): RFC 8785
// inputs and outputs, ECMAScript number printing, RFC 9162 inclusion proofs, and
// an Ed25519 signed note made here with Node's own crypto.
//   node tests/browser/verify_test.mjs [TESTDATA_DIR]
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const testdata = process.argv[2] || path.resolve(root, '../shared/testdata');
// verify.js is a classic script: evaluate it with globalThis as its global.
new Function(fs.readFileSync(path.join(root, 'services/api/web/verify.js'), 'utf8'))();
const V = globalThis.TraceVerify;
let checks = 0;

// RFC 8785: each input file canonicalizes to exactly the output file's bytes.
for (const name of fs.readdirSync(path.join(testdata, 'jcs/input'))) {
  const input = JSON.parse(fs.readFileSync(path.join(testdata, 'jcs/input', name), 'utf8'));
  const want = fs.readFileSync(path.join(testdata, 'jcs/output', name));
  assert.deepEqual(Buffer.from(V.canonicalBytes(input)), want, 'jcs ' + name);
  ++checks;
}
// Numbers: IEEE-754 bits -> ECMAScript text.
const lines = fs.readFileSync(path.join(testdata, 'jcs/numbers.txt'), 'utf8').split('\n').filter(Boolean);
const buf = Buffer.alloc(8);
for (const line of lines) {
  const [bits, text] = line.split(',');
  buf.write(bits, 'hex');
  const n = buf.readDoubleBE(0);
  if (!Number.isFinite(n)) {
    assert.throws(() => V.canonicalize(n));
  } else {
    assert.equal(V.canonicalize(n), text, bits);
  }
  ++checks;
}
assert.throws(() => V.canonicalize('\uD800'), /lone surrogate/);

// RFC 9162 inclusion proofs, good and bad cases.
const inclusion = path.join(testdata, 'merkle/inclusion');
{
  for (const name of fs.readdirSync(inclusion, { recursive: true }).filter((n) => n.endsWith('.json'))) {
    const dir = '.';
    const c = JSON.parse(fs.readFileSync(path.join(inclusion, name), 'utf8'));
    const proof = (c.proof || []).map((h) => V.base64Decode(h, 'proof'));
    let ok;
    try {
      await V.verifyInclusion(c.leafIdx, c.treeSize, V.base64Decode(c.leafHash, 'leaf'), proof,
                              V.base64Decode(c.root, 'root'));
      ok = true;
    } catch (e) {
      assert.ok(e instanceof V.VerifyError, dir + '/' + name + ': ' + e);
      ok = false;
    }
    assert.equal(ok, !c.wantErr, dir + '/' + name + ' ' + c.desc);
    ++checks;
  }
}

// A signed note and an envelope signed with Node's Ed25519 (another implementation).
const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
const rawPub = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
const pubB64url = rawPub.toString('base64url');
const name = 'trace.example.org/log';
const body = name + '\n7\n' + Buffer.alloc(32, 9).toString('base64') + '\n';
const id = crypto.createHash('sha256').update(Buffer.concat([Buffer.from(name + '\n'), Buffer.from([1]), rawPub]))
  .digest().subarray(0, 4);
const sig = crypto.sign(null, Buffer.from(body), privateKey);
const note = body + '\n\u2014 other/log AAAAAAAA\n\u2014 ' + name + ' ' + Buffer.concat([id, sig]).toString('base64') + '\n';
assert.equal(await V.verifyNote(note, name, pubB64url), body);
const cp = V.parseCheckpoint(body);
assert.equal(cp.size, 7);
assert.equal(cp.origin, name);
await assert.rejects(V.verifyNote(note.replace('\n7\n', '\n8\n'), name, pubB64url), /does not verify/);
await assert.rejects(V.verifyNote(note, 'another/log', pubB64url), /no signature by log key/);
checks += 4;

const envelope = { v: 1, org: 'o', device: 'd', seq: 1, sent: '2026-01-01T00:00:00.000Z', events: [{ b: 1.5, a: 'é' }] };
envelope.sig = crypto.sign(null, Buffer.from(V.canonicalize(envelope)), privateKey).toString('base64url');
assert.equal(await V.verifyEnvelopeSignature(envelope, pubB64url), true);
await assert.rejects(V.verifyEnvelopeSignature({ ...envelope, seq: 2 }, pubB64url), /does not match/);
assert.equal(await V.envelopeId(envelope),
             crypto.createHash('sha256').update(V.canonicalize(envelope)).digest('hex'));
checks += 3;

console.log('verify.js: ' + checks + ' checks passed');
