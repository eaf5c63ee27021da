/**
 * The key service over the real `KeyStore` on an in-memory SQLite database (one database for the
 * suite: every test mints its own random keys).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthenticationError } from '../spec/errors.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { KeyStore } from '../storage/key-store.ts';
import { hashKeySecret } from './key-secret.ts';
import { KeyService } from './key-service.ts';

const MASTER = 'sk-master-test-key';
const input = { models: [] as string[], userId: null, teamId: null, keyAlias: null, durationMs: null, metadata: {} };

let database: Database;

function setup(now = () => Date.now()) {
  const store = new KeyStore(database);
  const keys = new KeyService(store, { masterKey: MASTER, now });
  return { store, keys };
}

describe('KeyService', () => {
  before(async () => {
    database = await openDatabase('file::memory:');
  });
  after(async () => {
    await database?.close();
  });

  it('mints sk- keys with at least 32 url-safe random characters and stores only their hash', async () => {
    const { store, keys } = setup();
    const { secret, record } = await keys.generate(input);
    assert.match(secret, /^sk-[A-Za-z0-9_-]{32,}$/);
    const stored = await store.findById(record.id);
    assert.ok(stored);
    assert.equal(stored.keyHash, hashKeySecret(secret));
    const row = await database.kysely.selectFrom('api_keys').selectAll().where('id', '=', record.id).executeTakeFirst();
    assert.ok(row);
    assert.doesNotMatch(JSON.stringify(row), new RegExp(secret));
    const other = await keys.generate(input);
    assert.notEqual(other.secret, secret);
  });

  it('authenticates the master key as the master and a virtual key as its owner with its allowlist', async () => {
    const { keys } = setup();
    const master = await keys.authenticate(MASTER);
    assert.equal(master.isMaster, true);
    const { secret, record } = await keys.generate({ ...input, models: ['gpt-4o'], teamId: 'research' });
    const principal = await keys.authenticate(secret);
    assert.equal(principal.isMaster, false);
    assert.equal(principal.keyId, record.id);
    assert.equal(principal.owner, 'team:research');
    assert.deepEqual([...(principal.allowedModels ?? [])], ['gpt-4o']);
  });

  it('an empty models list means every model', async () => {
    const { keys } = setup();
    const { secret } = await keys.generate(input);
    assert.equal((await keys.authenticate(secret)).allowedModels, null);
  });

  it('answers the hot path from memory after the first request', async () => {
    const { store, keys } = setup();
    const { secret, record } = await keys.generate(input);
    await keys.authenticate(secret);
    // Removed from the database behind the service's back: only a cached entry can still answer.
    assert.deepEqual(await store.deleteByHashes([record.keyHash]), [record.id]);
    assert.equal((await keys.authenticate(secret)).keyId, record.id);
    assert.equal((await keys.authenticate(secret)).keyId, record.id);
    // A service without that cache entry goes to the database, and finds nothing.
    await assert.rejects(setup().keys.authenticate(secret), AuthenticationError);
  });

  it('refuses a missing, unknown, or master-lookalike key with 401', async () => {
    const { keys } = setup();
    for (const presented of [undefined, 'sk-unknown-key-0000000000000000000', `${MASTER}x`, 'not-a-key']) {
      await assert.rejects(keys.authenticate(presented), (error: unknown) => error instanceof AuthenticationError && error.httpStatus === 401);
    }
  });

  it('refuses an expired key with 401, even while it is cached', async () => {
    let clock = Date.parse('2030-01-01T00:00:00Z');
    const { keys } = setup(() => clock);
    const { secret } = await keys.generate({ ...input, durationMs: 10_000 });
    await keys.authenticate(secret);
    clock += 11_000;
    await assert.rejects(keys.authenticate(secret), /expired/);
  });

  it('refuses a blocked key with 401', async () => {
    const { store, keys } = setup();
    const { secret, record } = await keys.generate(input);
    assert.equal((await store.updateByHash(record.keyHash, { blocked: true }))?.blocked, true);
    await assert.rejects(keys.authenticate(secret), /blocked/);
  });

  it('deleting a key on this instance stops it at once, by secret or by id', async () => {
    const { keys } = setup();
    const first = await keys.generate(input);
    const second = await keys.generate(input);
    await keys.authenticate(first.secret);
    await keys.authenticate(second.secret);
    const deleted = await keys.delete([first.secret, second.record.id, 'sk-never-existed-000000000000000000']);
    assert.deepEqual(deleted, [first.secret, second.record.id]);
    await assert.rejects(keys.authenticate(first.secret), AuthenticationError);
    await assert.rejects(keys.authenticate(second.secret), AuthenticationError);
  });

  it('runs open without a master key: every caller is the master', async () => {
    const keys = new KeyService(new KeyStore(database), { masterKey: undefined });
    assert.equal(keys.isOpen, true);
    assert.equal((await keys.authenticate(undefined)).isMaster, true);
    assert.equal((await keys.authenticate('anything')).isMaster, true);
  });

  it('finds a key by its secret or its id, and by nothing else', async () => {
    const { keys } = setup();
    const { secret, record } = await keys.generate(input);
    assert.equal((await keys.find(secret))?.id, record.id);
    assert.equal((await keys.find(record.id))?.id, record.id);
    assert.equal(await keys.find(record.keyHash), undefined);
  });
});
