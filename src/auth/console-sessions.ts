/**
 * Sessions of the web console (`/ui`): a key is exchanged once for a session, and the browser
 * holds only the session token (in an HttpOnly cookie, `server/console-cookie.ts`), never the key.
 *
 * - The token is 32 random bytes; the database keeps its SHA-256 only (`storage/console-session-store.ts`),
 *   so sessions work across every instance on one database and a read of the table signs no one in.
 * - A virtual key's session resolves through `KeyService.authenticateKeyHash`: the same cache and
 *   checks as the API (a deleted, blocked or expired key ends its sessions), to the same `Principal`.
 * - A master key session stores HMAC-SHA256(key = token, master key): a changed master key no
 *   longer matches, and without a token the stored value tells nothing about the master key.
 * - The CSRF token is derived from the session token (HMAC), so it needs no storage and cannot be
 *   computed by a page that cannot read the HttpOnly cookie (OWASP's "HMAC based token" pattern,
 *   https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html).
 */
import { createHmac, hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { AuthenticationError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { ConsoleSessionStore } from '../storage/console-session-store.ts';
import { MASTER_PRINCIPAL, type KeyService } from './key-service.ts';
import { hashKeySecret } from './key-secret.ts';

/** Twelve hours: a working day at the console, then sign in again. */
export const DEFAULT_SESSION_SECONDS = 12 * 3600;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const CSRF_PURPOSE = 'portico-console-csrf';

export interface ConsoleSession {
  readonly principal: Principal;
  /** What the page must send in the `x-portico-csrf` header of every change. */
  readonly csrfToken: string;
  /** Unix seconds. */
  readonly expiresAt: number;
}

export interface NewConsoleSession extends ConsoleSession {
  /** The cookie's value: shown to the browser once, never stored. */
  readonly token: string;
}

export interface ConsoleSessionOptions {
  /** `undefined`: open mode (every caller is the master). */
  masterKey: string | undefined;
  lifetimeSeconds?: number;
  /** Milliseconds clock (tests). */
  now?: () => number;
}

export class ConsoleSessions {
  readonly #store: ConsoleSessionStore;
  readonly #keys: KeyService;
  readonly #masterKey: string;
  readonly #lifetimeSeconds: number;
  readonly #now: () => number;

  constructor(store: ConsoleSessionStore, keys: KeyService, options: ConsoleSessionOptions) {
    this.#store = store;
    this.#keys = keys;
    this.#masterKey = options.masterKey ?? '';
    this.#lifetimeSeconds = options.lifetimeSeconds ?? DEFAULT_SESSION_SECONDS;
    this.#now = options.now ?? Date.now;
  }

  get lifetimeSeconds(): number {
    return this.#lifetimeSeconds;
  }

  /** Checks `presented` exactly as the API does (401 when it is no key) and opens a session for it. */
  async signIn(presented: string): Promise<NewConsoleSession> {
    const principal = await this.#keys.authenticate(presented);
    const token = randomBytes(32).toString('base64url');
    const now = this.#now() / 1000;
    const expiresAt = now + this.#lifetimeSeconds;
    // Expired rows go with the next sign-in: no job of its own for a table this small.
    await this.#store.deleteExpired(now);
    await this.#store.insert({
      id: sessionId(token),
      keyHash: principal.isMaster ? null : hashKeySecret(presented),
      masterBinding: principal.isMaster ? masterBinding(token, this.#masterKey) : null,
      createdAt: now,
      expiresAt,
    });
    return { token, principal, csrfToken: csrfTokenOf(token), expiresAt };
  }

  /** The session of a cookie's token; 401 (`invalid_session`) when it is unknown, expired or its key is gone. */
  async resolve(token: string): Promise<ConsoleSession> {
    if (!TOKEN_PATTERN.test(token)) throw invalidSession();
    const row = await this.#store.findLive(sessionId(token), this.#now() / 1000);
    if (row === undefined) throw invalidSession();
    let principal: Principal;
    if (row.keyHash === null) {
      if (row.masterBinding === null || !sameText(row.masterBinding, masterBinding(token, this.#masterKey))) throw invalidSession();
      principal = MASTER_PRINCIPAL;
    } else {
      principal = await this.#keys.authenticateKeyHash(row.keyHash);
    }
    return { principal, csrfToken: csrfTokenOf(token), expiresAt: row.expiresAt };
  }

  /** Whether `presented` (a request's CSRF header) belongs to the session of `token`. */
  csrfMatches(token: string, presented: string | undefined): boolean {
    return presented !== undefined && sameText(presented, csrfTokenOf(token));
  }

  async signOut(token: string): Promise<void> {
    if (TOKEN_PATTERN.test(token)) await this.#store.delete(sessionId(token));
  }
}

function sessionId(token: string): string {
  return hash('sha256', token, 'hex');
}

function masterBinding(token: string, masterKey: string): string {
  return createHmac('sha256', token).update(masterKey).digest('hex');
}

function csrfTokenOf(token: string): string {
  return createHmac('sha256', token).update(CSRF_PURPOSE).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function invalidSession(): AuthenticationError {
  return new AuthenticationError('The console session is unknown or has expired; sign in again.', { code: 'invalid_session' });
}
