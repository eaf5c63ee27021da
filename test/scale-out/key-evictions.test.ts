/**
 * A key deleted through one process stops working on every other process at once, not after the
 * key cache's TTL: workers of one Portico (and instances) tell each other through Redis pub/sub
 * (coordination/redis-key-evictions.ts). Three key services share one database here, as three
 * processes do: two told through Redis, one not (it keeps the key until its cache's TTL, the
 * behaviour before, so this test would fail without the channel).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { KeyService } from '../../src/auth/key-service.ts';
import type { RedisConnection } from '../../src/coordination/redis-connection.ts';
import { RedisKeyEvictions } from '../../src/coordination/redis-key-evictions.ts';
import { AuthenticationError } from '../../src/spec/errors.ts';
import { openDatabase, type Database } from '../../src/storage/database.ts';
import { KeyStore } from '../../src/storage/key-store.ts';
import { connectTestRedis, deleteRedisKeys, startRedisRelay, uniqueRedisPrefix, waitFor, type RedisRelay } from './redis-helpers.ts';

const MASTER = 'sk-master-evictions';
const input = { models: [] as string[], userId: null, teamId: null, keyAlias: null, durationMs: null, metadata: {} };

describe('key deletions told to every process through Redis', () => {
  const prefix = uniqueRedisPrefix('key-evictions');
  const connections: RedisConnection[] = [];
  const channels: RedisKeyEvictions[] = [];
  let database: Database;
  let relay: RedisRelay;
  let deleting: KeyService;
  let told: KeyService;
  let untold: KeyService;

  before(async () => {
    database = await openDatabase('file::memory:');
    relay = await startRedisRelay();
    // The deleting process reaches Redis through a relay the last test cuts.
    connections.push(await connectTestRedis(prefix, undefined, relay.url), await connectTestRedis(prefix));
    channels.push(...connections.map((connection) => new RedisKeyEvictions(connection)));
    deleting = new KeyService(new KeyStore(database), { masterKey: MASTER, evictions: channels[0] });
    told = new KeyService(new KeyStore(database), { masterKey: MASTER, evictions: channels[1] });
    untold = new KeyService(new KeyStore(database), { masterKey: MASTER });
  });
  after(async () => {
    for (const channel of channels) channel.close();
    await Promise.all(connections.map((connection) => connection.close()));
    await relay?.stop();
    await database?.close();
    await deleteRedisKeys(prefix);
  });

  test('a key deleted through one process is refused by another within a moment; one not told keeps it until its TTL', async () => {
    // Subscriptions are made when the services are built; give them a moment to be in place.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const { secret } = await deleting.generate(input);
    for (const keys of [deleting, told, untold]) assert.equal((await keys.authenticate(secret)).isMaster, false, 'cached everywhere');
    assert.deepEqual(await deleting.delete([secret]), [secret]);
    await assert.rejects(deleting.authenticate(secret), AuthenticationError);
    const deletedAt = Date.now();
    await waitFor(
      () => told.authenticate(secret).then(() => false, (error: unknown) => error instanceof AuthenticationError),
      2_000,
      'the told process to refuse the deleted key',
    );
    assert.ok(Date.now() - deletedAt < 2_000);
    assert.equal((await untold.authenticate(secret)).isMaster, false, 'without the channel the cache serves it until its TTL (10 s)');
  });

  test('a key regenerated through one process: its old secret is refused by another within a moment, the new one works there', async () => {
    const { secret, record } = await deleting.generate(input);
    for (const keys of [deleting, told, untold]) await keys.authenticate(secret);
    const regenerated = await deleting.regenerate(secret);
    assert.ok(regenerated !== undefined);
    assert.equal(regenerated.record.id, record.id, 'same key, new secret');
    await assert.rejects(deleting.authenticate(secret), AuthenticationError);
    await waitFor(
      () => told.authenticate(secret).then(() => false, (error: unknown) => error instanceof AuthenticationError),
      2_000,
      'the told process to refuse the old secret',
    );
    assert.equal((await told.authenticate(regenerated.secret)).keyId, record.id);
    assert.equal((await untold.authenticate(secret)).keyId, record.id, 'without the channel the cache serves the old secret until its TTL');
  });

  test('with Redis out of reach a delete still succeeds (the others drop the key within the TTL)', async () => {
    const { secret } = await deleting.generate(input);
    await told.authenticate(secret);
    await relay.stop();
    const started = Date.now();
    assert.deepEqual(await deleting.delete([secret]), [secret]);
    assert.ok(Date.now() - started < 3_000, `the delete did not wait on Redis (${Date.now() - started} ms)`);
    await assert.rejects(deleting.authenticate(secret), AuthenticationError);
  });
});
