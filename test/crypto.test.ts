/**
 * Encryption of personal identifiers: the primitives (sealing bound to its context, keyed
 * lookup hashes, master-key parsing), the key ring (pending keys, crypto-shredding, the DEK
 * cache) and where the master key comes from (generated once, never overwritten).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { deriveKey, generateMasterKeyText, lookupHash, newDataKey, open, parseMasterKey, seal } from '../src/platform/crypto.js';
import { KeyRing } from '../src/privacy/key-ring.js';
import { loadMasterKey } from '../src/privacy/master-key.js';

const master = Buffer.alloc(32, 7);

test('seal/open: round trip, and a fresh IV each time', () => {
  const key = newDataKey();
  const a = seal(key, 'ada@example.com', 'email:h1');
  const b = seal(key, 'ada@example.com', 'email:h1');
  assert.match(a, /^v1\.[A-Za-z0-9_-]+$/);
  assert.notEqual(a, b);
  assert.equal(open(key, a, 'email:h1').toString('utf8'), 'ada@example.com');
  assert.deepEqual(open(key, seal(key, Buffer.from([0, 255, 1]), ''), ''), Buffer.from([0, 255, 1]));
  assert.equal(open(key, seal(key, '', 'x'), 'x').length, 0);
});

test('seal/open: wrong context, wrong key, any flipped bit, bad format or version all fail alike', () => {
  const key = newDataKey();
  const token = seal(key, 'ada@example.com', 'email:h1');
  const fails = (k: Buffer, t: string, aad: string): void => assert.throws(() => open(k, t, aad), (err: Error) => err.message === 'decryption failed');
  fails(key, token, 'email:h2');
  fails(key, token, '');
  fails(newDataKey(), token, 'email:h1');
  const raw = Buffer.from(token.slice(3), 'base64url');
  for (let i = 0; i < raw.length; i++) {
    const bad = Buffer.from(raw);
    bad[i] = (bad[i] ?? 0) ^ 0x01;
    fails(key, `v1.${bad.toString('base64url')}`, 'email:h1');
  }
  fails(key, `v2.${token.slice(3)}`, 'email:h1');
  fails(key, token.slice(3), 'email:h1');
  fails(key, `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`, 'email:h1');
  fails(key, `${token}=`, 'email:h1');
  fails(key, 'v1.', 'email:h1');
  fails(key, 'v1.AAAA', 'email:h1');
  fails(key, '', 'email:h1');
});

test('seal/open: any unicode string round-trips under its own context (property)', () => {
  const key = newDataKey();
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary', maxLength: 40 }), (value, aad) => {
    assert.equal(open(key, seal(key, value, aad), aad).toString('utf8'), value);
  }), { numRuns: 300 });
});

test('deriveKey: one key per purpose and workspace, stable for the same input', () => {
  const keys = [deriveKey(master, 'kek', 'ws1'), deriveKey(master, 'lookup', 'ws1'), deriveKey(master, 'kek', 'ws2'), deriveKey(Buffer.alloc(32, 8), 'kek', 'ws1')];
  for (const k of keys) assert.equal(k.length, 32);
  assert.equal(new Set(keys.map((k) => k.toString('hex'))).size, keys.length);
  assert.deepEqual(deriveKey(master, 'kek', 'ws1'), keys[0]);
  assert.throws(() => deriveKey(Buffer.alloc(16), 'kek', 'ws1'));
});

test('lookupHash: deterministic in a workspace, different across workspaces and types', () => {
  const ws1 = deriveKey(master, 'lookup', 'ws1');
  const ws2 = deriveKey(master, 'lookup', 'ws2');
  const h = lookupHash(ws1, 'email', 'ada@example.com');
  assert.match(h, /^[A-Za-z0-9_-]{43}$/);
  assert.equal(lookupHash(ws1, 'email', 'ada@example.com'), h);
  assert.notEqual(lookupHash(ws2, 'email', 'ada@example.com'), h);
  assert.notEqual(lookupHash(ws1, 'user_id', 'ada@example.com'), h);
  assert.notEqual(lookupHash(ws1, 'email', 'bob@example.com'), h);
  // The separator keeps the type/value boundary: ("ab","c") and ("a","bc") differ.
  assert.notEqual(lookupHash(ws1, 'ab', 'c'), lookupHash(ws1, 'a', 'bc'));
  const ring = new KeyRing(master);
  assert.equal(ring.lookupHash('ws1', 'email', 'ada@example.com'), h);
  assert.notEqual(ring.lookupHash('ws2', 'email', 'ada@example.com'), h);
});

test('parseMasterKey: hex, base64 and base64url of 32 bytes; anything else is refused without echoing it', () => {
  const bytes = randomBytes(32);
  assert.deepEqual(parseMasterKey(bytes.toString('hex')), bytes);
  assert.deepEqual(parseMasterKey(bytes.toString('hex').toUpperCase()), bytes);
  assert.deepEqual(parseMasterKey(bytes.toString('base64')), bytes);
  assert.deepEqual(parseMasterKey(bytes.toString('base64url')), bytes);
  assert.deepEqual(parseMasterKey(`  ${bytes.toString('base64url')}\n`), bytes);
  assert.equal(parseMasterKey(generateMasterKeyText()).length, 32);
  const bad = [
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('base64url'),
    randomBytes(16).toString('hex'),
    `${bytes.toString('hex')}ab`,
    bytes.toString('hex').slice(0, 63),
    'correct horse battery staple',
    `${bytes.toString('base64')}!`,
    '',
  ];
  for (const text of bad) {
    assert.throws(() => parseMasterKey(text), (err: Error) => {
      assert.match(err.message, /master key/);
      if (text.length > 0) assert.ok(!err.message.includes(text.trim()), 'the message must not echo the key');
      return true;
    });
  }
});

test('KeyRing: encrypt → destroy → decrypt reads as absent; unknown profiles too', () => {
  const ring = new KeyRing(master);
  ring.load('ws', 'p1', ring.createProfileKey('ws', 'p1'));
  const token = ring.encrypt('ws', 'p1', 'ada@example.com', 'email:h');
  assert.equal(ring.decrypt('ws', 'p1', token, 'email:h'), 'ada@example.com');
  assert.equal(ring.size, 1);
  ring.destroy('ws', 'p1');
  assert.equal(ring.has('ws', 'p1'), false);
  assert.equal(ring.size, 0);
  assert.equal(ring.decrypt('ws', 'p1', token, 'email:h'), null);
  assert.equal(ring.decrypt('ws', 'nobody', token, 'email:h'), null);
  // Sealing again gives the profile a new key (created lazily, pending until loaded): the
  // shredded value stays unreadable under it.
  ring.encrypt('ws', 'p1', 'x', 'email:h');
  assert.deepEqual(ring.pendingKeys().map((k) => k.profileId), ['p1']);
  assert.throws(() => ring.decrypt('ws', 'p1', token, 'email:h'), /decryption failed/);
});

test('KeyRing: a profile gets its key when it first seals something; loadPending makes keys ordinary', () => {
  const ring = new KeyRing(master);
  assert.equal(ring.has('ws', 'p9'), false);
  const token = ring.encrypt('ws', 'p9', 'bob@example.com', 'email:h');
  const [pending] = ring.pendingKeys();
  assert.equal(pending?.profileId, 'p9');
  ring.loadPending();
  assert.deepEqual(ring.pendingKeys(), []);
  assert.equal(ring.size, 1);
  const again = new KeyRing(master);
  again.load('ws', 'p9', pending?.wrapped ?? '');
  assert.equal(again.decrypt('ws', 'p9', token, 'email:h'), 'bob@example.com', 'the persisted wrapped key opens it after a restart');
});

test('KeyRing: a value copied to another profile, type or workspace does not open; tampering throws', () => {
  const ring = new KeyRing(master);
  for (const [ws, p] of [['ws', 'p1'], ['ws', 'p2'], ['ws2', 'p1']] as const) ring.load(ws, p, ring.createProfileKey(ws, p));
  const token = ring.encrypt('ws', 'p1', 'ada@example.com', 'email:h');
  assert.throws(() => ring.decrypt('ws', 'p2', token, 'email:h'), /decryption failed/);
  assert.throws(() => ring.decrypt('ws2', 'p1', token, 'email:h'), /decryption failed/);
  assert.throws(() => ring.decrypt('ws', 'p1', token, 'phone:h'), /decryption failed/);
  assert.throws(() => ring.decrypt('ws', 'p1', `${token.slice(0, 10)}${token[10] === 'A' ? 'B' : 'A'}${token.slice(11)}`, 'email:h'), /decryption failed/);
});

test('KeyRing: pending keys are usable before load, kept by load, gone after discardPending', () => {
  const ring = new KeyRing(master);
  const wrapped = ring.createProfileKey('ws', 'p1');
  assert.equal(ring.has('ws', 'p1'), true);
  assert.equal(ring.size, 0);
  assert.throws(() => ring.createProfileKey('ws', 'p1'), /already has a data key/);
  const token = ring.encrypt('ws', 'p1', 'ada@example.com', 'email:h');
  assert.equal(ring.decrypt('ws', 'p1', token, 'email:h'), 'ada@example.com');
  ring.load('ws', 'p1', wrapped);
  assert.equal(ring.size, 1);
  assert.equal(ring.decrypt('ws', 'p1', token, 'email:h'), 'ada@example.com');

  const lost = ring.createProfileKey('ws', 'p2');
  const lostToken = ring.encrypt('ws', 'p2', 'bob@example.com', 'email:h');
  ring.discardPending();
  assert.equal(ring.has('ws', 'p2'), false);
  assert.equal(ring.decrypt('ws', 'p2', lostToken, 'email:h'), null);
  assert.equal(ring.has('ws', 'p1'), true, 'loaded keys survive discardPending');
  assert.notEqual(ring.createProfileKey('ws', 'p2'), lost);
});

test('KeyRing: wrapped keys reload after a restart; a different master key is a clear error, not null', () => {
  const first = new KeyRing(master);
  const wrapped = first.createProfileKey('ws', 'p1');
  first.load('ws', 'p1', wrapped);
  const token = first.encrypt('ws', 'p1', 'ada@example.com', 'email:h');
  const restarted = new KeyRing(Buffer.from(master));
  restarted.load('ws', 'p1', wrapped);
  assert.equal(restarted.decrypt('ws', 'p1', token, 'email:h'), 'ada@example.com');
  const wrongMaster = new KeyRing(Buffer.alloc(32, 9));
  wrongMaster.load('ws', 'p1', wrapped);
  assert.throws(() => wrongMaster.decrypt('ws', 'p1', token, 'email:h'), /cannot be unwrapped/);
  // A wrapped key moved to another profile does not unwrap there.
  restarted.load('ws', 'p2', wrapped);
  assert.throws(() => restarted.decrypt('ws', 'p2', token, 'email:h'), /cannot be unwrapped/);
});

test('KeyRing: the DEK cache stays bounded and evicted keys are unwrapped again', () => {
  const ring = new KeyRing(master, { cacheSize: 3 });
  const tokens = new Map<string, string>();
  for (let i = 0; i < 20; i++) {
    const id = `p${i}`;
    ring.load('ws', id, ring.createProfileKey('ws', id));
    tokens.set(id, ring.encrypt('ws', id, `user${i}@example.com`, 'email:h'));
    assert.ok(ring.cachedKeys <= 3);
  }
  assert.equal(ring.size, 20);
  for (let round = 0; round < 2; round++) {
    for (const [id, token] of tokens) assert.equal(ring.decrypt('ws', id, token, 'email:h'), `user${id.slice(1)}@example.com`);
  }
  assert.equal(ring.cachedKeys, 3);
  const uncached = new KeyRing(master, { cacheSize: 0 });
  uncached.load('ws', 'p1', uncached.createProfileKey('ws', 'p1'));
  assert.equal(uncached.decrypt('ws', 'p1', uncached.encrypt('ws', 'p1', 'x', 'a'), 'a'), 'x');
  assert.equal(uncached.cachedKeys, 0);
});

function withTempDir(fn: (dir: string) => void): void {
  const dir = fs.mkdtempSync(join(os.tmpdir(), 'ensemble-test-'));
  try {
    fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const posix = process.platform !== 'win32';

test('loadMasterKey: generates a 0600 key file once, then reuses it', () => {
  withTempDir((dir) => {
    const keyFile = join(dir, 'nested', 'master.key');
    const first = loadMasterKey({ keyFile });
    assert.equal(first.source, 'generated');
    assert.equal(first.key.length, 32);
    if (posix) assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(join(dir, 'nested')), ['master.key'], 'no temp file left behind');
    const second = loadMasterKey({ keyFile, configured: undefined });
    assert.equal(second.source, 'file');
    assert.deepEqual(second.key, first.key);
    assert.equal(second.warning, undefined);
  });
});

test('loadMasterKey: the configured key wins; a differing key file is worth a warning', () => {
  withTempDir((dir) => {
    const keyFile = join(dir, 'master.key');
    const text = randomBytes(32).toString('hex');
    const configured = loadMasterKey({ configured: text, keyFile });
    assert.equal(configured.source, 'config');
    assert.deepEqual(configured.key, Buffer.from(text, 'hex'));
    assert.equal(configured.warning, undefined);
    assert.equal(fs.existsSync(keyFile), false, 'a configured key writes no file');
    const generated = loadMasterKey({ keyFile });
    const again = loadMasterKey({ configured: text, keyFile });
    assert.deepEqual(again.key, Buffer.from(text, 'hex'));
    assert.notDeepEqual(again.key, generated.key);
    assert.match(again.warning ?? '', /differs/);
    assert.throws(() => loadMasterKey({ configured: '', keyFile }), /ENSEMBLE_MASTER_KEY/);
    assert.throws(() => loadMasterKey({ configured: 'not-a-key', keyFile }), (err: Error) => !err.message.includes('not-a-key'));
  });
});

test('loadMasterKey: a corrupt key file throws and is left untouched', () => {
  withTempDir((dir) => {
    const keyFile = join(dir, 'master.key');
    fs.writeFileSync(keyFile, 'half-a-key\n', { mode: 0o600 });
    assert.throws(() => loadMasterKey({ keyFile }), /corrupt/);
    assert.equal(fs.readFileSync(keyFile, 'utf8'), 'half-a-key\n');
    fs.writeFileSync(keyFile, '');
    assert.throws(() => loadMasterKey({ keyFile }), /corrupt/);
    assert.equal(fs.readFileSync(keyFile, 'utf8'), '');
  });
});

test('loadMasterKey: a key file readable by others still loads, with a warning', { skip: !posix }, () => {
  withTempDir((dir) => {
    const keyFile = join(dir, 'master.key');
    const text = generateMasterKeyText();
    fs.writeFileSync(keyFile, `${text}\n`);
    fs.chmodSync(keyFile, 0o644);
    const loaded = loadMasterKey({ keyFile });
    assert.equal(loaded.source, 'file');
    assert.deepEqual(loaded.key, parseMasterKey(text));
    assert.match(loaded.warning ?? '', /readable by other users/);
  });
});
