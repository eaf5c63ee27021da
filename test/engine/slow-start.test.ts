/**
 * Issue 15: a lane that begins work ramps its upstream calls up (doubling every step) instead of
 * starting `batch_concurrency` calls in one burst, so the first wave's connections do not hold up
 * the live requests on the same gateway; the ramp grows on a timer, not only as calls end. With
 * slow start off the whole lane starts at once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BatchEngine } from '../../src/jobs/batch-engine.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: ramp-mock
    litellm_params:
      model: mock/ramp
      mock_latency_ms: 800
      batch_concurrency: 16
    model_info: { id: ramp-mock }
`;

/** Samples `engine.calling` every few ms until stopped: [ms since the first call, calls]. */
function sampleCalls(engine: BatchEngine): { samples: Array<[number, number]>; stop: () => void } {
  const samples: Array<[number, number]> = [];
  let firstAt: number | undefined;
  const timer = setInterval(() => {
    if (engine.calling === 0 && firstAt === undefined) return;
    firstAt ??= Date.now();
    samples.push([Date.now() - firstAt, engine.calling]);
  }, 2);
  return { samples, stop: () => clearInterval(timer) };
}

const mostWithin = (samples: Array<[number, number]>, ms: number) => Math.max(0, ...samples.filter(([at]) => at <= ms).map(([, calls]) => calls));

forEachDatabase('slow start of a batch lane', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(ctx.db, MODEL_LIST);
  });
  after(async () => h.close());

  test('a new lane starts a few calls and doubles them on a timer up to batch_concurrency', async () => {
    const id = await h.createBatch(chatLines(32, 'ramp-mock', { prefix: 'ramp' }));
    await h.waitForStatus(id, ['in_progress']);
    // No poll in between: only the ramp's own timer can start more lines before the first calls end.
    const engine = h.newEngine({ slowStart: { initial: 2, stepMs: 100 }, pollIntervalMs: 60_000 });
    const sampler = sampleCalls(engine);
    try {
      engine.start();
      // 2, 4, 8, 16 calls at 0, 100, 200, 300 ms: the whole lane before the first call (800 ms) ends.
      await waitUntil(() => engine.calling >= 16, 20_000, 'sixteen calls at once');
      assert.equal(h.attempts.filter((a) => a.requestId?.includes(id)).length, 0, 'the ramp grew without waiting for calls to end');
      assert.ok(mostWithin(sampler.samples, 60) <= 2, `at most 2 calls in the first step, saw ${mostWithin(sampler.samples, 60)}`);
      assert.ok(Math.max(...sampler.samples.map(([, calls]) => calls)) <= 16, 'never more than batch_concurrency');
      await h.waitForStatus(id, ['completed']);
    } finally {
      sampler.stop();
      await engine.stop();
    }
  });

  test('with slow start off, the whole lane starts at once', async () => {
    const id = await h.createBatch(chatLines(16, 'ramp-mock', { prefix: 'burst' }));
    await h.waitForStatus(id, ['in_progress']);
    // Pacing off too: this is about the ramp; paced starts are pinned by pacing.test.ts.
    const engine = h.newEngine({ slowStart: { initial: 0 }, pacing: { share: 0 } });
    const sampler = sampleCalls(engine);
    try {
      engine.start();
      await waitUntil(() => engine.calling >= 16, 20_000, 'sixteen calls at once');
      // The sampler's next tick (its timer and waitUntil's can fire in either order); the calls last 800 ms.
      await new Promise((resolve) => setTimeout(resolve, 20));
      const allAt = Math.min(...sampler.samples.filter(([, calls]) => calls >= 16).map(([at]) => at));
      assert.ok(allAt < 100, `all 16 calls started ${allAt} ms after the first, not at once`);
      await h.waitForStatus(id, ['completed']);
    } finally {
      sampler.stop();
      await engine.stop();
    }
  });
});
