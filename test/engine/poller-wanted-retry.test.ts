/**
 * A batch asked for by `wantSync` (just created, or its last line recorded) whose lease another
 * sync holds (a client's retrieve, a refresh) is asked for again after 25, 50, then 100 ms, not
 * at the poller's next turn (a second by default): its completion is noticed sooner (issue 15).
 * Here the poller's cadence is a minute, so only the quick retries can sync it in time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createBatchPoller } from '../../src/jobs/batch-poller.ts';
import type { BatchExecutor } from '../../src/managed/batches/batch-executor.ts';
import { BatchSynchronizer } from '../../src/managed/batches/batch-sync.ts';
import type { Router } from '../../src/routing/router.ts';
import type { ProviderBatch } from '../../src/spec/provider.ts';
import type { BatchRecord } from '../../src/storage/batch-store.ts';
import { BatchStore } from '../../src/storage/batch-store.ts';
import type { BlobStore } from '../../src/storage/blob-store.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { newBatch, newFile } from '../storage/fixtures.ts';
import { testLogger } from './engine-harness.ts';
import { inProgressProviderBatch } from '../helpers/provider-batches.ts';

/** An executor that records when it was asked to refresh, and reports the batch still running. */
function recordingExecutor(refreshedAt: number[]): BatchExecutor {
  return {
    execution: 'native_file',
    async refresh(batch: BatchRecord): Promise<ProviderBatch> {
      refreshedAt.push(Date.now());
      return inProgressProviderBatch(batch.id, { createdAt: batch.createdAt, inProgressAt: batch.createdAt, requestCounts: { total: 1, completed: 0, failed: 0 } });
    },
  } as unknown as BatchExecutor;
}

forEachDatabase('the batch poller asks again soon for a wanted batch whose lease was held', (ctx) => {
  test('a wanted batch is synced within a few hundred ms of the other sync releasing its lease, though the poller turns once a minute', async () => {
    const batches = new BatchStore(ctx.db);
    const files = new FileStore(ctx.db);
    const input = newFile();
    await files.insert(input);
    // Not due for an hour: only `wantSync` brings the poller to it.
    const batch = newBatch(input.id, { status: 'in_progress', nextSyncAt: Math.floor(Date.now() / 1000) + 3_600 });
    await batches.insert(batch);
    const refreshedAt: number[] = [];
    const synchronizer = new BatchSynchronizer({
      router: { redact: (text: string) => text, deployment: () => undefined } as unknown as Router,
      batches,
      blobs: {} as BlobStore,
      executors: [recordingExecutor(refreshedAt)],
      files: { batchFileDefaultExpirySeconds: 0 } as never,
      logger: testLogger(),
      instanceId: 'poller-test',
    });
    const poller = createBatchPoller({ batches, synchronizer, logger: testLogger(), intervalMs: 60_000 });
    poller.start();
    try {
      // Another sync (a client's retrieve) holds the batch while the poller is asked for it.
      assert.ok(await batches.acquireLease(batch.id, 'a-retrieve', 15_000));
      synchronizer.wantSync(batch.id);
      await new Promise((resolve) => setTimeout(resolve, 40));
      assert.equal(refreshedAt.length, 0, 'not synced while the other sync holds it');
      const releasedAt = Date.now();
      assert.ok(await batches.releaseLease(batch.id, 'a-retrieve'));
      const deadline = releasedAt + 2_000;
      while (refreshedAt.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal(refreshedAt.length, 1, 'synced once the lease was free, long before the poller\'s next turn');
      // The retries wait 25, 50, 100 ms: the one after the release comes within 100 ms of it
      // (plus the time of a query and a loaded machine's timer lateness).
      assert.ok(refreshedAt[0] - releasedAt < 600, `synced ${refreshedAt[0] - releasedAt} ms after the release`);
    } finally {
      await poller.stop();
    }
  });
});
