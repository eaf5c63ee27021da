/**
 * Ending an emulated batch early: a cancel stops new lines, lets running ones finish and keeps
 * their output; the 24 h window ends the lines not yet run with `batch_expired` error lines.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, customIds, MASTER, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: slow-mock
    litellm_params:
      model: mock/slow
      mock_latency_ms: 300
      batch_concurrency: 2
    model_info: { id: slow-mock }
`;

forEachDatabase('cancelling and expiring emulated batches', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(ctx.db, MODEL_LIST);
  });
  after(async () => {
    await h.close();
  });

  test('cancel mid-run: pending lines are cancelled, running ones finish, partial output, status cancelled', async () => {
    const lines = chatLines(20, 'slow-mock', { prefix: 'cancel' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    h.engine.start();
    await waitUntil(async () => {
      const counts = await h.items.countByState(id);
      return counts.succeeded >= 2 && counts.running > 0;
    }, 20_000, 'lines running');

    const cancelling = await h.managed.batches.cancel(MASTER, id);
    assert.ok(['cancelling', 'cancelled'].includes(cancelling.status), cancelling.status);
    const atCancel = await h.items.countByState(id);
    assert.ok(atCancel.running > 0, 'lines were running when the cancel came');
    // A line the engine had leased and held ready for a slot goes back to `pending` when the engine
    // sees its batch is no longer active, which may be just after the cancel settled the pending
    // ones; the batch's own sync then cancels it. So: no line is left waiting, soon.
    await waitUntil(async () => (await h.items.countByState(id)).pending === 0, 10_000, 'no line waits once the batch is cancelled');

    const batch = await h.waitForStatus(id, ['cancelled']);
    const { output, errors } = await h.results(batch);
    // The lines whose calls were running at the cancel finished and kept their output; lines
    // leased and held ready for a slot (also 'running' in the table) may end cancelled instead.
    assert.ok(output.length >= atCancel.succeeded, `${output.length} lines output, ${atCancel.succeeded} done at the cancel`);
    assert.ok(output.length <= atCancel.succeeded + atCancel.running, `${output.length} lines output, ${atCancel.succeeded + atCancel.running} done or leased at the cancel`);
    assert.ok(output.every((line) => line.response?.status_code === 200));
    assert.equal(errors.length, 20 - output.length);
    for (const line of errors) {
      assert.equal(line.response, null);
      assert.equal(line.error?.code, 'batch_cancelled');
    }
    assert.deepEqual(customIds([...output, ...errors]), customIds(lines));
    assert.deepEqual(batch.request_counts, { total: 20, completed: output.length, failed: errors.length });
    assert.ok(batch.cancelling_at !== null && batch.cancelled_at !== null);
    assert.ok((batch.usage?.input_tokens ?? 0) > 0);
    await h.engine.stop();
    // No call started after the cancel: the upstream saw only the lines in the output.
    const calls = h.attempts.filter((a) => a.requestId?.includes(id));
    assert.equal(calls.length, output.length);
  });

  test('expiry: a batch past its 24 h window ends the lines not yet run with batch_expired error lines', async () => {
    // The harness's own engine is stopped by the test above; stopped again here so that a failure
    // there (the engine left running) cannot run this batch's lines too.
    await h.engine.stop();
    const lines = chatLines(12, 'slow-mock', { prefix: 'expiry' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    const engine = h.newEngine();
    engine.start();
    await waitUntil(async () => (await h.items.countByState(id)).succeeded >= 3, 20_000, 'some lines done');
    await engine.stop();
    const done = (await h.items.countByState(id)).succeeded;

    // The window passes (as it would 24 hours after creation).
    await h.managed.batchStore.update(id, { expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const batch = await h.waitForStatus(id, ['expired']);
    const { output, errors } = await h.results(batch);
    assert.equal(output.length, done);
    assert.equal(errors.length, 12 - done);
    for (const line of errors) {
      assert.match(line.id, /^batch_req_/);
      assert.deepEqual(line.error, { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' });
      assert.equal(line.response, null);
    }
    assert.deepEqual(customIds([...output, ...errors]), customIds(lines));
    assert.deepEqual(batch.request_counts, { total: 12, completed: done, failed: 12 - done });
    assert.ok(batch.expired_at !== null);
  });
});
