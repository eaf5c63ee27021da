/**
 * The responses the gateway keeps (migration 0024, `storage/stored-response-store.ts`) on both
 * databases, and their 30-day retention (`jobs/stored-response-retention.ts`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStoredResponseRetentionJob, STORED_RESPONSE_RETENTION_SECONDS } from '../../src/jobs/stored-response-retention.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { StoredResponseStore } from '../../src/storage/stored-response-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { uniqueId } from './fixtures.ts';

forEachDatabase('stored responses', (ctx) => {
  test('written once, read back whole, deleted once', async () => {
    const store = new StoredResponseStore(ctx.db);
    const id = uniqueId('resp_');
    const record = { id, owner: 'team:a', previousResponseId: 'resp_before', response: { id, output: [{ type: 'message', content: [{ type: 'output_text', text: 'é ✓' }] }] }, inputItems: [{ id: 'msg_1', type: 'message' }], createdAt: 1_796_000_000 };
    await store.insert(record);
    assert.deepEqual(await store.find(id), record);
    await assert.rejects(store.insert(record), 'one row per id');
    assert.equal(await store.delete(id), true);
    assert.equal(await store.delete(id), false);
    assert.equal(await store.find(id), undefined);
  });

  test('a chain is read back newest first in one walk, cut at its limit and where a response is gone', async () => {
    const store = new StoredResponseStore(ctx.db);
    const [a, b, c] = [uniqueId('resp_'), uniqueId('resp_'), uniqueId('resp_')];
    for (const [id, previous] of [[a, null], [b, a], [c, b]] as const) await store.insert({ id, owner: 'team:a', previousResponseId: previous, response: { id }, inputItems: [], createdAt: 1 });
    assert.deepEqual((await store.chainOf(c, 100)).map((record) => record.id), [c, b, a]);
    assert.deepEqual((await store.chainOf(c, 2)).map((record) => record.id), [c, b]);
    await store.delete(b);
    assert.deepEqual((await store.chainOf(c, 100)).map((record) => record.id), [c]);
    assert.deepEqual(await store.chainOf(uniqueId('resp_'), 100), []);
  });

  test('the retention job deletes what is older than 30 days, and nothing younger', async () => {
    const store = new StoredResponseStore(ctx.db);
    const now = 1_800_000_000;
    const old = uniqueId('resp_');
    const young = uniqueId('resp_');
    for (const [id, createdAt] of [[old, now - STORED_RESPONSE_RETENTION_SECONDS - 1], [young, now - STORED_RESPONSE_RETENTION_SECONDS + 60]] as const) {
      await store.insert({ id, owner: 'team:a', previousResponseId: null, response: { id }, inputItems: [], createdAt });
    }
    await createStoredResponseRetentionJob(store, createLogger({ level: 'silent' }), 1000, () => now * 1000).runOnce();
    assert.equal(await store.find(old), undefined);
    assert.notEqual(await store.find(young), undefined);
  });
});
