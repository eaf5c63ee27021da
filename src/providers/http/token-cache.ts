/**
 * A cache of one short-lived credential (an OAuth2 access token, a set of AWS session
 * credentials): fetched on first use, refreshed before it expires, by one fetch at a time.
 *
 * - Single flight: callers arriving while a fetch runs wait for that fetch; they never start
 *   their own (a burst of requests at expiry is one token request, not hundreds).
 * - Refreshed early: a credential counts as due `refreshBeforeMs` (default 5 minutes) before its
 *   expiry, or at three quarters of its life when it lives shorter than four times that, so a
 *   request never goes out with a credential about to lapse in flight.
 * - A failed refresh while the cached credential has not expired yet hands out the cached one
 *   (the next call tries again); with nothing usable, the failure reaches the caller as a
 *   `GatewayError`: the fetcher's own (e.g. an `UpstreamCredentialsError` saying the credentials
 *   were refused), or else an `UpstreamCredentialsError` (503, retryable), never a crash.
 * - `invalidate(value)` drops a credential the upstream refused (a 401), if it is still the
 *   cached one, so the next call fetches another.
 */
import { GatewayError, UpstreamCredentialsError } from '../../spec/errors.ts';
import type { RequestAuthorizer } from './request-auth.ts';

/** What a fetch returns: the credential and when it stops working (Unix ms; `Infinity`: never). */
export interface ExpiringCredential<Value> {
  value: Value;
  expiresAt: number;
}

export interface TokenCacheOptions {
  /** How long before expiry a credential is refreshed (default 5 minutes). */
  refreshBeforeMs?: number;
  /** Names the credential in error messages ("Google access token"). */
  what?: string;
  /** The clock (tests). */
  now?: () => number;
}

export interface TokenCache<Value> {
  /** A credential valid for a while yet; fetched (once, for every caller) when none is. */
  get(): Promise<Value>;
  /** Forgets `value` if it is the cached credential (the upstream refused it). */
  invalidate(value: Value): void;
}

export const DEFAULT_REFRESH_BEFORE_MS = 5 * 60_000;

interface Cached<Value> extends ExpiringCredential<Value> {
  /** When it becomes due for a refresh. */
  refreshAt: number;
}

export function createTokenCache<Value>(fetch: () => Promise<ExpiringCredential<Value>>, options: TokenCacheOptions = {}): TokenCache<Value> {
  const now = options.now ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? DEFAULT_REFRESH_BEFORE_MS;
  const what = options.what ?? 'credential';
  let current: Cached<Value> | undefined;
  let inFlight: Promise<Cached<Value>> | undefined;

  async function refresh(): Promise<Cached<Value>> {
    const fetchedAt = now();
    try {
      const fetched = await fetch();
      const lifetime = fetched.expiresAt - fetchedAt;
      const margin = Math.min(refreshBeforeMs, lifetime / 4);
      current = { value: fetched.value, expiresAt: fetched.expiresAt, refreshAt: fetched.expiresAt - margin };
      return current;
    } catch (error) {
      if (error instanceof GatewayError) throw error;
      const detail = error instanceof Error ? error.message : String(error);
      throw new UpstreamCredentialsError(`Portico could not obtain a ${what} for the deployment: ${detail}`, { refused: false, cause: error });
    } finally {
      inFlight = undefined;
    }
  }

  return {
    async get() {
      const cached = current;
      if (cached !== undefined && now() < cached.refreshAt) return cached.value;
      inFlight ??= refresh();
      try {
        return (await inFlight).value;
      } catch (error) {
        // Due for a refresh but not expired: still good for this request.
        if (cached !== undefined && current === cached && now() < cached.expiresAt) return cached.value;
        throw error;
      }
    },
    invalidate(value) {
      if (current !== undefined && current.value === value) current = undefined;
    },
  };
}

/**
 * `Authorization: Bearer <token>` from a token cache (Google APIs); a 401 drops the token, and
 * the shared senders send the request once more with a new one.
 */
export function bearerTokenAuth(tokens: TokenCache<string>): RequestAuthorizer {
  return {
    async authorize() {
      return { authorization: `Bearer ${await tokens.get()}` };
    },
    rejected(granted) {
      const header = granted.authorization;
      if (header !== undefined && header.startsWith('Bearer ')) tokens.invalidate(header.slice('Bearer '.length));
    },
  };
}
