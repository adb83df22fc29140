/**
 * Console users, sessions and API keys on DuckDB. Small tables, read into memory at start-up by
 * the auth services (src/auth/); every change is written through before it is answered.
 * Tokens are never stored, only their SHA-256 digests.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { all, inTransaction, type Database, type Row } from './database.js';
import type { Role } from '../../auth/roles.js';

export interface StoredUser {
  id: string;
  email: string;
  name: string;
  role: Role;
  locale: string;
  passwordHash: string;
  createdAt: number;
  updatedAt: number;
}

export interface StoredSession {
  tokenHash: string;
  userId: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

export interface StoredApiKey {
  id: string;
  name: string;
  role: Role;
  tokenHash: string;
  createdAt: number;
  /** Who created it: a user id or `admin-token`. */
  createdBy: string;
}

/** What the auth services need from a store (an in-memory one serves unit tests). */
export interface UserStore {
  listUsers(): Promise<StoredUser[]>;
  saveUser(u: StoredUser): Promise<void>;
  /** Deletes the user and every session of theirs, in one transaction. */
  deleteUser(id: string): Promise<void>;
  listSessions(): Promise<StoredSession[]>;
  insertSession(s: StoredSession): Promise<void>;
  touchSession(tokenHash: string, lastSeenAt: number): Promise<void>;
  deleteSessions(tokenHashes: readonly string[]): Promise<void>;
  listApiKeys(): Promise<StoredApiKey[]>;
  insertApiKey(k: StoredApiKey): Promise<void>;
  deleteApiKey(id: string): Promise<void>;
}

const big = (n: number) => BigInt(n);

export class DuckDbUserStore implements UserStore {
  private constructor(private readonly conn: DuckDBConnection) {}

  static async open(db: Database): Promise<DuckDbUserStore> {
    return new DuckDbUserStore(await db.connect());
  }

  async listUsers(): Promise<StoredUser[]> {
    const rows = await all(this.conn, 'SELECT * FROM users ORDER BY created_at, id');
    return rows.map(userOf);
  }

  async saveUser(u: StoredUser): Promise<void> {
    // An UPDATE, not INSERT OR REPLACE: the email is a unique key, and the row keeps it.
    const exists = await all(this.conn, 'SELECT 1 FROM users WHERE id = $1', [u.id]);
    if (exists.length > 0) {
      await this.conn.run('UPDATE users SET name = $2, role = $3, locale = $4, password_hash = $5, updated_at = $6 WHERE id = $1', [
        u.id, u.name, u.role, u.locale, u.passwordHash, big(u.updatedAt),
      ]);
    } else {
      await this.conn.run('INSERT INTO users VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        u.id, u.email, u.name, u.role, u.locale, u.passwordHash, big(u.createdAt), big(u.updatedAt),
      ]);
    }
  }

  async deleteUser(id: string): Promise<void> {
    await inTransaction(this.conn, async () => {
      await this.conn.run('DELETE FROM user_sessions WHERE user_id = $1', [id]);
      await this.conn.run('DELETE FROM users WHERE id = $1', [id]);
    });
  }

  async listSessions(): Promise<StoredSession[]> {
    const rows = await all(this.conn, 'SELECT * FROM user_sessions');
    return rows.map((r) => ({
      tokenHash: r.token_hash as string, userId: r.user_id as string, createdAt: Number(r.created_at),
      lastSeenAt: Number(r.last_seen_at), expiresAt: Number(r.expires_at),
    }));
  }

  async insertSession(s: StoredSession): Promise<void> {
    await this.conn.run('INSERT INTO user_sessions VALUES ($1, $2, $3, $4, $5)', [s.tokenHash, s.userId, big(s.createdAt), big(s.lastSeenAt), big(s.expiresAt)]);
  }

  async touchSession(tokenHash: string, lastSeenAt: number): Promise<void> {
    await this.conn.run('UPDATE user_sessions SET last_seen_at = $2 WHERE token_hash = $1', [tokenHash, big(lastSeenAt)]);
  }

  async deleteSessions(tokenHashes: readonly string[]): Promise<void> {
    if (tokenHashes.length === 0) return;
    await this.conn.run(`DELETE FROM user_sessions WHERE token_hash IN (SELECT unnest(from_json($1::JSON, '["VARCHAR"]')))`, [JSON.stringify(tokenHashes)]);
  }

  async listApiKeys(): Promise<StoredApiKey[]> {
    const rows = await all(this.conn, 'SELECT * FROM api_keys ORDER BY created_at, id');
    return rows.map((r) => ({
      id: r.id as string, name: r.name as string, role: r.role as Role, tokenHash: r.token_hash as string,
      createdAt: Number(r.created_at), createdBy: r.created_by as string,
    }));
  }

  async insertApiKey(k: StoredApiKey): Promise<void> {
    await this.conn.run('INSERT INTO api_keys VALUES ($1, $2, $3, $4, $5, $6)', [k.id, k.name, k.role, k.tokenHash, big(k.createdAt), k.createdBy]);
  }

  async deleteApiKey(id: string): Promise<void> {
    await this.conn.run('DELETE FROM api_keys WHERE id = $1', [id]);
  }
}

function userOf(r: Row): StoredUser {
  return {
    id: r.id as string, email: r.email as string, name: r.name as string, role: r.role as Role, locale: r.locale as string,
    passwordHash: r.password_hash as string, createdAt: Number(r.created_at), updatedAt: Number(r.updated_at),
  };
}
