/**
 * The batch system of `jobs/batch-system.ts` is the server's wiring, hooks included, wherever it
 * is built: here through the engine harness, with engines that look for work once a minute. A
 * batch that starts and completes within seconds proves the synchroniser woke the system's
 * engines when it moved the batch to `in_progress` (the harness's fast poller moves it).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, startEngineHarness } from './engine-harness.ts';

const modelList = `
model_list:
  - model_name: mock-group
    litellm_params:
      model: mock/mock-model
`;

forEachDatabase('batch system', (ctx) => {
  test('a started batch wakes the engines of the system at once', async () => {
    const h = await startEngineHarness(ctx.db, modelList, { engine: { pollIntervalMs: 60_000 } });
    try {
      // Both started before the batch exists: their first look finds nothing, the next is a minute away.
      h.engine.start();
      const second = h.newEngine({ pollIntervalMs: 60_000 });
      second.start();
      await h.engine.runOnce();
      const batchId = await h.createBatch(chatLines(6, 'mock-group'));
      const batch = await h.waitForStatus(batchId, ['completed'], 15_000);
      assert.deepEqual(batch.request_counts, { total: 6, completed: 6, failed: 0 });
    } finally {
      await h.close();
    }
  });
});
