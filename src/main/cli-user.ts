/**
 * `ensemble user ...`: console users from a terminal — the first admin included.
 *
 *   ensemble user add --email <e> --role <admin|dpo|marketer|analyst|viewer> [--name <n>] [--locale en|fr]
 *   ensemble user list
 *   ensemble user remove --email <e>
 *
 * The password comes from ENSEMBLE_USER_PASSWORD, else is asked on a terminal (not echoed), else
 * is generated and printed once. With the server stopped the command opens the data file itself
 * (`--data`, ENSEMBLE_DATA); while the server runs it holds the file, so the command goes
 * through its API with ENSEMBLE_ADMIN_TOKEN (`--url`, ENSEMBLE_URL).
 */
import { parseArgs } from 'node:util';
import { Database } from '../storage/duckdb/database.js';
import { DuckDbUserStore } from '../storage/duckdb/user-store.js';
import { UserService, type User } from '../auth/users.js';
import { SessionService } from '../auth/sessions.js';
import { generatePassword, passwordProblem } from '../auth/passwords.js';
import { isRole } from '../auth/roles.js';

export const USER_USAGE = `Usage: ensemble user add --email <email> --role <admin|dpo|marketer|analyst|viewer> [--name <name>] [--locale en|fr]
       ensemble user list
       ensemble user remove --email <email>
  Options: --data <file> (server stopped; default ENSEMBLE_DATA or ./data/ensemble.duckdb), --url <server> (server running;
  default ENSEMBLE_URL or http://127.0.0.1:8080, with ENSEMBLE_ADMIN_TOKEN). The password comes from ENSEMBLE_USER_PASSWORD,
  a prompt on a terminal, or is generated and printed once.`;

/** What the command does, whichever way it reaches the users. */
interface Users {
  add(input: { email: string; name?: string; role: string; password: string; locale?: 'en' | 'fr' }): Promise<User>;
  list(): Promise<User[]>;
  remove(email: string): Promise<void>;
  close(): Promise<void>;
}

export async function userCommand(argv: string[], env: NodeJS.ProcessEnv, out: (s: string) => void, err: (s: string) => void, ask: (q: string) => Promise<string | null> = askHidden): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { email: { type: 'string' }, role: { type: 'string' }, name: { type: 'string' }, locale: { type: 'string' }, data: { type: 'string' }, url: { type: 'string' } },
  });
  const action = positionals[0];
  if (action !== 'add' && action !== 'list' && action !== 'remove') {
    err(USER_USAGE);
    return 2;
  }
  if ((action === 'add' && (!values.email || !isRole(values.role))) || (action === 'remove' && !values.email) || (values.locale !== undefined && values.locale !== 'en' && values.locale !== 'fr')) {
    err(USER_USAGE);
    return 2;
  }
  let password = '';
  let generated = false;
  if (action === 'add') {
    const given = env.ENSEMBLE_USER_PASSWORD ?? (await ask('Password for the new user (at least 12 characters): '));
    if (given === null || given === '') {
      password = generatePassword();
      generated = true;
    } else password = given;
    const problem = passwordProblem(password);
    if (problem) {
      err(problem);
      return 2;
    }
  }
  let users: Users;
  try {
    users = await openUsers(values.data ?? env.ENSEMBLE_DATA ?? './data/ensemble.duckdb', (values.url ?? env.ENSEMBLE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, ''), env.ENSEMBLE_ADMIN_TOKEN);
  } catch (e) {
    err((e as Error).message);
    return 1;
  }
  try {
    if (action === 'add') {
      const u = await users.add({ email: values.email as string, role: values.role as string, password, ...(values.name ? { name: values.name } : {}), ...(values.locale ? { locale: values.locale as 'en' | 'fr' } : {}) });
      out(JSON.stringify(u));
      if (generated) {
        err(`A password was generated for ${u.email}. It is shown only this once:`);
        err(`  ${password}`);
      }
    } else if (action === 'list') {
      for (const u of await users.list()) out(`${u.id}\t${u.role}\t${u.locale}\t${u.email}\t${u.name}`);
    } else {
      await users.remove(values.email as string);
      out(`Removed ${values.email as string}; their sessions are ended.`);
    }
    return 0;
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 1;
  } finally {
    await users.close();
  }
}

/** The data file when it is free; the running server's API when the server holds it. */
async function openUsers(dataPath: string, url: string, token: string | undefined): Promise<Users> {
  let db: Database;
  try {
    db = await Database.open(dataPath);
  } catch (e) {
    if (!/lock/i.test((e as Error).message)) throw e;
    if (!token) throw new Error('The server is running and holds the data file: set ENSEMBLE_ADMIN_TOKEN to manage users through it.');
    return httpUsers(url, token);
  }
  const store = await DuckDbUserStore.open(db);
  const sessions = await SessionService.open(store, { now: Date.now, maxAgeMs: Number.MAX_SAFE_INTEGER, idleMs: Number.MAX_SAFE_INTEGER });
  const service = await UserService.open(store, { now: Date.now, onRevoke: (id) => sessions.revokeUser(id) });
  return {
    add: (input) => service.create({ ...input, role: input.role as User['role'] }),
    list: async () => service.list(),
    remove: async (email) => {
      const u = service.findByEmail(email);
      if (!u) throw new Error(`No user ${email}.`);
      await service.remove(u.id);
    },
    close: () => db.close(),
  };
}

function httpUsers(base: string, token: string): Users {
  const call = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const res = await fetch(base + path, {
      method, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text;
      try { message = (JSON.parse(text) as { error: { message: string } }).error.message; } catch { /* not JSON */ }
      throw new Error(`${res.status}: ${message}`);
    }
    return text ? (JSON.parse(text) as unknown) : null;
  };
  const list = async () => ((await call('GET', '/api/users')) as { users: User[] }).users;
  return {
    add: async (input) => (await call('POST', '/api/users', input)) as User,
    list,
    remove: async (email) => {
      const u = (await list()).find((x) => x.email === email.trim().toLowerCase());
      if (!u) throw new Error(`No user ${email}.`);
      await call('DELETE', `/api/users/${encodeURIComponent(u.id)}`);
    },
    close: async () => undefined,
  };
}

/** Reads a line without echoing it, when stdin is a terminal; null otherwise. */
function askHidden(question: string): Promise<string | null> {
  const stdin = process.stdin;
  if (!stdin.isTTY) return Promise.resolve(null);
  process.stderr.write(question);
  return new Promise((resolve) => {
    let text = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(text);
          return;
        }
        if (ch === '\u0003') process.exit(130);
        if (ch === '\u007f') text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on('data', onData);
  });
}
