/**
 * Issue 15: a lane's calls are paced, so they do not travel in waves. Calls that start together
 * end together, and a finished call starts the next line at once: unpaced, a lane's whole
 * concurrency starts, ends and starts again in one burst for the whole batch, and each burst of
 * answers holds the event loop (and the live requests beside the batch) up. Paced, the lane's
 * starts are spread over most of a call's time, from the first wave on, and stay spread.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: paced-mock
    litellm_params:
      model: mock/paced
      mock_latency_ms: 200
      batch_concurrency: 16
    model_info: { id: paced-mock }
`;

/** Most calls of `batchId` that started within any `windowMs` (from the router's attempt reports). */
function mostStartedWithin(h: EngineHarness, batchId: string, windowMs: number): number {
  const starts = h.attempts
    .filter((a) => a.requestId?.includes(batchId))
    .map((a) => a.endedAt - a.durationMs)
    .sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < starts.length; i++) {
    while (starts[i] - starts[j] > windowMs) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}

forEachDatabase('pacing of a batch lane', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(ctx.db, MODEL_LIST);
  });
  after(async () => h.close());

  // Spacing: 320 ms (the assumed call time) / 16 = 20 ms between starts, a burst of 2.
  const pacing = { share: 1, maxSpacingMs: 20, initialCallMs: 320 };

  test('a lane starts its lines spaced out, and their successors stay spaced out', async () => {
    const id = await h.createBatch(chatLines(48, 'paced-mock', { prefix: 'paced' }));
    await h.waitForStatus(id, ['in_progress']);
    const engine = h.newEngine({ slowStart: { initial: 0 }, pacing });
    try {
      engine.start();
      await h.waitForStatus(id, ['completed']);
      // 48 calls of 200 ms, 16 at a time, start over three rounds: paced, at most the burst and
      // one more in any 20 ms (a timer may fire a few ms late); unpaced, 16 within a few ms.
      const most = mostStartedWithin(h, id, 20);
      assert.ok(most <= 4, `${most} calls started within 20 ms`);
    } finally {
      await engine.stop();
    }
  });

  test('unpaced, a lane starts its whole concurrency at once and its successors in one wave', async () => {
    const id = await h.createBatch(chatLines(32, 'paced-mock', { prefix: 'unpaced' }));
    await h.waitForStatus(id, ['in_progress']);
    const engine = h.newEngine({ slowStart: { initial: 0 }, pacing: { share: 0 } });
    try {
      engine.start();
      await waitUntil(() => engine.calling >= 16, 20_000, 'sixteen calls at once');
      await h.waitForStatus(id, ['completed']);
      const most = mostStartedWithin(h, id, 20);
      assert.ok(most >= 12, `only ${most} calls started within 20 ms: the comparison above would not show pacing`);
    } finally {
      await engine.stop();
    }
  });
});
