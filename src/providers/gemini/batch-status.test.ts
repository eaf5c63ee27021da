import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapGeminiBatchState, toProviderBatch } from './batch-status.ts';

describe('Gemini batch operation -> ProviderBatch', () => {
  it('maps both the BATCH_STATE_* words of the REST reference and the JOB_STATE_* of the guide', () => {
    const pairs = [
      ['PENDING', 'validating'],
      ['RUNNING', 'in_progress'],
      ['SUCCEEDED', 'completed'],
      ['FAILED', 'failed'],
      ['CANCELLED', 'cancelled'],
      ['EXPIRED', 'expired'],
    ] as const;
    for (const [word, status] of pairs) {
      assert.equal(mapGeminiBatchState(`BATCH_STATE_${word}`), status);
      assert.equal(mapGeminiBatchState(`JOB_STATE_${word}`), status);
    }
    assert.equal(mapGeminiBatchState('BATCH_STATE_SOMETHING_NEW'), 'in_progress');
  });

  it('reads the id, times and int64 counts (strings)', () => {
    const batch = toProviderBatch({
      name: 'batches/abc',
      metadata: {
        state: 'BATCH_STATE_SUCCEEDED',
        createTime: '2026-01-01T00:00:00Z',
        endTime: '2026-01-01T01:00:00Z',
        batchStats: { requestCount: '3', successfulRequestCount: '2', failedRequestCount: '1' },
      },
      done: true,
    });
    assert.equal(batch.id, 'abc');
    assert.equal(batch.status, 'completed');
    assert.equal(batch.rawStatus, 'BATCH_STATE_SUCCEEDED');
    assert.equal(batch.createdAt, 1767225600);
    assert.equal(batch.completedAt, 1767229200);
    assert.equal(batch.expiresAt, 1767225600 + 48 * 3600);
    assert.deepEqual(batch.requestCounts, { total: 3, completed: 2, failed: 1 });
  });

  it('a failed operation carries its error', () => {
    const batch = toProviderBatch({ name: 'batches/x', metadata: { state: 'BATCH_STATE_FAILED' }, error: { code: 3, message: 'bad file', status: 'INVALID_ARGUMENT' } });
    assert.equal(batch.status, 'failed');
    assert.deepEqual(batch.errors, [{ code: 'invalid_argument', message: 'bad file', param: null, line: null }]);
  });
});
