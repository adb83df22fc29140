/**
 * Where the master key comes from. Production should hand it in from a secret store
 * (`ENSEMBLE_MASTER_KEY`); a first start without one generates a key file so the quickstart
 * works, readable by its owner only.
 *
 * The one rule here: an existing key file is never replaced. Every sealed identifier and every
 * wrapped profile key depends on it, so a new key would silently make all of them unreadable;
 * a corrupt file stops the start instead, for a human to look at.
 *
 *   const { key, source, warning } = loadMasterKey({ configured: process.env.ENSEMBLE_MASTER_KEY, keyFile: './data/master.key' });
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { generateMasterKeyText, parseMasterKey } from '../platform/crypto.js';

export interface LoadedMasterKey {
  key: Buffer;
  source: 'config' | 'file' | 'generated';
  /** Something an operator should fix, e.g. a key file readable by other users. */
  warning?: string;
}

export function loadMasterKey(opts: { configured?: string | undefined; keyFile: string }): LoadedMasterKey {
  const { configured, keyFile } = opts;
  if (configured !== undefined) {
    // An empty setting is an error, not "unset": falling back to a generated key would
    // encrypt new data under a key the operator does not know about.
    const key = parseConfigured(configured);
    const other = readQuietly(keyFile);
    if (other !== undefined && !safeParse(other)?.equals(key)) {
      return { key, source: 'config', warning: `the configured master key differs from the key file ${keyFile}; data written under that file's key cannot be read with this one` };
    }
    return { key, source: 'config' };
  }
  const existing = readIfPresent(keyFile);
  if (existing !== undefined) return fromFile(keyFile, existing);
  return generate(keyFile);
}

function parseConfigured(text: string): Buffer {
  try {
    return parseMasterKey(text);
  } catch (err) {
    throw new Error(`ENSEMBLE_MASTER_KEY is not usable: ${(err as Error).message}`);
  }
}

function safeParse(text: string): Buffer | undefined {
  try {
    return parseMasterKey(text);
  } catch {
    return undefined;
  }
}

/** The key file for a comparison only: an unreadable one must not stop a configured start. */
function readQuietly(path: string): string | undefined {
  try {
    return readIfPresent(path);
  } catch {
    return undefined;
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return fs.readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`cannot read the master key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
}

function fromFile(path: string, text: string): LoadedMasterKey {
  let key: Buffer;
  try {
    key = parseMasterKey(text);
  } catch (err) {
    throw new Error(`the master key file ${path} is corrupt and was left untouched (replacing it would make all encrypted data unreadable): ${(err as Error).message}`);
  }
  const warning = permissionWarning(path);
  return warning ? { key, source: 'file', warning } : { key, source: 'file' };
}

function permissionWarning(path: string): string | undefined {
  if (process.platform === 'win32') return undefined;
  const mode = fs.statSync(path).mode & 0o777;
  if ((mode & 0o077) === 0) return undefined;
  return `the master key file ${path} is readable by other users (mode ${mode.toString(8).padStart(4, '0')}); restrict it with chmod 600`;
}

/**
 * Writes a fresh key beside the data: a fully written, fsynced temp file is linked into place, so
 * a crash leaves either no key file or a whole one, and `link` (unlike `rename`) fails rather than
 * replace a key file that another process created in the meantime.
 */
function generate(path: string): LoadedMasterKey {
  const dir = dirname(path);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const text = generateMasterKeyText();
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.fchmodSync(fd, 0o600); // the umask may have narrowed it further, never widened: make it exact
    fs.writeFileSync(fd, `${text}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    try {
      fs.linkSync(tmp, path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        const winner = readIfPresent(path);
        if (winner !== undefined) return fromFile(path, winner);
      }
      // File systems without hard links: rename, after checking that no key appeared.
      if (fs.existsSync(path)) throw new Error(`the master key file ${path} appeared while generating one; start again`);
      fs.renameSync(tmp, path);
    }
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  syncDir(dir);
  return { key: parseMasterKey(text), source: 'generated' };
}

function syncDir(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = fs.openSync(dir, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
