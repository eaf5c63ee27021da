/**
 * A virtual key's `rpm_limit` / `tpm_limit` apply to the lines of the emulated batches it
 * created, on the same counters as its live requests: the engine paces the batch (leases no
 * more lines while the key is at its limit) and never fails a line for it. Deterministic: the
 * engine is driven one fill at a time (`runOnce`).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { keyRpmKey, keyTpmKey } from '../../src/routing/rate-limits/key-budgets.ts';
import type { Principal } from '../../src/spec/principal.ts';
import { KeyStore } from '../../src/storage/key-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, multipartBatchFile, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: paced-mock
    litellm_params:
      model: mock/paced
      batch_concurrency: 8
    model_info: { id: paced-mock }
`;
const MINUTE = 60_000;

forEachDatabase('key limits on batches', (ctx) => {
  let h: EngineHarness;
  let keys: KeyStore;
  before(async () => {
    keys = new KeyStore(ctx.db);
    h = await startEngineHarness(ctx.db, MODEL_LIST, { engine: { keyLimits: (ids) => keys.limitsOf(ids) } });
  });
  after(async () => h.close());

  async function keyedBatch(keyId: string, limits: { rpmLimit?: number; tpmLimit?: number }, lines: number): Promise<string> {
    await keys.insert({ id: keyId, keyHash: `hash-${keyId}`, keyAlias: null, userId: keyId, teamId: null, models: [], metadata: {}, spend: 0, createdAt: 1, expiresAt: null, blocked: false, ...limits });
    const principal: Principal = Object.freeze({ keyId, isMaster: false, owner: `user:${keyId}`, allowedModels: null, userId: keyId, teamId: null, ...limits });
    const file = await h.managed.files.upload(principal, ...multipartBatchFile(chatLines(lines, 'paced-mock')));
    const id = (await h.managed.batches.create(principal, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id;
    await waitUntil(async () => (await h.managed.batchStore.getById(id))?.status === 'in_progress', 20_000, 'the batch in progress');
    return id;
  }

  test("a key's rpm_limit paces its batch: the key's share of the minute runs, the rest waits, nothing fails", async () => {
    // rpm_limit 5, live_traffic_share 0.2: the key's batches may take 4 requests a minute.
    const id = await keyedBatch('key_rpm_paced', { rpmLimit: 5 }, 12);
    await h.engine.runOnce();
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, 4);
    assert.equal(counts.failed, 0);
    assert.equal(counts.pending, 8, 'the rest waits for the key to have room');
    // Counted where the key's live requests are counted: they share the one limit.
    assert.equal(await h.limiter.usage(keyRpmKey('key_rpm_paced'), MINUTE), 4);
    // Another key's batch on the same deployment is not held back.
    const free = await keyedBatch('key_unlimited', {}, 6);
    await h.engine.runOnce();
    assert.equal((await h.items.countByState(free)).succeeded, 6);
    assert.equal((await h.items.countByState(id)).succeeded, 4);
  });

  test("a key's tpm_limit stops new lines once its batch's answers used it up, and charges the tokens to the key", async () => {
    const id = await keyedBatch('key_tpm_paced', { tpmLimit: 5 }, 20);
    await h.engine.runOnce();
    const first = (await h.items.countByState(id)).succeeded;
    assert.ok(first > 0, 'lines start while the key has tokens left');
    const used = await h.limiter.usage(keyTpmKey('key_tpm_paced'), MINUTE);
    assert.ok(used >= 5, `the answers' tokens were charged to the key (${used})`);
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, first, 'no line started over the key\'s tokens');
    assert.equal(counts.failed, 0);
    assert.equal(counts.pending, 20 - first);
  });
});
