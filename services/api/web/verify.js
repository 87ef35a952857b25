// Verification in the browser, trusting nothing the server says about itself
// (PROTOCOL.md §3, §5): RFC 8785 canonical JSON, Ed25519 signatures through
// WebCrypto, RFC 9162 leaf hashes and inclusion proofs, C2SP signed-note
// checkpoints. No dependencies; a classic script that defines
// globalThis.TraceVerify, so the same file runs in the page and under Node.js
// (tests/browser/verify_test.mjs checks it against ../shared/testdata).
//
// Every check returns a result or throws a VerifyError whose message says, for
// people, what did not match.
'use strict';
(function (global) {
  const subtle = global.crypto.subtle;

  class VerifyError extends Error {}

  // --- RFC 8785 (JCS) -------------------------------------------------------

  // The canonical text of `value`: object members sorted by the UTF-16 code units
  // of their names (what Array.prototype.sort does with strings), numbers as
  // ECMAScript prints them (JSON.stringify), strings escaped as JSON.stringify
  // escapes them (RFC 8785 §3.2.2.2 is that rule). Lone surrogates and
  // non-finite numbers cannot be canonicalized.
  function canonicalize(value) {
    if (value === null || typeof value === 'boolean') return JSON.stringify(value);
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new VerifyError('JCS: a number that is not finite');
      return JSON.stringify(value);
    }
    if (typeof value === 'string') {
      if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value)) {
        throw new VerifyError('JCS: a string with a lone surrogate');
      }
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return '[' + value.map(canonicalize).join(',') + ']';
    if (typeof value === 'object') {
      const names = Object.keys(value).sort();
      return '{' + names.map((n) => canonicalize(n) + ':' + canonicalize(value[n])).join(',') + '}';
    }
    throw new VerifyError('JCS: cannot canonicalize a ' + typeof value);
  }

  const utf8 = (text) => new TextEncoder().encode(text);
  const canonicalBytes = (value) => utf8(canonicalize(value));

  // --- bytes ----------------------------------------------------------------

  function base64Decode(text, what) {
    let s = String(text).replace(/-/g, '+').replace(/_/g, '/');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) throw new VerifyError(what + ': not base64');
    s = s.replace(/=+$/, '');
    if (s.length % 4 === 1) throw new VerifyError(what + ': not base64');
    s += '='.repeat((4 - (s.length % 4)) % 4);
    const bin = global.atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; ++i) out[i] = bin.charCodeAt(i);
    return out;
  }

  function base64Encode(bytes) {
    let bin = '';
    for (const b of bytes) bin += String.fromCharCode(b);
    return global.btoa(bin);
  }

  const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; ++i) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  const sha256 = async (bytes) => new Uint8Array(await subtle.digest('SHA-256', bytes));

  // --- Ed25519 --------------------------------------------------------------

  // True when `signature` (64 bytes) is `publicKey`'s (32 bytes) over `message`.
  async function ed25519Verify(publicKey, signature, message) {
    if (publicKey.length !== 32) throw new VerifyError('public key: want 32 bytes, got ' + publicKey.length);
    if (signature.length !== 64) throw new VerifyError('signature: want 64 bytes, got ' + signature.length);
    const key = await subtle.importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
    return subtle.verify({ name: 'Ed25519' }, key, signature, message);
  }

  // --- envelopes (PROTOCOL.md §3) -------------------------------------------

  // The envelope's id: lowercase hex SHA-256 of the canonical bytes of all of it.
  const envelopeId = async (envelope) => hex(await sha256(canonicalBytes(envelope)));

  // Checks `sig` over the canonical envelope without `sig`, by `publicKeyB64url`.
  async function verifyEnvelopeSignature(envelope, publicKeyB64url) {
    if (typeof envelope !== 'object' || envelope === null || Array.isArray(envelope)) {
      throw new VerifyError('the envelope is not a JSON object');
    }
    if (typeof envelope.sig !== 'string') throw new VerifyError('the envelope has no sig');
    const unsigned = Object.assign({}, envelope);
    delete unsigned.sig;
    const ok = await ed25519Verify(
      base64Decode(publicKeyB64url, 'signer key'),
      base64Decode(envelope.sig, 'sig'),
      canonicalBytes(unsigned),
    );
    if (!ok) throw new VerifyError('Ed25519 signature does not match the envelope and the signer key');
    return true;
  }

  // --- RFC 9162 Merkle ------------------------------------------------------

  const leafHash = async (data) => sha256(concat(new Uint8Array([0]), data));
  const nodeHash = async (left, right) => sha256(concat(new Uint8Array([1]), left, right));

  // The root that `proof` (hashes in RFC 9162 order) leads to from leaf `index`
  // with hash `leaf` in a tree of `size` leaves (RFC 9162 §2.1.3.2). Throws when
  // the proof cannot belong to such a tree.
  async function rootFromInclusionProof(index, size, leaf, proof) {
    if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
      throw new VerifyError('leaf index ' + index + ' is not inside a tree of size ' + size);
    }
    if (leaf.length !== 32) throw new VerifyError('leaf hash: want 32 bytes');
    let fn = index;
    let sn = size - 1;
    let r = leaf;
    for (const p of proof) {
      if (p.length !== 32) throw new VerifyError('proof hash: want 32 bytes');
      if (sn === 0) throw new VerifyError('inclusion proof is longer than the tree allows');
      if (fn % 2 === 1 || fn === sn) {
        r = await nodeHash(p, r);
        if (fn % 2 === 0) {
          while (fn % 2 === 0 && fn !== 0) {
            fn = Math.floor(fn / 2);
            sn = Math.floor(sn / 2);
          }
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn = Math.floor(fn / 2);
      sn = Math.floor(sn / 2);
    }
    if (sn !== 0) throw new VerifyError('inclusion proof is shorter than the tree needs');
    return r;
  }

  async function verifyInclusion(index, size, leaf, proof, root) {
    const got = await rootFromInclusionProof(index, size, leaf, proof);
    if (!equalBytes(got, root)) {
      throw new VerifyError('inclusion proof leads to root ' + base64Encode(got) + ', not ' + base64Encode(root));
    }
    return true;
  }

  // --- C2SP signed notes and checkpoints --------------------------------------

  // The note key id of an Ed25519 key: first 4 bytes of SHA-256(name || 0x0A || 0x01 || key).
  async function noteKeyId(name, publicKey) {
    const h = await sha256(concat(utf8(name), new Uint8Array([0x0a, 0x01]), publicKey));
    return h.slice(0, 4);
  }

  // Opens `note` with the Ed25519 key `publicKeyB64url` named `name`; returns the
  // note text (final newline included). Lines of other keys are skipped.
  async function verifyNote(note, name, publicKeyB64url) {
    if (typeof note !== 'string' || note.length === 0) throw new VerifyError('no checkpoint');
    const split = note.lastIndexOf('\n\n');
    if (split < 0 || !note.endsWith('\n')) throw new VerifyError('checkpoint: no signature block after an empty line');
    const text = note.slice(0, split + 1);
    const lines = note.slice(split + 2, -1).split('\n');
    const publicKey = base64Decode(publicKeyB64url, 'log key');
    const wantId = await noteKeyId(name, publicKey);
    let matched = 0;
    for (const line of lines) {
      if (!line.startsWith('\u2014 ')) throw new VerifyError('checkpoint: signature line without "\u2014 "');
      const fields = line.slice(2).split(' ');
      if (fields.length !== 2) throw new VerifyError('checkpoint: malformed signature line');
      if (fields[0] !== name) continue;
      const sig = base64Decode(fields[1], 'checkpoint signature');
      if (sig.length < 5) throw new VerifyError('checkpoint: signature too short');
      if (!equalBytes(sig.slice(0, 4), wantId)) continue;
      ++matched;
      if (!(await ed25519Verify(publicKey, sig.slice(4), utf8(text)))) {
        throw new VerifyError('checkpoint signature by ' + name + ' does not verify');
      }
      return text;
    }
    throw new VerifyError(
      matched === 0 ? 'checkpoint carries no signature by log key ' + name + ' (id ' + hex(wantId) + ')' : 'no valid signature',
    );
  }

  // Parses a checkpoint body: origin, tree size, root.
  function parseCheckpoint(text) {
    const lines = text.slice(0, -1).split('\n');
    if (lines.length < 3) throw new VerifyError('checkpoint: fewer than 3 lines');
    if (!/^(0|[1-9][0-9]{0,15})$/.test(lines[1])) throw new VerifyError('checkpoint: tree size is not decimal');
    const size = Number(lines[1]);
    if (!Number.isSafeInteger(size)) throw new VerifyError('checkpoint: tree size too large');
    const root = base64Decode(lines[2], 'checkpoint root');
    if (root.length !== 32) throw new VerifyError('checkpoint: root is not 32 bytes');
    return { origin: lines[0], size, root };
  }

  global.TraceVerify = {
    VerifyError,
    canonicalize,
    canonicalBytes,
    base64Decode,
    base64Encode,
    hex,
    equalBytes,
    sha256,
    ed25519Verify,
    envelopeId,
    verifyEnvelopeSignature,
    leafHash,
    rootFromInclusionProof,
    verifyInclusion,
    noteKeyId,
    verifyNote,
    parseCheckpoint,
  };
})(globalThis);
