/**
 * `ensemble user add|list|remove` as an operator runs it: on the data file while the server is
 * stopped, through the server's API while it runs; a generated password is printed once (to the
 * terminal, never stdout); the first start without users creates `admin@localhost` and prints its
 * password once; the users created log in.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { ADMIN_TOKEN, removeDir, tempDir } from './helpers/server.js';
import { CLI, killStarted, startProcess } from './helpers/process.js';
import { login } from './helpers/auth.js';

after(killStarted);

function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: { ...process.env, ENSEMBLE_USER_PASSWORD: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('user add/list/remove on a stopped server\'s file and through a running one', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  const data = join(dir, 'ensemble.duckdb');
  try {
    const added = await cli(['user', 'add', '--email', 'Owner@Shop.example', '--role', 'admin', '--name', 'Owner', '--data', data], { ENSEMBLE_USER_PASSWORD: 'owner-passphrase-2026' });
    assert.equal(added.code, 0, added.stderr);
    const owner = JSON.parse(added.stdout) as { id: string; email: string; role: string };
    assert.deepEqual([owner.email, owner.role], ['owner@shop.example', 'admin']);
    assert.ok(!added.stdout.includes('owner-passphrase-2026') && !added.stderr.includes('owner-passphrase-2026'));

    // No password given and no terminal: one is generated and shown once, on stderr only.
    const gen = await cli(['user', 'add', '--email', 'dpo@shop.example', '--role', 'dpo', '--data', data]);
    assert.equal(gen.code, 0, gen.stderr);
    const generated = /shown only this once:\n {2}(\S+)/.exec(gen.stderr)?.[1];
    assert.ok(generated && generated.length >= 20, gen.stderr);
    assert.ok(!gen.stdout.includes(generated));

    assert.equal((await cli(['user', 'add', '--email', 'x@shop.example', '--role', 'owner', '--data', data])).code, 2, 'an unknown role is a usage error');
    assert.equal((await cli(['user', 'add', '--email', 'x@shop.example', '--role', 'viewer', '--data', data], { ENSEMBLE_USER_PASSWORD: 'short' })).code, 2);
    const dup = await cli(['user', 'add', '--email', 'owner@shop.example', '--role', 'viewer', '--data', data], { ENSEMBLE_USER_PASSWORD: 'another-long-password' });
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /already exists/);

    const list = await cli(['user', 'list', '--data', data]);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split('\t')[3]), ['owner@shop.example', 'dpo@shop.example']);

    // Users exist: the first start creates no admin@localhost. The server holds the file now.
    const server = await startProcess(['--data', data]);
    assert.doesNotMatch(server.stderr(), /admin@localhost/);
    assert.equal((await login(server.url, 'owner@shop.example', 'owner-passphrase-2026')).status, 200);
    assert.equal((await login(server.url, 'dpo@shop.example', generated)).status, 200);

    const env = { ENSEMBLE_URL: server.url, ENSEMBLE_ADMIN_TOKEN: ADMIN_TOKEN };
    const refused = await cli(['user', 'list', '--data', data], { ENSEMBLE_URL: server.url, ENSEMBLE_ADMIN_TOKEN: '' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /ENSEMBLE_ADMIN_TOKEN/);
    const viaApi = await cli(['user', 'add', '--email', 'mia@shop.example', '--role', 'marketer', '--data', data], { ...env, ENSEMBLE_USER_PASSWORD: 'marketer-passphrase' });
    assert.equal(viaApi.code, 0, viaApi.stderr);
    assert.equal((await login(server.url, 'mia@shop.example', 'marketer-passphrase')).status, 200);
    const removed = await cli(['user', 'remove', '--email', 'mia@shop.example', '--data', data], env);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await login(server.url, 'mia@shop.example', 'marketer-passphrase')).status, 401);
    server.child.kill('SIGTERM');
    await server.exited;

    // Stopped again: the file is free, and the removal is there.
    const after = await cli(['user', 'list', '--data', data]);
    assert.ok(!after.stdout.includes('mia@shop.example'));
  } finally {
    removeDir(dir);
  }
});

test('the first start without users creates admin@localhost and prints its password once', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const data = join(dir, 'ensemble.duckdb');
  try {
    const first = await startProcess(['--data', data], {}, /password: \S+/);
    const password = /email: admin@localhost {3}password: (\S+)/.exec(first.stderr())?.[1];
    assert.ok(password, first.stderr());
    assert.ok(!first.stdout().includes(password), 'the password is not in the logs');
    const r = await login(first.url, 'admin@localhost', password);
    assert.deepEqual([r.status, r.body.user?.role], [200, 'admin']);
    first.child.kill('SIGTERM');
    await first.exited;
    const second = await startProcess(['--data', data]);
    assert.doesNotMatch(second.stderr(), /admin@localhost/, 'printed only the first time');
    second.child.kill('SIGTERM');
    await second.exited;
  } finally {
    removeDir(dir);
  }
});
