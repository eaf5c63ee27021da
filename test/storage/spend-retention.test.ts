/** The retention sweep deletes old ledger rows in batches, holding a lease one instance at a time. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { JobLeaseStore } from '../../src/storage/job-lease-store.ts';
import { SpendLogStore, type SpendLogRow } from '../../src/storage/spend-log-store.ts';
import { SPEND_RETENTION_LEASE, sweepSpendLogs } from '../../src/jobs/spend-retention.ts';
import { createLogger } from '../../src/observability/logger.ts';

const logger = createLogger({ level: 'silent' });

function row(id: string, startedAt: number): SpendLogRow {
  return {
    id, requestId: id, callType: '/chat/completions', keyId: null, userId: null, teamId: null, modelGroup: 'chat', deploymentId: null, provider: null,
    model: null, promptTokens: 1, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0, totalTokens: 2, spend: 0.5, status: 'success',
    latencyMs: 1, startedAt, endedAt: startedAt, batchId: null, requestCount: 1,
  };
}

forEachDatabase('spend retention', (ctx) => {
  test('rows older than the retention are deleted in batches; newer ones stay; a held lease stops a second sweeper', async () => {
    const store = new SpendLogStore(ctx.db);
    const leases = new JobLeaseStore(ctx.db);
    const now = Date.now();
    const old = Array.from({ length: 2500 }, (_, i) => row(`old-${i}`, now / 1000 - 10 * 86_400 - i));
    const fresh = Array.from({ length: 5 }, (_, i) => row(`new-${i}`, now / 1000 - 60));
    for (let i = 0; i < old.length; i += 1000) await store.insertMany(old.slice(i, i + 1000));
    assert.equal((await store.insertMany([...fresh, row('old-0', 0)])).length, 5, 'a row already stored is not inserted (nor charged) twice');
    assert.ok(await leases.tryAcquire(SPEND_RETENTION_LEASE, 'other-instance', 60_000));
    const options = { store, leases, retentionMs: 7 * 86_400_000, intervalMs: 1000, logger, now: () => now };
    assert.equal(await sweepSpendLogs(options, 'me'), 0, 'another instance holds the lease');
    await leases.release(SPEND_RETENTION_LEASE, 'other-instance');
    assert.equal(await sweepSpendLogs(options, 'me'), 2500);
    assert.equal(await store.count({}), 5);
  });
});
