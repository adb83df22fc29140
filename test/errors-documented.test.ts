/** Every error code in the catalogue is documented in docs/errors.md, and the doc names no code that does not exist. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERRORS } from '../src/protocol/errors.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/errors.md', import.meta.url)), 'utf8');

test('every catalogue code has a row in docs/errors.md with its HTTP status', () => {
  for (const [code, { status }] of Object.entries(ERRORS)) {
    const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``));
    assert.ok(row, `${code} is not documented in docs/errors.md`);
    assert.match(row, new RegExp(`\\| ${status} \\|`), `${code}: documented status differs from ${status}`);
  }
});

test('docs/errors.md documents no code outside the catalogue', () => {
  const documented = [...doc.matchAll(/`(ENSEMBLE_ERR_[A-Z_]+)`/g)].map((m) => m[1] as string);
  for (const code of documented) assert.ok(code in ERRORS, `${code} is documented but does not exist`);
});
