/**
 * An emulated batch starts once its first lines are loaded and runs them while the rest load
 * (issue 15: loading 10,000 lines took about 200 ms before any line could start). Its
 * `request_counts.total` is the file's line count from the first `in_progress` a client sees, it
 * is never finalised while lines are still to load, and a load cut short (the database failing
 * part-way, as a crash would leave it) is resumed from where the items end: every line exactly
 * once.
 *
 * The load of the rest is held at a gate (the item store's `insertItems`, wrapped) so that what
 * happens meanwhile is seen, not raced.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import type { BatchItemStore, NewBatchItem } from '../../src/storage/batch-item-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, customIds, MASTER, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: quick-mock
    litellm_params:
      model: mock/quick
      mock_latency_ms: 5
      batch_concurrency: 8
    model_info: { id: quick-mock }
`;

const LINES = 450;
/** Lines loaded before the batch starts (`FIRST_LINES` of the emulated executor). */
const FIRST = 100;

interface LoadCall {
  /** The first line index this load inserted. */
  firstLine: number | undefined;
  /** Lines it inserted. */
  inserted: number;
}

/**
 * Wraps `insertItems`: records each load's first line and count; a load other than the first
 * waits for `release()` before inserting; `failAfter` lines makes a load fail part-way once.
 */
function watchLoads(items: BatchItemStore, options: { failAfter?: number } = {}) {
  const original = items.insertItems.bind(items);
  const calls: LoadCall[] = [];
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let failAfter = options.failAfter;
  items.insertItems = async (source, insertOptions) => {
    const call: LoadCall = { firstLine: undefined, inserted: 0 };
    calls.push(call);
    let failing: number | undefined;
    if (calls.length > 1) {
      await gate;
      failing = failAfter;
      failAfter = undefined;
    }
    async function* counted(): AsyncGenerator<NewBatchItem> {
      for await (const item of source) {
        if (failing !== undefined && call.inserted >= failing) throw new Error('the database went away mid-load');
        call.firstLine ??= item.lineIndex;
        call.inserted += 1;
        yield item;
      }
    }
    return original(counted(), insertOptions);
  };
  return { calls, release, restore: () => (items.insertItems = original) };
}

forEachDatabase('emulated batches run while their lines load', (ctx) => {
  let h: EngineHarness;
  let restore: (() => void) | undefined;
  before(async () => {
    h = await startEngineHarness(ctx.db, MODEL_LIST);
  });
  afterEach(async () => {
    restore?.();
    restore = undefined;
    await h.engine.stop();
  });
  after(async () => {
    await h.close();
  });

  test('the first lines run while the rest are held back; the total is the file\'s from the first in_progress; never finalised early', async () => {
    const loads = watchLoads(h.items);
    restore = loads.restore;
    const lines = chatLines(LINES, 'quick-mock', { prefix: 'early' });
    const id = await h.createBatch(lines);
    const started = await h.waitForStatus(id, ['in_progress']);
    assert.deepEqual(started.request_counts, { total: LINES, completed: 0, failed: 0 }, 'the total is the whole file while only the first lines are in');
    assert.equal((await h.items.countByState(id)).pending, FIRST);

    h.engine.start();
    // Every loaded line finishes while the rest of the file is still held back.
    await waitUntil(async () => (await h.items.countByState(id)).succeeded === FIRST, 20_000, 'the first lines to run');
    await new Promise((resolve) => setTimeout(resolve, 300)); // several engine polls and syncs asked for
    const meanwhile = await h.managed.batches.retrieve(MASTER, id);
    assert.equal(meanwhile.status, 'in_progress', 'a batch with lines still to load is not finalised');
    assert.equal(meanwhile.request_counts?.total, LINES);

    loads.release();
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(errors, []);
    assert.deepEqual(customIds(output), customIds(lines));
    assert.deepEqual(batch.request_counts, { total: LINES, completed: LINES, failed: 0 });
    assert.deepEqual(
      loads.calls.map((call) => [call.firstLine, call.inserted]),
      [
        [0, FIRST],
        [FIRST, LINES - FIRST],
      ],
      'the second load resumed after the first lines, inserting each line once',
    );
  });

  test('a load cut short part-way is resumed from where the items end: every line exactly once', async () => {
    const loads = watchLoads(h.items, { failAfter: 150 });
    restore = loads.restore;
    loads.release();
    const lines = chatLines(LINES, 'quick-mock', { prefix: 'resumed' });
    const id = await h.createBatch(lines);
    h.engine.start();
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(errors, []);
    assert.deepEqual(customIds(output), customIds(lines), 'every line once');
    assert.deepEqual(batch.request_counts, { total: LINES, completed: LINES, failed: 0 });
    // First lines, then the rest failing after a chunk, then the rest resumed after that chunk.
    assert.deepEqual(
      loads.calls.map((call) => [call.firstLine, call.inserted]),
      [
        [0, FIRST],
        [FIRST, 150],
        [FIRST + 100, LINES - FIRST - 100],
      ],
      'the resumed load starts after the last chunk stored, not from the top',
    );
    for await (const item of h.items.iterateResults(id)) assert.equal(item.attempts, 1, `line ${item.lineIndex} ran once`);
  });

  test('a cancel while lines are loading: the rest still load, and every line not run ends batch_cancelled', async () => {
    const loads = watchLoads(h.items);
    restore = loads.restore;
    const lines = chatLines(LINES, 'quick-mock', { prefix: 'cancel-loading' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    const cancelling = await h.managed.batches.cancel(MASTER, id);
    assert.equal(cancelling.status, 'cancelling', 'not cancelled while lines are still to load');
    loads.release();
    const batch = await h.waitForStatus(id, ['cancelled'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(output, []);
    assert.deepEqual(customIds(errors), customIds(lines), 'every line answered in the error file');
    assert.ok(errors.every((line) => line.error?.code === 'batch_cancelled'));
    assert.deepEqual(batch.request_counts, { total: LINES, completed: 0, failed: LINES });
  });
});
