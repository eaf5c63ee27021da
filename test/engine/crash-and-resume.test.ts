/**
 * Durability of the engine: an engine process killed with SIGKILL in the middle of a batch, and
 * another engine taking over: every line ends up exactly once in the output, the lines the dead
 * process held are run again once their leases expire, and nothing the dead worker held can be
 * recorded by it afterwards.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, customIds, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: slow-mock
    litellm_params:
      model: mock/slow
      mock_latency_ms: 150
      batch_concurrency: 3
    model_info: { id: slow-mock }
`;

const NODE = process.execPath;
const CHILD = fileURLToPath(new URL('./fixtures/engine-process.ts', import.meta.url));

forEachDatabase('engine crash and resume', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(ctx.db, MODEL_LIST, { engine: { leaseMs: 1_000 } });
  });
  after(async () => {
    await h.close();
  });

  test('an engine killed mid-batch is resumed by another: every line exactly once, its held lines run again', async () => {
    const lines = chatLines(24, 'slow-mock');
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);

    const child = spawn(NODE, [CHILD], {
      env: {
        ...process.env,
        ENGINE_DB_URL: ctx.url,
        ENGINE_INSTANCE: 'doomed',
        ENGINE_LEASE_MS: '1000',
        ENGINE_CONFIG: `${MODEL_LIST}\nportico_settings:\n  files:\n    storage_dir: ${h.config.files.storageDir}\n`,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    try {
      await waitUntil(async () => {
        const counts = await h.items.countByState(id);
        return counts.succeeded >= 6 && counts.running > 0;
      }, 20_000, 'the child engine to be mid-batch');
    } finally {
      child.kill('SIGKILL');
    }
    await exited;

    const held: number[] = [];
    for await (const item of h.items.iterateResults(id)) if (item.state === 'running') held.push(item.lineIndex);
    assert.ok(held.length > 0, 'the killed engine held leases');

    h.engine.start();
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(errors, []);
    assert.deepEqual(customIds(output), customIds(lines));
    assert.deepEqual(batch.request_counts, { total: 24, completed: 24, failed: 0 });

    const attempts = new Map<number, number>();
    for await (const item of h.items.iterateResults(id)) attempts.set(item.lineIndex, item.attempts);
    for (const line of held) assert.ok((attempts.get(line) ?? 0) >= 2, `line ${line} was leased again after the crash`);
    await h.engine.stop();
  });

  test('a worker whose leases expired cannot record its lines once another engine has run them', async () => {
    const lines = chatLines(6, 'slow-mock', { prefix: 'ghost' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    // A worker takes three lines for 300 ms and is never heard of again.
    const abandoned = await h.items.leaseItems(id, 'ghost-worker', 3, 300);
    assert.equal(abandoned.length, 3);

    const engine = h.newEngine({ leaseMs: 1_000 });
    engine.start();
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    await engine.stop();
    const { output } = await h.results(batch);
    assert.deepEqual(customIds(output), customIds(lines));

    for (const item of abandoned) {
      const late = await h.items.completeItem(
        { batchId: id, lineIndex: item.lineIndex },
        { owner: 'ghost-worker', attempt: item.attempts },
        { state: 'succeeded', result: { custom_id: item.customId, late: true } },
      );
      assert.equal(late, false, 'a late completion is refused');
      const stored = await h.items.getItem({ batchId: id, lineIndex: item.lineIndex });
      assert.notDeepEqual((stored?.result as { late?: boolean }).late, true);
    }
  });

  test('a stopped engine gives its running lines back at once, and another instance finishes them', async () => {
    const lines = chatLines(6, 'slow-mock', { prefix: 'rolling' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    // Lines take 150 ms; the stopping engine waits 10 ms for them, then lets go.
    const leaving = h.newEngine({ leaseMs: 60_000, drainMs: 10 });
    leaving.start();
    await waitUntil(async () => (await h.items.countByState(id)).running > 0, 20_000, 'lines running');
    await leaving.stop();
    const afterStop = await h.items.countByState(id);
    assert.equal(afterStop.running, 0, 'no lease is left behind');
    assert.ok(afterStop.pending > 0);

    // The lease was 60 s: only a released line can be picked up this soon.
    const arriving = h.newEngine({ leaseMs: 60_000 });
    arriving.start();
    const batch = await h.waitForStatus(id, ['completed'], 10_000);
    await arriving.stop();
    const { output } = await h.results(batch);
    assert.deepEqual(customIds(output), customIds(lines));
  });
});
