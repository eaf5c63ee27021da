/**
 * Group commit of finished batch lines (src/jobs/batch-line-results.ts) on both databases:
 * completions arriving while a write is in flight share the next write, every line is still
 * recorded under its own lease, and a group that fails as a whole is written line by line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchLineResults } from '../../src/jobs/batch-line-results.ts';
import { DatabaseUnavailableError } from '../../src/spec/errors.ts';
import { BatchItemStore, type BatchItemCompletion } from '../../src/storage/batch-item-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { insertBatchWithInput } from '../storage/fixtures.ts';

/** The real store, counting the group writes it is asked for (and failing the first, when told to). */
class ObservedStore extends BatchItemStore {
  groups: number[] = [];
  failNextGroup = false;
  /** While true, every write fails as a database that is down does. */
  unavailable = false;

  override async completeItems(entries: readonly BatchItemCompletion[]): Promise<boolean[]> {
    this.groups.push(entries.length);
    if (this.unavailable) throw new DatabaseUnavailableError();
    if (this.failNextGroup) {
      this.failNextGroup = false;
      throw new Error('deadlock detected');
    }
    return super.completeItems(entries);
  }

  override async completeItem(...args: Parameters<BatchItemStore['completeItem']>): Promise<boolean> {
    if (this.unavailable) throw new DatabaseUnavailableError();
    return super.completeItem(...args);
  }
}

async function leasedLines(store: BatchItemStore, batchId: string, count: number) {
  await store.insertItems(
    Array.from({ length: count }, (_, i) => ({ batchId, lineIndex: i, customId: `r-${i}`, request: { custom_id: `r-${i}` } })),
  );
  return store.leaseItems(batchId, 'engine', count, 60_000);
}

forEachDatabase('batch line results', (ctx) => {
  test('completions that arrive during a write are written together by the next one, each under its lease', async () => {
    const store = new ObservedStore(ctx.db);
    const results = new BatchLineResults(store, { maxGroup: 30 });
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const items = await leasedLines(store, batchId, 50);
    const recorded = await Promise.all(
      items.map((item) =>
        results.complete(item, { owner: item.lineIndex === 7 ? 'someone-else' : 'engine', attempt: item.attempts }, { state: 'succeeded', result: { line: item.lineIndex } }),
      ),
    );
    assert.deepEqual(recorded.map((ok, i) => (ok ? i : -1)).filter((i) => i < 0), [-1], 'only the line under a foreign lease is refused');
    // The first completion is written alone, at once; the 49 that queued meanwhile go in groups of at most 30.
    assert.deepEqual(store.groups, [1, 30, 19]);
    const counts = await store.countByState(batchId);
    assert.deepEqual([counts.succeeded, counts.running], [49, 1]);
  });

  test('a group that fails as a whole is written line by line', async () => {
    const store = new ObservedStore(ctx.db);
    const results = new BatchLineResults(store);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const items = await leasedLines(store, batchId, 5);
    store.failNextGroup = true;
    const recorded = await Promise.all(items.map((item) => results.complete(item, { owner: 'engine', attempt: item.attempts }, { state: 'succeeded', result: {} })));
    assert.deepEqual(recorded, [true, true, true, true, true]);
    assert.equal((await store.countByState(batchId)).succeeded, 5);
  });

  test('results that find the database unavailable are kept and written once it is back (the line is not run again)', async () => {
    const store = new ObservedStore(ctx.db);
    const results = new BatchLineResults(store, { retryMinMs: 10, retryMaxMs: 20 });
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const items = await leasedLines(store, batchId, 3);
    store.unavailable = true;
    const recording = Promise.all(items.map((item) => results.complete(item, { owner: 'engine', attempt: item.attempts }, { state: 'succeeded', result: {} })));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(store.groups.length >= 2, 'written again while the database is away');
    assert.equal(results.pending, 3);
    store.unavailable = false;
    assert.deepEqual(await recording, [true, true, true]);
    assert.equal((await store.countByState(batchId)).succeeded, 3);
  });

  test('abandoned while the database is away, waiting results are rejected (their leases expire)', async () => {
    const store = new ObservedStore(ctx.db);
    const results = new BatchLineResults(store, { retryMinMs: 10, retryMaxMs: 20 });
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const [item] = await leasedLines(store, batchId, 1);
    store.unavailable = true;
    const recording = results.complete(item, { owner: 'engine', attempt: item.attempts }, { state: 'succeeded', result: {} });
    await new Promise((resolve) => setTimeout(resolve, 50));
    results.abandon(new Error('stopping'));
    await assert.rejects(recording, /stopping/);
    assert.equal(results.pending, 0);
    assert.equal((await store.countByState(batchId)).running, 1);
  });
});

forEachDatabase('batch line results, answers arriving one per turn of the event loop', (ctx) => {
  test('completions within the group window of the last write share the next write (SQLite wrote each alone)', async () => {
    const store = new ObservedStore(ctx.db);
    const results = new BatchLineResults(store, { groupWindowMs: 200 });
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const items = await leasedLines(store, batchId, 20);
    // As the engine sees answers: each in its own macrotask, after the previous one's write began.
    const recorded: Promise<boolean>[] = [];
    for (const item of items) {
      recorded.push(results.complete(item, { owner: 'engine', attempt: item.attempts }, { state: 'succeeded', result: { line: item.lineIndex } }));
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.ok((await Promise.all(recorded)).every(Boolean));
    // The first is written at once; the 19 that followed within the window go together.
    assert.deepEqual(store.groups, [1, 19]);
    assert.equal((await store.countByState(batchId)).succeeded, 20);
  });
});
