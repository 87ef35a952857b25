// Compiles TraceAnchor.sol with the solc-js pinned in deploy/package.json, through the
// standard-JSON interface so that the settings below are explicit and the bytecode does
// not depend on where the repository is checked out (the source is named by its file name
// only, and the metadata hash is left out of the bytecode).
//
//   node compile.js SOLC_MODULE_DIR SOURCE OUT_DIR
// writes OUT_DIR/TraceAnchor.bin (creation bytecode, hex), OUT_DIR/TraceAnchor.abi (JSON) and
// OUT_DIR/TraceAnchor.version (the compiler's version).
'use strict';
const fs = require('fs');
const path = require('path');
const [solcDir, source, outDir] = process.argv.slice(2);
const solc = require(path.resolve(solcDir));
const input = {
  language: 'Solidity',
  sources: { 'TraceAnchor.sol': { content: fs.readFileSync(source, 'utf8') } },
  settings: {
    optimizer: { enabled: true, runs: 200 },
    // paris: no PUSH0 and nothing newer, so the bytecode runs on Besu/Quorum networks that
    // have not taken Shanghai as well as on anvil.
    evmVersion: 'paris',
    metadata: { bytecodeHash: 'none' },
    outputSelection: { 'TraceAnchor.sol': { TraceAnchor: ['abi', 'evm.bytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) process.stderr.write(e.formattedMessage + '\n');
if (errors.length) process.exit(1);
const c = output.contracts['TraceAnchor.sol'].TraceAnchor;
fs.mkdirSync(outDir, { recursive: true });
fs.writeFileSync(path.join(outDir, 'TraceAnchor.bin'), c.evm.bytecode.object + '\n');
fs.writeFileSync(path.join(outDir, 'TraceAnchor.abi'), JSON.stringify(c.abi) + '\n');
fs.writeFileSync(path.join(outDir, 'TraceAnchor.version'), solc.version() + '\n');
process.stderr.write(`TraceAnchor: ${c.evm.bytecode.object.length / 2} bytes with solc ${solc.version()}\n`);
