/**
 * Console users: who may log in, with which role and language. Kept in memory (a handful of
 * rows) and written through to the store before an answer.
 *
 * Privacy: a user's email and name are personal data of the brand's staff, kept for access
 * control only, for as long as the account exists; deleting the user deletes the row and every
 * session of theirs. The audit log names users by id only, never by email. Passwords exist only
 * as scrypt hashes (passwords.ts) and are never logged.
 *
 * @example
 *   const users = await UserService.open(store, { now: () => Date.now(), onRevoke: (id) => sessions.revokeUser(id) });
 *   const u = await users.create({ email: 'dpo@shop.example', name: 'Dana', role: 'dpo', password: 'a long passphrase', locale: 'fr' });
 *   await users.authenticate('DPO@shop.example', 'a long passphrase'); // → u
 */
import { EnsembleError } from '../protocol/errors.js';
import { newId } from '../platform/ids.js';
import type { StoredUser, UserStore } from '../storage/duckdb/user-store.js';
import { decoyHash, generatePassword, hashPassword, needsRehash, passwordProblem, verifyPassword } from './passwords.js';
import { isRole, type Role } from './roles.js';

export const LOCALES = ['en', 'fr'] as const;
export type Locale = (typeof LOCALES)[number];

/** A user as the API shows them: never the password hash. */
export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  locale: Locale;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  email: string;
  name?: string;
  role: Role;
  password: string;
  locale?: Locale;
}

export interface UserChange {
  name?: string;
  role?: Role;
  password?: string;
  locale?: Locale;
}

export interface UserServiceOptions {
  now: () => number;
  /** Called after a user is deleted or their password changed: their sessions must end. */
  onRevoke: (userId: string) => Promise<void>;
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,255}$/;

export function normaliseEmail(email: string): string {
  return email.trim().normalize('NFC').toLowerCase();
}

export class UserService {
  private readonly byId = new Map<string, StoredUser>();

  private constructor(private readonly store: UserStore, private readonly opts: UserServiceOptions) {}

  static async open(store: UserStore, opts: UserServiceOptions): Promise<UserService> {
    const s = new UserService(store, opts);
    for (const u of await store.listUsers()) s.byId.set(u.id, u);
    return s;
  }

  get size(): number {
    return this.byId.size;
  }

  list(): User[] {
    return [...this.byId.values()].map(view);
  }

  get(id: string): User | undefined {
    const u = this.byId.get(id);
    return u ? view(u) : undefined;
  }

  require(id: string): User {
    const u = this.get(id);
    if (!u) throw new EnsembleError('ENSEMBLE_ERR_USER_NOT_FOUND');
    return u;
  }

  findByEmail(email: string): User | undefined {
    const e = normaliseEmail(email);
    for (const u of this.byId.values()) if (u.email === e) return view(u);
    return undefined;
  }

  async create(input: NewUser): Promise<User> {
    const email = normaliseEmail(input.email);
    if (!EMAIL.test(email)) throw new EnsembleError('ENSEMBLE_ERR_USER_INVALID', 'The email is not an email address.');
    if (!isRole(input.role)) throw new EnsembleError('ENSEMBLE_ERR_USER_INVALID', 'Unknown role.');
    const problem = passwordProblem(input.password);
    if (problem) throw new EnsembleError('ENSEMBLE_ERR_USER_INVALID', problem);
    if (this.findByEmail(email)) throw new EnsembleError('ENSEMBLE_ERR_USER_EXISTS');
    const now = this.opts.now();
    const u: StoredUser = {
      id: newId('usr'), email, name: (input.name ?? '').trim() || email.split('@')[0] || email, role: input.role, locale: input.locale ?? 'en',
      passwordHash: await hashPassword(input.password), createdAt: now, updatedAt: now,
    };
    // Checked again after the (slow) hash: two concurrent creations of one email.
    if (this.findByEmail(email)) throw new EnsembleError('ENSEMBLE_ERR_USER_EXISTS');
    await this.store.saveUser(u);
    this.byId.set(u.id, u);
    return view(u);
  }

  async update(id: string, change: UserChange): Promise<User> {
    const current = this.byId.get(id);
    if (!current) throw new EnsembleError('ENSEMBLE_ERR_USER_NOT_FOUND');
    if (change.role !== undefined && !isRole(change.role)) throw new EnsembleError('ENSEMBLE_ERR_USER_INVALID', 'Unknown role.');
    if (change.role !== undefined && change.role !== 'admin' && current.role === 'admin' && this.admins() === 1) throw new EnsembleError('ENSEMBLE_ERR_LAST_ADMIN');
    if (change.password !== undefined) {
      const problem = passwordProblem(change.password);
      if (problem) throw new EnsembleError('ENSEMBLE_ERR_USER_INVALID', problem);
    }
    const next: StoredUser = {
      ...current,
      ...(change.name !== undefined ? { name: change.name.trim() || current.name } : {}),
      ...(change.role !== undefined ? { role: change.role } : {}),
      ...(change.locale !== undefined ? { locale: change.locale } : {}),
      ...(change.password !== undefined ? { passwordHash: await hashPassword(change.password) } : {}),
      updatedAt: this.opts.now(),
    };
    await this.store.saveUser(next);
    this.byId.set(id, next);
    if (change.password !== undefined) await this.opts.onRevoke(id);
    return view(next);
  }

  async remove(id: string): Promise<void> {
    const current = this.byId.get(id);
    if (!current) throw new EnsembleError('ENSEMBLE_ERR_USER_NOT_FOUND');
    if (current.role === 'admin' && this.admins() === 1) throw new EnsembleError('ENSEMBLE_ERR_LAST_ADMIN');
    await this.store.deleteUser(id);
    this.byId.delete(id);
    await this.opts.onRevoke(id);
  }

  /**
   * The user whose email and password these are, or null. An unknown email costs a hash
   * verification too, so timing does not tell which emails have accounts.
   */
  async authenticate(email: string, password: string): Promise<User | null> {
    const e = normaliseEmail(email);
    const u = [...this.byId.values()].find((x) => x.email === e);
    if (!u) {
      await verifyPassword(password, decoyHash());
      return null;
    }
    if (!(await verifyPassword(password, u.passwordHash))) return null;
    if (needsRehash(u.passwordHash)) {
      const upgraded = { ...u, passwordHash: await hashPassword(password) };
      await this.store.saveUser(upgraded);
      this.byId.set(u.id, upgraded);
    }
    return view(u);
  }

  /**
   * On first start (no user at all): an admin `admin@localhost` with a generated password,
   * returned to be printed once. Returns null when users exist.
   */
  async ensureFirstAdmin(): Promise<{ email: string; password: string } | null> {
    if (this.byId.size > 0) return null;
    const password = generatePassword();
    await this.create({ email: 'admin@localhost', name: 'Admin', role: 'admin', password, locale: 'en' });
    return { email: 'admin@localhost', password };
  }

  private admins(): number {
    let n = 0;
    for (const u of this.byId.values()) if (u.role === 'admin') n++;
    return n;
  }
}

function view(u: StoredUser): User {
  return {
    id: u.id, email: u.email, name: u.name, role: u.role, locale: (LOCALES as readonly string[]).includes(u.locale) ? (u.locale as Locale) : 'en',
    createdAt: new Date(u.createdAt).toISOString(), updatedAt: new Date(u.updatedAt).toISOString(),
  };
}
