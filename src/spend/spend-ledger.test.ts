import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SpendLogRow } from '../storage/spend-log-store.ts';
import { SpendLedger, type SpendLedgerStore } from './spend-ledger.ts';

function row(i: number): SpendLogRow {
  return {
    id: `row-${i}`, requestId: `req-${i}`, callType: '/chat/completions', keyId: null, userId: null, teamId: null, modelGroup: 'chat',
    deploymentId: null, provider: null, model: null, promptTokens: 1, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0, totalTokens: 2,
    spend: 0, status: 'success', latencyMs: 1, startedAt: 0, endedAt: 0, batchId: null, requestCount: 1,
  };
}

class FakeStore implements SpendLedgerStore {
  calls: number[] = [];
  stored = new Map<string, SpendLogRow>();
  failNext = 0;
  async insertMany(rows: readonly SpendLogRow[]) {
    this.calls.push(rows.length);
    if (this.failNext > 0) {
      this.failNext--;
      throw new Error('database down');
    }
    const fresh = rows.filter((r) => !this.stored.has(r.id));
    for (const r of fresh) this.stored.set(r.id, r);
    return fresh;
  }
}

test('rows are written by group commit: one insert per flush, never one per row', async () => {
  const store = new FakeStore();
  const ledger = new SpendLedger({ store, flushIntervalMs: 10_000, rowsPerFlush: 100 });
  for (let i = 0; i < 250; i++) ledger.record(row(i));
  await ledger.flushAll();
  assert.equal(store.stored.size, 250);
  assert.ok(store.calls.length <= 3, `${store.calls.length} inserts for 250 rows`);
  assert.ok(store.calls.every((n) => n <= 100));
});

test('a failed flush keeps its rows and a later flush writes them; close flushes what is left', async () => {
  const store = new FakeStore();
  const errors: unknown[] = [];
  const ledger = new SpendLedger({ store, flushIntervalMs: 5, onFlushError: (error) => errors.push(error) });
  store.failNext = 2;
  for (let i = 0; i < 20; i++) ledger.record(row(i));
  await new Promise((resolve) => setTimeout(resolve, 50));
  for (let i = 20; i < 30; i++) ledger.record(row(i));
  await ledger.close();
  assert.ok(errors.length >= 1);
  assert.equal(store.stored.size, 30);
  assert.equal(ledger.queued, 0);
});

test('over maxQueueRows new work waits for room (backpressure), and is let through once a flush made room', async () => {
  const store = new FakeStore();
  store.failNext = 1_000;
  const ledger = new SpendLedger({ store, flushIntervalMs: 5, maxQueueRows: 10 });
  for (let i = 0; i < 10; i++) ledger.record(row(i));
  assert.equal(ledger.whenRoom(1000, () => new Error('full')) instanceof Promise, true);
  const waiting = ledger.whenRoom(5_000, () => new Error('full'))!;
  store.failNext = 0;
  await waiting;
  assert.equal(ledger.whenRoom(1000, () => new Error('full')), undefined);
  await ledger.close();
  assert.equal(store.stored.size, 10);
});

test('a wait for room gives up with the given error; rows over twice the bound are dropped and counted', async () => {
  const store = new FakeStore();
  store.failNext = 1_000_000;
  let dropped = 0;
  const ledger = new SpendLedger({ store, flushIntervalMs: 10_000, maxQueueRows: 5, onDropped: (n) => (dropped += n) });
  for (let i = 0; i < 12; i++) ledger.record(row(i));
  assert.equal(ledger.queued, 10);
  assert.equal(dropped, 2);
  assert.equal(ledger.dropped, 2);
  await assert.rejects(ledger.whenRoom(20, () => new Error('ledger full'))!, /ledger full/);
});
