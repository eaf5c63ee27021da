import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KeyStore, type VirtualKeyRecord } from '../../src/storage/key-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { uniqueId } from './fixtures.ts';

function newKey(overrides: Partial<VirtualKeyRecord> = {}): VirtualKeyRecord {
  return {
    id: uniqueId('key_'),
    keyHash: uniqueId('hash_'),
    keyAlias: 'ci key',
    userId: 'alice',
    teamId: null,
    models: ['gpt-4o-mini', 'claude'],
    metadata: { env: 'ci', nested: { n: 1 } },
    spend: 0,
    reservedSpend: 0,
    createdAt: 1_750_000_000,
    expiresAt: null,
    blocked: false,
    ...overrides,
  };
}

forEachDatabase('key store', (ctx) => {
  test('a key reads back exactly as inserted, by hash and by id', async () => {
    const keys = new KeyStore(ctx.db);
    const key = newKey({ expiresAt: 1_760_000_000, blocked: true, spend: 1.25 });
    await keys.insert(key);
    assert.deepEqual(await keys.findByHash(key.keyHash), key);
    assert.deepEqual(await keys.findById(key.id), key);
    assert.equal(await keys.findByHash('no-such-hash'), undefined);
    assert.equal(await keys.findById('no-such-id'), undefined);
  });

  test('two keys cannot share a hash', async () => {
    const keys = new KeyStore(ctx.db);
    const key = newKey();
    await keys.insert(key);
    await assert.rejects(keys.insert(newKey({ keyHash: key.keyHash })));
  });

  test('deleting by hashes answers the ids of the keys that existed', async () => {
    const keys = new KeyStore(ctx.db);
    const a = newKey();
    const b = newKey();
    const kept = newKey();
    await keys.insert(a);
    await keys.insert(b);
    await keys.insert(kept);
    const deleted = await keys.deleteByHashes([a.keyHash, b.keyHash, 'unknown-hash']);
    assert.deepEqual(deleted.sort(), [a.id, b.id].sort());
    assert.equal(await keys.findById(a.id), undefined);
    assert.ok(await keys.findById(kept.id));
    assert.deepEqual(await keys.deleteByHashes([]), []);
  });

  test('spend accumulates under concurrent additions', async () => {
    const keys = new KeyStore(ctx.db);
    const key = newKey();
    await keys.insert(key);
    await Promise.all(Array.from({ length: 25 }, () => keys.addSpend(key.id, 0.5)));
    assert.equal((await keys.findById(key.id))?.spend, 12.5);
  });

  test('updating a key by hash changes only the given fields', async () => {
    const keys = new KeyStore(ctx.db);
    const key = newKey();
    await keys.insert(key);
    const updated = await keys.updateByHash(key.keyHash, { blocked: true, models: [] });
    assert.deepEqual(updated, { ...key, blocked: true, models: [] });
    assert.equal(await keys.updateByHash('unknown', { blocked: true }), undefined);
    const listed = await keys.list({ userId: 'alice' });
    assert.ok(listed.some((k) => k.id === key.id));
  });
});
