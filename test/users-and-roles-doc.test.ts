/** The role matrix in docs/users-and-roles.md is the one the server enforces (src/auth/roles.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MATRIX, ROLES } from '../src/auth/roles.js';

test('the documented role matrix equals the enforced one, row for row', () => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/users-and-roles.md', import.meta.url)), 'utf8');
  const header = doc.split('\n').find((l) => l.startsWith('| permission |'));
  assert.equal(header, `| permission | ${ROLES.join(' | ')} |`);
  const rows = doc.split('\n').filter((l) => /^\| `[a-z-]+\.[a-z-]+` \|/.test(l));
  const documented = Object.fromEntries(rows.map((l) => {
    const cells = l.split('|').slice(1, -1).map((c) => c.trim());
    return [(cells[0] ?? '').replace(/`/g, ''), ROLES.filter((_r, i) => cells[i + 1] === '✓')];
  }));
  assert.deepEqual(documented, Object.fromEntries(Object.entries(MATRIX).map(([p, roles]) => [p, ROLES.filter((r) => (roles as readonly string[]).includes(r))])));
});
