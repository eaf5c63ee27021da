/**
 * The shared token cache: single-flight refresh, refreshed before expiry, failures mapped to a
 * clear error (never a crash), a refused token dropped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamCredentialsError } from '../../spec/errors.ts';
import { bearerTokenAuth, createTokenCache, type ExpiringCredential } from './token-cache.ts';

const MINUTE = 60_000;

/** A fetcher handing out `token-1`, `token-2`, ... living `lifetimeMs` each, counting its calls. */
function counter(clock: { now: number }, lifetimeMs: number) {
  const fetcher = {
    calls: 0,
    fail: undefined as Error | undefined,
    async fetch(): Promise<ExpiringCredential<string>> {
      fetcher.calls += 1;
      await new Promise((resolve) => setImmediate(resolve));
      if (fetcher.fail !== undefined) throw fetcher.fail;
      return { value: `token-${fetcher.calls}`, expiresAt: clock.now + lifetimeMs };
    },
  };
  return fetcher;
}

describe('token cache', () => {
  it('callers arriving together share one fetch', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 60 * MINUTE);
    const cache = createTokenCache(fetcher.fetch, { now: () => clock.now });
    const tokens = await Promise.all(Array.from({ length: 50 }, () => cache.get()));
    assert.equal(fetcher.calls, 1);
    assert.deepEqual(new Set(tokens), new Set(['token-1']));
  });

  it('an hour-long token is reused until five minutes before its expiry, then refreshed once', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 60 * MINUTE);
    const cache = createTokenCache(fetcher.fetch, { now: () => clock.now });
    assert.equal(await cache.get(), 'token-1');
    clock.now = 55 * MINUTE - 1;
    assert.equal(await cache.get(), 'token-1');
    clock.now = 55 * MINUTE;
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    assert.deepEqual([a, b, fetcher.calls], ['token-2', 'token-2', 2]);
  });

  it('a short-lived token is refreshed at three quarters of its life', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 2000);
    const cache = createTokenCache(fetcher.fetch, { now: () => clock.now });
    await cache.get();
    clock.now = 1499;
    assert.equal(await cache.get(), 'token-1');
    clock.now = 1500;
    assert.equal(await cache.get(), 'token-2');
  });

  it('a failed refresh is an UpstreamCredentialsError (503, retryable) naming the cause; the next call tries again', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 60 * MINUTE);
    fetcher.fail = new Error('connect ECONNREFUSED 127.0.0.1:1');
    const cache = createTokenCache(fetcher.fetch, { now: () => clock.now, what: 'Google access token' });
    await assert.rejects(cache.get(), (error: unknown) => {
      assert.ok(error instanceof UpstreamCredentialsError);
      assert.equal(error.httpStatus, 503);
      assert.equal(error.isRetryable, true);
      assert.equal(error.code, 'upstream_credentials_unavailable');
      assert.match(error.message, /Google access token.*ECONNREFUSED/);
      return true;
    });
    fetcher.fail = undefined;
    assert.equal(await cache.get(), 'token-2');
  });

  it("a fetcher's own GatewayError (credentials refused) reaches the caller as it is", async () => {
    const refused = new UpstreamCredentialsError('Google refused the service account key', { refused: true });
    const cache = createTokenCache(async () => {
      throw refused;
    });
    await assert.rejects(cache.get(), (error: unknown) => error === refused && refused.httpStatus === 401 && !refused.isRetryable);
  });

  it('a refresh failing while the token has not expired yet hands out the cached token', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 60 * MINUTE);
    const cache = createTokenCache(fetcher.fetch, { now: () => clock.now });
    await cache.get();
    clock.now = 57 * MINUTE;
    fetcher.fail = new Error('token endpoint 500');
    assert.equal(await cache.get(), 'token-1');
    clock.now = 60 * MINUTE;
    await assert.rejects(cache.get(), UpstreamCredentialsError);
  });

  it('invalidate drops the refused token only if it is still the cached one', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 60 * MINUTE);
    const cache = createTokenCache(fetcher.fetch, { now: () => clock.now });
    await cache.get();
    cache.invalidate('some-older-token');
    assert.equal(await cache.get(), 'token-1');
    cache.invalidate('token-1');
    assert.equal(await cache.get(), 'token-2');
  });

  it('bearerTokenAuth stamps the token and drops it when the upstream refuses it', async () => {
    const clock = { now: 0 };
    const fetcher = counter(clock, 60 * MINUTE);
    const auth = bearerTokenAuth(createTokenCache(fetcher.fetch, { now: () => clock.now }));
    const request = { method: 'POST' as const, url: 'http://x/', headers: {}, body: undefined, bodyStreamed: false, signal: undefined };
    const granted = await auth.authorize(request);
    assert.deepEqual(granted, { authorization: 'Bearer token-1' });
    auth.rejected!(granted);
    assert.deepEqual(await auth.authorize(request), { authorization: 'Bearer token-2' });
  });
});
