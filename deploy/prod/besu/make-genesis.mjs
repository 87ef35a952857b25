// Writes the QBFT extraData of genesis.json from validators.json (a JSON array of the validators'
// 0x addresses), the same bytes as `besu rlp encode --from=validators.json --type=QBFT_EXTRA_DATA`:
//   RLP([32 zero bytes of vanity, [validator addresses], [] (no vote), 0 (round), [] (no seals)])
// Usage: node deploy/prod/besu/make-genesis.mjs [validators.json] [genesis.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const validatorsFile = process.argv[2] ?? join(here, 'validators.json');
const genesisFile = process.argv[3] ?? join(here, 'genesis.json');

function fail(message) {
  console.error(`make-genesis: ${message}`);
  process.exit(1);
}

// RLP of a byte string / of a list of already-encoded items (Yellow Paper, appendix B).
function lengthPrefix(length, offset) {
  if (length < 56) return Buffer.from([offset + length]);
  const bytes = Buffer.from(length.toString(16).padStart(2 * Math.ceil(length.toString(16).length / 2), '0'), 'hex');
  return Buffer.concat([Buffer.from([offset + 55 + bytes.length]), bytes]);
}
const rlpBytes = (b) => (b.length === 1 && b[0] < 0x80 ? b : Buffer.concat([lengthPrefix(b.length, 0x80), b]));
const rlpList = (items) => {
  const body = Buffer.concat(items);
  return Buffer.concat([lengthPrefix(body.length, 0xc0), body]);
};

const validators = JSON.parse(readFileSync(validatorsFile, 'utf8'));
if (!Array.isArray(validators) || validators.length === 0) fail(`${validatorsFile}: want a JSON array of addresses`);
const seen = new Set();
for (const a of validators) {
  if (typeof a !== 'string' || !/^0x[0-9a-fA-F]{40}$/.test(a)) fail(`not an address: ${JSON.stringify(a)}`);
  if (seen.has(a.toLowerCase())) fail(`duplicate validator ${a}`);
  seen.add(a.toLowerCase());
}
// QBFT tolerates f faulty validators out of 3f + 1; fewer than 4 tolerate none.
if (validators.length < 4) console.error(`make-genesis: warning: ${validators.length} validators tolerate no fault`);

const extra = rlpList([
  rlpBytes(Buffer.alloc(32)),
  rlpList(validators.map((a) => rlpBytes(Buffer.from(a.slice(2), 'hex')))),
  rlpList([]),
  rlpBytes(Buffer.alloc(0)),
  rlpList([]),
]);
const genesis = JSON.parse(readFileSync(genesisFile, 'utf8'));
genesis.extraData = '0x' + extra.toString('hex');
writeFileSync(genesisFile, JSON.stringify(genesis, null, 2) + '\n');
console.log(`make-genesis: ${genesisFile}: extraData with ${validators.length} validators`);
