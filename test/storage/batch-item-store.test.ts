import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchItemStore, type NewBatchItem } from '../../src/storage/batch-item-store.ts';
import type { Database } from '../../src/storage/database.ts';
import { forEachDatabase, type TestDatabaseContext } from '../helpers/databases.ts';
import { insertBatchWithInput } from './fixtures.ts';

async function instances(ctx: TestDatabaseContext, count: number): Promise<Database[]> {
  const others = await Promise.all(Array.from({ length: count - 1 }, () => ctx.openAnother({ migrate: false })));
  return [ctx.db, ...others];
}

function* lines(batchId: string, count: number, from = 0): Generator<NewBatchItem> {
  for (let i = from; i < from + count; i++) {
    yield {
      batchId,
      lineIndex: i,
      customId: `request-${i}`,
      request: { custom_id: `request-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'm', n: i } },
    };
  }
}

forEachDatabase('batch item store', (ctx) => {
  test('items are inserted in chunks from a stream, and inserting again after a crash adds nothing', async () => {
    const items = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    async function* streamed() {
      yield* lines(batchId, 1_234);
    }
    assert.equal(await items.insertItems(streamed(), { chunkSize: 100 }), 1_234);
    assert.equal(await items.insertItems(lines(batchId, 1_234)), 1_234);
    const counts = await items.countByState(batchId);
    assert.deepEqual(counts, { pending: 1_234, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0 });
    const item = await items.getItem({ batchId, lineIndex: 17 });
    assert.deepEqual(item?.request, { custom_id: 'request-17', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', n: 17 } });
  });

  test('a custom_id appears once per batch', async () => {
    const items = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await items.insertItems(lines(batchId, 2));
    await assert.rejects(items.insertItems([{ batchId, lineIndex: 5, customId: 'request-0', request: {} }]));
  });

  test('every item is leased and completed exactly once by racing workers', async () => {
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await new BatchItemStore(ctx.db).insertItems(lines(batchId, 200));
    const pools = await instances(ctx, 6);
    const leased: number[] = [];
    let refusedCompletions = 0;
    await Promise.all(
      pools.map(async (pool, n) => {
        const store = new BatchItemStore(pool);
        for (;;) {
          const got = await store.leaseItems(batchId, `worker-${n}`, 7, 60_000);
          if (got.length === 0) return;
          for (const item of got) {
            assert.deepEqual([item.state, item.leaseOwner, item.attempts], ['running', `worker-${n}`, 1]);
            leased.push(item.lineIndex);
            const done = await store.completeItem(item, { owner: `worker-${n}`, attempt: item.attempts }, {
              state: item.lineIndex % 10 === 0 ? 'failed' : 'succeeded',
              result: { custom_id: item.customId, worker: n },
              inputTokens: 3,
              outputTokens: 2,
              cachedTokens: 1,
            });
            if (!done) refusedCompletions += 1;
          }
        }
      }),
    );
    assert.equal(leased.length, 200);
    assert.equal(new Set(leased).size, 200, 'no line leased twice');
    assert.equal(refusedCompletions, 0);
    const store = new BatchItemStore(ctx.db);
    assert.deepEqual(await store.countByState(batchId), { pending: 0, running: 0, succeeded: 180, failed: 20, cancelled: 0, expired: 0 });
    const tokens = { inputTokens: 0, outputTokens: 0, cachedTokens: 0 };
    for await (const item of store.iterateResultTexts(batchId)) {
      tokens.inputTokens += item.inputTokens;
      tokens.outputTokens += item.outputTokens;
      tokens.cachedTokens += item.cachedTokens;
    }
    assert.deepEqual(tokens, { inputTokens: 600, outputTokens: 400, cachedTokens: 200 });
  });

  test('a worker whose lease expired cannot complete the line another worker took over', async () => {
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await store.insertItems(lines(batchId, 1));
    const t = 3_000_000_000;
    const [slow] = await store.leaseItems(batchId, 'slow', 10, 1_000, t);
    assert.deepEqual(await store.leaseItems(batchId, 'fast', 10, 1_000, t + 0.5), [], 'lease still held');
    const [fast] = await store.leaseItems(batchId, 'fast', 10, 1_000, t + 2);
    assert.equal(fast.attempts, 2);
    const outcome = { state: 'succeeded' as const, result: { by: 'fast' } };
    assert.equal(await store.completeItem(slow, { owner: 'slow', attempt: slow.attempts }, { ...outcome, result: { by: 'slow' } }), false);
    assert.equal(await store.renewLease(slow, { owner: 'slow', attempt: slow.attempts }, 1_000, t + 2), false);
    assert.ok(await store.completeItem(fast, { owner: 'fast', attempt: fast.attempts }, outcome));
    assert.equal(await store.completeItem(fast, { owner: 'fast', attempt: fast.attempts }, outcome), false, 'completes once');
    const item = await store.getItem(fast);
    assert.deepEqual([item?.state, item?.result, item?.leaseOwner], ['succeeded', { by: 'fast' }, null]);
  });

  test('completeItems records a group in one write, each line only under its own lease', async () => {
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await store.insertItems(lines(batchId, 6));
    const t = 3_000_000_000;
    const leased = await store.leaseItems(batchId, 'w', 6, 1_000, t);
    assert.equal(leased.length, 6);
    // Line 5 goes back and is leased by another worker; line 4 is completed on its own first.
    assert.ok(await store.retryItem(leased[5], { owner: 'w', attempt: leased[5].attempts }, t));
    const [taken] = await store.leaseItems(batchId, 'other', 6, 1_000, t + 0.5);
    assert.equal(taken.lineIndex, 5);
    assert.ok(await store.completeItem(leased[4], { owner: 'w', attempt: leased[4].attempts }, { state: 'succeeded', result: { early: true } }));

    const recorded = await store.completeItems(
      leased.map((item) => ({
        key: item,
        lease: { owner: 'w', attempt: item.attempts },
        outcome: item.lineIndex === 3
          ? { state: 'failed' as const, result: { error: { message: 'bad' } }, finishedAt: 1_800_000_000 }
          : { state: 'succeeded' as const, result: { line: item.lineIndex, text: 'quote \' and \\ and "' }, inputTokens: item.lineIndex, outputTokens: 2, cachedTokens: 1 },
      })),
    );
    assert.deepEqual(recorded, [true, true, true, true, false, false]);
    const results = [];
    for await (const item of store.iterateResults(batchId)) results.push(item);
    assert.deepEqual(results.map((r) => r.state), ['succeeded', 'succeeded', 'succeeded', 'failed', 'succeeded', 'running']);
    assert.deepEqual(results[2].result, { line: 2, text: 'quote \' and \\ and "' });
    assert.deepEqual([results[2].inputTokens, results[2].outputTokens, results[2].cachedTokens, results[2].leaseOwner], [2, 2, 1, null]);
    assert.deepEqual([results[3].result, results[3].finishedAt], [{ error: { message: 'bad' } }, 1_800_000_000]);
    assert.deepEqual(results[4].result, { early: true }, 'a finished line is not overwritten');
    assert.equal(results[5].leaseOwner, 'other', "another worker's line is left alone");
    assert.deepEqual(await store.completeItems([]), []);
  });

  test('a retried item waits for its next attempt time', async () => {
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await store.insertItems(lines(batchId, 1));
    const t = 3_100_000_000;
    const [item] = await store.leaseItems(batchId, 'w', 10, 60_000, t);
    assert.ok(await store.retryItem(item, { owner: 'w', attempt: 1 }, t + 5));
    assert.deepEqual(await store.leaseItems(batchId, 'w', 10, 60_000, t + 4.9), []);
    const [again] = await store.leaseItems(batchId, 'w', 10, 60_000, t + 5);
    assert.equal(again.attempts, 2);
  });

  test('expired leases are reset to pending; unstarted items settle as cancelled or expired', async () => {
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await store.insertItems(lines(batchId, 10));
    const t = 3_200_000_000;
    await store.leaseItems(batchId, 'w', 4, 1_000, t);
    assert.equal(await store.resetExpiredLeases(t + 0.5, batchId), 0);
    assert.equal(await store.resetExpiredLeases(t + 1, batchId), 4);
    assert.equal((await store.countByState(batchId)).pending, 10);

    const [running] = await store.leaseItems(batchId, 'w', 1, 60_000, t + 2);
    assert.equal(await store.settlePending(batchId, 'cancelled', { finishedAt: t }), 9);
    const counts = await store.countByState(batchId);
    assert.deepEqual([counts.cancelled, counts.running, counts.pending], [9, 1, 0]);
    assert.ok(await store.completeItem(running, { owner: 'w', attempt: running.attempts }, { state: 'succeeded', result: {} }));

    const other = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await store.insertItems(lines(other, 3));
    const [stuck] = await store.leaseItems(other, 'w', 1, 60_000, t);
    assert.equal(await store.settlePending(other, 'expired', { includeRunning: true }), 3);
    assert.equal(await store.completeItem(stuck, { owner: 'w', attempt: stuck.attempts }, { state: 'succeeded', result: {} }), false);
  });

  test('results are read back in line order, page by page, without requests', async () => {
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    // Inserted out of order: reading must still follow line_index.
    await store.insertItems(lines(batchId, 25, 25));
    await store.insertItems(lines(batchId, 25, 0));
    for (;;) {
      const got = await store.leaseItems(batchId, 'w', 9, 60_000);
      if (got.length === 0) break;
      for (const item of got) {
        // Every fifth line fails: the error file's pass reads only those.
        const state = item.lineIndex % 5 === 0 ? 'failed' : 'succeeded';
        await store.completeItem(item, { owner: 'w', attempt: item.attempts }, { state, result: { line: item.lineIndex } });
      }
    }
    const read = [];
    for await (const item of store.iterateResults(batchId, { pageSize: 7 })) read.push(item);
    assert.deepEqual(
      read.map((r) => r.lineIndex),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.deepEqual(read[42].result, { line: 42 });
    assert.equal(read[42].customId, 'request-42');
    assert.ok(!('request' in read[0]));
    const failed = [];
    for await (const item of store.iterateResults(batchId, { pageSize: 3, states: ['failed', 'cancelled'] })) failed.push(item.lineIndex);
    assert.deepEqual(failed, Array.from({ length: 10 }, (_, i) => i * 5), 'only the items in the given states, in line order, across pages');
    assert.equal(await store.deleteItems(batchId), 50);
  });

  test('loading and reading a large batch give the event loop a turn between chunks (live requests are not held for the whole file)', async () => {
    // On SQLite every statement runs synchronously on the event loop: a batch's 10,000 lines
    // loaded or read back in one go held live requests for the whole of it (issue 15).
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    let turns = 0;
    let counting = true;
    const countTurns = () => {
      turns += 1;
      if (counting) setImmediate(countTurns);
    };
    setImmediate(countTurns);
    try {
      await store.insertItems(lines(batchId, 1_000), { chunkSize: 100 });
      assert.ok(turns >= 9, `the event loop turned ${turns} times while 10 chunks were inserted`);
      await store.settlePending(batchId, 'cancelled');
      turns = 0;
      let read = 0;
      for await (const _ of store.iterateResults(batchId, { pageSize: 100 })) read += 1;
      assert.equal(read, 1_000);
      assert.ok(turns >= 9, `the event loop turned ${turns} times while 10 pages were read`);
    } finally {
      counting = false;
    }
  });

  test('a paced load tells of each chunk once it is stored, and stores every line', async () => {
    // A batch runs while the rest of its lines load (issue 15): `onChunk` lets the engine lease
    // what was just stored. (`idleShare`'s pacing is measured in bench/README.md, not timed here.)
    const store = new BatchItemStore(ctx.db);
    const batchId = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const seenAtChunk: Promise<number>[] = [];
    const inserted = await store.insertItems(lines(batchId, 450), {
      chunkSize: 100,
      idleShare: 1,
      onChunk: () => seenAtChunk.push(store.countByState(batchId).then((counts) => counts.pending)),
    });
    assert.equal(inserted, 450);
    const seen = await Promise.all(seenAtChunk);
    assert.equal(seen.length, 5, 'one call per chunk, the last partial one included');
    // Each chunk was stored when told of (a count read then may already see the next one).
    seen.forEach((pending, chunk) => assert.ok(pending >= Math.min(450, (chunk + 1) * 100), `chunk ${chunk}: ${pending} items stored`));
    assert.equal((await store.countByState(batchId)).pending, 450);
  });

  test('without a batch id, items of every batch are leased', async () => {
    const store = new BatchItemStore(ctx.db);
    const a = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    const b = await insertBatchWithInput(ctx.db, { execution: 'emulated' });
    await store.insertItems(lines(a, 2));
    await store.insertItems(lines(b, 2));
    const got = await store.leaseItems(null, 'w', 10_000, 60_000);
    const batches = new Set(got.map((i) => i.batchId));
    assert.ok(batches.has(a) && batches.has(b));
  });
});
