/**
 * A cancel (the client's, or a deleted key's sweep) can land while a sync holds the batch and has
 * already read it. The sync's progress report, computed from that stale read, must not undo it:
 * found under load, where a deleted key's emulated batch was reset to `in_progress` and ran to
 * `completed` (issue 9, state guards on every transition).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BatchSynchronizer } from '../../src/managed/batches/batch-sync.ts';
import type { ProviderBatch } from '../../src/spec/provider.ts';
import { BatchStore } from '../../src/storage/batch-store.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import type { BatchSyncDeps } from '../../src/managed/batches/batch-sync.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { inProgressProviderBatch } from '../helpers/provider-batches.ts';
import { newBatch, newFile } from '../storage/fixtures.ts';

function inProgressReport(id: string): ProviderBatch {
  return inProgressProviderBatch(id, { inProgressAt: 1_750_000_000, requestCounts: { total: 100, completed: 40, failed: 0 } });
}

forEachDatabase('batch sync and cancels', (ctx) => {
  test('a progress report computed before a cancel landed does not undo the cancel', async () => {
    const batches = new BatchStore(ctx.db);
    const input = newFile({ owner: 'user:carol' });
    await new FileStore(ctx.db).insert(input);
    const created = newBatch(input.id, { owner: 'user:carol', status: 'in_progress', execution: 'emulated', nextSyncAt: 1 });
    await batches.insert(created);
    const [leased] = await batches.leaseDueBatches('sync-owner', 1, 30_000, 2_000_000_000);
    assert.equal(leased?.id, created.id);

    // The sync read the batch (`leased`); then the cancel lands.
    assert.ok(await batches.update(created.id, { status: 'cancelling', cancellingAt: 1_750_000_050 }, { expectedStatus: ['validating', 'in_progress'] }));

    const sync = new BatchSynchronizer({ batches, instanceId: 'test' } as unknown as BatchSyncDeps);
    await sync.applyProgress(leased, inProgressReport(created.id), 'sync-owner');

    const after = await batches.getById(created.id);
    assert.equal(after?.status, 'cancelling');
    assert.equal(after?.cancellingAt, 1_750_000_050);
    assert.equal(after?.requestCompleted, 40, 'the progress itself is recorded');
  });
});
