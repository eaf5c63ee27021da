/**
 * Live requests beside a batch on the same deployment: the engine keeps to the deployment's
 * batch concurrency and to its share of `rpm`, counting live requests against it, and never
 * holds up a live request.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const chat = (text: string) => ({ messages: [{ role: 'user', content: text }] });

forEachDatabase('live traffic beside a batch', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(
      ctx.db,
      `
model_list:
  - model_name: busy
    litellm_params:
      model: mock/busy
      mock_latency_ms: 100
      batch_concurrency: 2
    model_info: { id: busy }
  - model_name: metered
    litellm_params:
      model: mock/metered
      rpm: 10
      batch_concurrency: 8
    model_info: { id: metered }
`,
    );
  });
  after(async () => {
    await h.close();
  });

  test('a live request is served while a large batch runs on the same deployment, not queued behind it', async () => {
    const id = await h.createBatch(chatLines(60, 'busy', { prefix: 'big' }));
    await h.waitForStatus(id, ['in_progress']);
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, h.engine.calling)), 5);
    h.engine.start();
    try {
      await waitUntil(async () => (await h.items.countByState(id)).succeeded >= 2, 20_000, 'the batch to be running');
      const live = await h.router.send('busy', (client, call) => client.chatCompletions(chat('live question'), call));
      const counts = await h.items.countByState(id);
      assert.equal(live.status, 200);
      assert.match((live.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, /live question/);
      // The live answer came back while most of the batch was still waiting.
      assert.ok(counts.pending > 30, `pending when the live request was answered: ${counts.pending}`);
      // The batch kept to the deployment's batch_concurrency.
      assert.ok(most <= 2, `calls at once: ${most}`);
      assert.ok(most > 0);
    } finally {
      clearInterval(sampler);
      await h.engine.stop();
    }
    await h.managed.batches.cancel((await import('./engine-harness.ts')).MASTER, id);
  });

  test('the engine uses at most its share of the rpm, counts live requests against it, and live requests still pass', async () => {
    const engine = h.newEngine();
    // rpm 10 with live_traffic_share 0.2 leaves the batch 8 requests a minute; 3 live ones used already.
    for (let i = 0; i < 3; i++) await h.router.send('metered', (client, call) => client.chatCompletions(chat(`before ${i}`), call));
    const id = await h.createBatch(chatLines(20, 'metered', { prefix: 'metered' }));
    await h.waitForStatus(id, ['in_progress']);
    engine.start();
    await waitUntil(async () => (await h.items.countByState(id)).succeeded >= 5, 20_000, 'the batch share to be used');
    // Give the engine time to overstep, if it would.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, 5);
    assert.equal(counts.pending, 15);
    // Live traffic is never limited by the batch budget: two more go through at once.
    for (let i = 0; i < 2; i++) {
      const live = await h.router.send('metered', (client, call) => client.chatCompletions(chat(`after ${i}`), call));
      assert.equal(live.status, 200);
    }
    await engine.stop();
    assert.equal((await h.items.countByState(id)).succeeded, 5);
  });
});
