/**
 * Property: whatever the cell text (delimiters, quotes, CR/LF, accents), a CSV written with
 * standard quoting in Latin-1 or UTF-8, with any of the supported delimiters, reads back as the
 * same rows — the delimiter detected from the header — with each row's reported line being the
 * line where it ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { readRows } from '../src/collect/import/row-readers.js';
import { removeDir, tempDir } from './helpers/server.js';

const cellChar = fc.constantFrom('a', 'Z', '9', ' ', ';', ',', '\t', '|', '"', '\n', 'é', 'à', 'ç', 'Ø', '-');
// Cells are trimmed when read: generate them without edge spaces.
const cell = fc.array(cellChar, { maxLength: 12 }).map((cs) => cs.join('').trim());
const quote = (v: string) => `"${v.replace(/"/g, '""')}"`;

test('CSV rows read back exactly, any delimiter and encoding', async () => {
  const dir = tempDir();
  let n = 0;
  try {
    await fc.assert(fc.asyncProperty(
      fc.constantFrom(';', ',', '\t', '|'), fc.constantFrom('utf-8', 'latin1') as fc.Arbitrary<'utf-8' | 'latin1'>,
      fc.array(fc.tuple(cell, cell, cell), { minLength: 1, maxLength: 8 }),
      async (sep, encoding, rows) => {
        const lines = [['col_a', 'col_b', 'col_c'].join(sep), ...rows.map((r) => r.map(quote).join(sep))];
        const file = join(dir, `f${n++}.csv`);
        writeFileSync(file, Buffer.from(lines.join('\n'), encoding === 'latin1' ? 'latin1' : 'utf8'));
        const got: Array<{ line: number; row: unknown }> = [];
        for await (const item of readRows({ format: 'csv', file, encoding }, async () => [])) {
          assert.ok('row' in item, JSON.stringify(item));
          got.push(item);
        }
        assert.deepEqual(got.map((g) => g.row), rows.map(([a, b, c]) => ({ col_a: a, col_b: b, col_c: c })));
        let line = 1;
        assert.deepEqual(got.map((g) => g.line), rows.map((r) => (line += 1 + r.join('').split('\n').length - 1)));
      },
    ), { numRuns: 150 });
  } finally {
    removeDir(dir);
  }
});
