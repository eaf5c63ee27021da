import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../spec/errors.ts';
import { googleErrorToUpstreamError } from '../gemini/errors.ts';
import { isQuotaRefusal, parseQueuedJobId, queuedBatch, queuedJobId } from './queued-jobs.ts';

describe('queued batch prediction jobs', () => {
  it('a queued id names its staged input and its time, has no part separator, and is never read as a job id', () => {
    const job = { location: 'gs://bucket/some,prefix/portico-batches/batch_abc-1-0a1b2c3d/input.jsonl', queuedAt: 1_764_900_000 };
    const id = queuedJobId(job);
    assert.ok(!id.includes(','), id);
    assert.deepEqual(parseQueuedJobId(id), job);
    assert.equal(parseQueuedJobId('1234567890123'), null, 'a Vertex job id');
    assert.equal(parseQueuedJobId('queued-x-abc'), null);
  });

  it("Google's 429 RESOURCE_EXHAUSTED is a quota refusal; other errors are not", () => {
    const quota = googleErrorToUpstreamError({ httpStatus: 429, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for aiplatform.googleapis.com/concurrent_batch_prediction_jobs' } } });
    assert.equal(isQuotaRefusal(quota), true);
    assert.equal(isQuotaRefusal(googleErrorToUpstreamError({ httpStatus: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'bad' } } })), false);
    assert.equal(isQuotaRefusal(new UpstreamError(503, { message: 'unavailable', type: 'api_error', param: null, code: null })), false);
    assert.equal(isQuotaRefusal(new Error('socket hang up')), false);
  });

  it('a waiting part is validating with no requests counted; one ended before its job is cancelled or expired', () => {
    const job = { location: 'gs://b/p/input.jsonl', queuedAt: 100 };
    assert.equal(queuedBatch(job, 'validating', 200).status, 'validating');
    assert.deepEqual(queuedBatch(job, 'validating', 200).requestCounts, { total: 0, completed: 0, failed: 0 });
    assert.equal(queuedBatch(job, 'cancelled', 200).cancelledAt, 200);
    assert.equal(queuedBatch(job, 'expired', 200).expiredAt, 200);
  });
});
