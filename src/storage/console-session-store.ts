/**
 * Web console sessions (`console_sessions`, migration 0013). Only hashes are stored: the session
 * token's SHA-256 as the id, never the token itself (`auth/console-sessions.ts`).
 */
import type { Database } from './database.ts';
import { affectedRows } from './row-mapping.ts';

export interface ConsoleSessionRecord {
  /** SHA-256 (hex) of the session token. */
  id: string;
  /** The virtual key's hash; null for a master key session. */
  keyHash: string | null;
  /** For a master key session: HMAC of the master key keyed by the token (hex). */
  masterBinding: string | null;
  /** Unix seconds. */
  createdAt: number;
  expiresAt: number;
}

export class ConsoleSessionStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insert(session: ConsoleSessionRecord): Promise<void> {
    await this.#db.kysely
      .insertInto('console_sessions')
      .values({ id: session.id, key_hash: session.keyHash, master_binding: session.masterBinding, created_at: session.createdAt, expires_at: session.expiresAt })
      .execute();
  }

  /** The session with this id while it has not expired at `now` (unix seconds). */
  async findLive(id: string, now: number): Promise<ConsoleSessionRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('console_sessions').selectAll().where('id', '=', id).where('expires_at', '>', now).executeTakeFirst();
    if (row === undefined) return undefined;
    return { id: row.id, keyHash: row.key_hash, masterBinding: row.master_binding, createdAt: Number(row.created_at), expiresAt: Number(row.expires_at) };
  }

  /** Answers whether a session was there to delete. */
  async delete(id: string): Promise<boolean> {
    return affectedRows(await this.#db.kysely.deleteFrom('console_sessions').where('id', '=', id).executeTakeFirst()) === 1;
  }

  /** Removes sessions that expired before `now`; answers how many. */
  async deleteExpired(now: number): Promise<number> {
    return affectedRows(await this.#db.kysely.deleteFrom('console_sessions').where('expires_at', '<=', now).executeTakeFirst());
  }
}
