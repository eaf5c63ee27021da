/**
 * Several Portico instances on one PostgreSQL share an emulated batch: each has its own database
 * pool, router and engine; `FOR UPDATE SKIP LOCKED` hands every line to exactly one of them.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BATCH_REQUEST_ID_PREFIX } from '../../src/routing/rate-limits/deployment-budgets.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, customIds, startEngineHarness, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: shared-mock
    litellm_params:
      model: mock/shared
      mock_latency_ms: 30
      batch_concurrency: 3
    model_info: { id: shared-mock }
`;

forEachDatabase(
  'two instances on one database',
  (ctx) => {
    let first: EngineHarness;
    let second: EngineHarness;
    before(async () => {
      first = await startEngineHarness(ctx.db, MODEL_LIST, { instanceId: 'instance-a' });
      // The instances share the database and the blob directory, as a deployment of several would.
      second = await startEngineHarness(await ctx.openAnother({ migrate: false }), MODEL_LIST, { instanceId: 'instance-b', storageDir: first.config.files.storageDir });
    });
    after(async () => {
      await second.close();
      await first.close();
    });

    test('two engines on one PostgreSQL share one batch: each line runs once, both do work', async () => {
      const lines = chatLines(40, 'shared-mock');
      const id = await first.createBatch(lines);
      first.engine.start();
      second.engine.start();
      const batch = await second.waitForStatus(id, ['completed'], 30_000);
      const { output, errors } = await first.results(batch);
      assert.deepEqual(errors, []);
      assert.deepEqual(customIds(output), customIds(lines));

      const linesRunBy = (h: EngineHarness) =>
        h.attempts.filter((a) => a.requestId?.startsWith(`${BATCH_REQUEST_ID_PREFIX}${id}-`)).map((a) => a.requestId!.split('-').at(-2));
      const byFirst = linesRunBy(first);
      const bySecond = linesRunBy(second);
      assert.ok(byFirst.length > 0, 'the first instance ran lines');
      assert.ok(bySecond.length > 0, 'the second instance ran lines');
      // No line was sent upstream twice: the two instances never held the same line.
      assert.equal(new Set([...byFirst, ...bySecond]).size, 40);
      assert.equal(byFirst.length + bySecond.length, 40);
    });
  },
  { dialects: ['postgres'] },
);
