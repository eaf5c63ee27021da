import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyLookupCache } from './key-lookup-cache.ts';

function setup(initial: Record<string, string | null>, options: { ttlMs?: number; maxStaleMs?: number; negativeTtlMs?: number; maxEntries?: number } = {}) {
  const table = new Map(Object.entries(initial));
  let clock = 1_000_000;
  const loads: string[] = [];
  const cache = new KeyLookupCache<string>({
    load: async (hash) => {
      loads.push(hash);
      return table.get(hash) ?? null;
    },
    now: () => clock,
    ...options,
  });
  return { cache, table, loads, advance: (ms: number) => (clock += ms) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyLookupCache', () => {
  it('serves a known key from memory within the TTL, without a second lookup', async () => {
    const { cache, loads, advance } = setup({ h1: 'alice' }, { ttlMs: 10_000 });
    assert.equal(await cache.get('h1'), 'alice');
    advance(9_000);
    assert.equal(await cache.get('h1'), 'alice');
    assert.deepEqual(loads, ['h1']);
  });

  it('after the TTL serves the cached key at once and refreshes it in the background', async () => {
    const { cache, table, loads, advance } = setup({ h1: 'alice' }, { ttlMs: 10_000 });
    await cache.get('h1');
    table.delete('h1');
    advance(11_000);
    assert.equal(await cache.get('h1'), 'alice', 'stale entry served while refreshing');
    await flush();
    assert.deepEqual(loads, ['h1', 'h1']);
    assert.equal(await cache.get('h1'), null, 'the refresh saw the key was deleted elsewhere');
  });

  it('waits for the database once an entry is older than maxStale', async () => {
    const { cache, table, advance } = setup({ h1: 'alice' }, { ttlMs: 1_000, maxStaleMs: 5_000 });
    await cache.get('h1');
    table.set('h1', 'bob');
    advance(6_000);
    assert.equal(await cache.get('h1'), 'bob');
  });

  it('remembers an unknown key for the negative TTL, then asks again', async () => {
    const { cache, table, loads, advance } = setup({}, { negativeTtlMs: 2_000 });
    assert.equal(await cache.get('nope'), null);
    assert.equal(await cache.get('nope'), null);
    assert.equal(loads.length, 1);
    table.set('nope', 'created-later');
    advance(2_500);
    assert.equal(await cache.get('nope'), 'created-later');
    assert.equal(loads.length, 2);
  });

  it('shares one lookup between concurrent misses of the same key', async () => {
    const { cache, loads } = setup({ h1: 'alice' });
    const answers = await Promise.all([cache.get('h1'), cache.get('h1'), cache.get('h1')]);
    assert.deepEqual(answers, ['alice', 'alice', 'alice']);
    assert.equal(loads.length, 1);
  });

  it('evicting a key makes the next request ask the database', async () => {
    const { cache, table } = setup({ h1: 'alice' });
    await cache.get('h1');
    table.delete('h1');
    cache.evict('h1');
    assert.equal(await cache.get('h1'), null);
  });

  it('a lookup that started before an eviction does not put the evicted key back', async () => {
    let release!: (value: string | null) => void;
    const cache = new KeyLookupCache<string>({ load: () => new Promise((resolve) => (release = resolve)) });
    const pending = cache.get('h1');
    cache.evict('h1');
    release('alice');
    assert.equal(await pending, 'alice');
    assert.equal(cache.size, 0);
  });

  it('keeps at most maxEntries, dropping the oldest', async () => {
    const { cache } = setup({ a: '1', b: '2', c: '3' }, { maxEntries: 2 });
    await cache.get('a');
    await cache.get('b');
    await cache.get('c');
    assert.equal(cache.size, 2);
  });

  it('a failed background refresh keeps the stale entry and reports the error', async () => {
    let fail = false;
    const errors: unknown[] = [];
    let clock = 0;
    const cache = new KeyLookupCache<string>({
      load: async () => {
        if (fail) throw new Error('database down');
        return 'alice';
      },
      ttlMs: 1_000,
      now: () => clock,
      onRefreshError: (error) => errors.push(error),
    });
    await cache.get('h1');
    fail = true;
    clock = 2_000;
    assert.equal(await cache.get('h1'), 'alice');
    await flush();
    assert.equal(errors.length, 1);
    assert.equal(await cache.get('h1'), 'alice');
  });
});
