// Validates an EPCIS JSON document against GS1's JSON Schema with ajv (draft-07,
// formats asserted by ajv-formats). Usage: node epcis_validate.mjs SCHEMA DOCUMENT
// Prints "valid" and exits 0, or prints the errors and exits 1.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'deploy', 'package.json'));
const Ajv = require('ajv');
const addFormats = require('ajv-formats');

const [schemaPath, docPath] = process.argv.slice(2);
const schema = JSON.parse(readFileSync(schemaPath, 'utf8'));
const doc = JSON.parse(readFileSync(docPath, 'utf8'));
const ajv = new (Ajv.default ?? Ajv)({ allErrors: true, strict: false });
(addFormats.default ?? addFormats)(ajv);
const validate = ajv.compile(schema);
if (validate(doc)) {
  console.log('valid');
} else {
  console.log(JSON.stringify(validate.errors, null, 2));
  process.exit(1);
}
