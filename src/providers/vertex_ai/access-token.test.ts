import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccessTokenCache, type AccessToken } from './access-token.ts';

describe('access token cache', () => {
  it('reuses a token, refreshes it once when a quarter of its life (at most 5 minutes) is left, and forgets a refused one', async () => {
    let clock = 0;
    let fetched = 0;
    const cache = createAccessTokenCache(async (): Promise<AccessToken> => {
      fetched += 1;
      return { token: `t${fetched}`, expiresAt: clock + 3_600_000 };
    }, () => clock);
    assert.equal(await cache.get(), 't1');
    clock = 3_600_000 - 300_001;
    assert.equal(await cache.get(), 't1', 'more than five minutes left');
    clock = 3_600_000 - 299_999;
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    assert.deepEqual([a, b, fetched], ['t2', 't2', 2], 'one refresh for concurrent callers');
    cache.invalidate('t1');
    assert.equal(await cache.get(), 't2', 'forgetting an old token leaves the current one');
    cache.invalidate('t2');
    assert.equal(await cache.get(), 't3');
  });

  it('a short-lived token is refreshed with a quarter of its life left', async () => {
    let clock = 0;
    let fetched = 0;
    const cache = createAccessTokenCache(async () => ({ token: `t${++fetched}`, expiresAt: clock + 2_000 }), () => clock);
    await cache.get();
    clock = 1_400;
    assert.equal(await cache.get(), 't1');
    clock = 1_600;
    assert.equal(await cache.get(), 't2');
  });

  it('a failed fetch is not cached', async () => {
    let calls = 0;
    const cache = createAccessTokenCache(async () => {
      calls += 1;
      if (calls === 1) throw new Error('down');
      return { token: 'ok', expiresAt: Date.now() + 60_000 };
    });
    await assert.rejects(cache.get(), /down/);
    assert.equal(await cache.get(), 'ok');
  });
});
