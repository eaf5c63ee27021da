import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../spec/errors.ts';
import { awsErrorToUpstreamError } from '../bedrock/errors.ts';
import { googleErrorToUpstreamError } from '../gemini/errors.ts';
import { createRetryDelayMs, isCreateRefusal, parseQueuedCreateId, QueuedCreates, queuedBatch, queuedCreateId, QUEUED_WINDOW_SECONDS, settleQueuedCreate } from './queued-creates.ts';

const googleQuota = () => googleErrorToUpstreamError({ httpStatus: 429, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for concurrent batch jobs' } } });

describe('queued batch creates', () => {
  it('a queued id names its staged input and its time, has no part separator, and is never read as a provider id', () => {
    for (const location of ['gs://bucket/some,prefix/portico-batches/batch_abc-1-0a1b2c3d/input.jsonl', 'files/abc-123', 's3://bucket/p/portico-batches/batch_x/part-0.jsonl']) {
      const queued = { location, queuedAt: 1_764_900_000 };
      const id = queuedCreateId(queued);
      assert.ok(!id.includes(','), id);
      assert.deepEqual(parseQueuedCreateId(id), queued);
    }
    assert.equal(parseQueuedCreateId('1234567890123'), null, 'a Vertex job id');
    assert.equal(parseQueuedCreateId('batches/abc123'), null, 'a Gemini batch name');
    assert.equal(parseQueuedCreateId('queued-x-abc'), null);
  });

  it("Google's 429 RESOURCE_EXHAUSTED and Bedrock's ThrottlingException / ServiceQuotaExceededException are refusals; other errors are not", () => {
    assert.equal(isCreateRefusal(googleQuota()), true);
    assert.equal(isCreateRefusal(awsErrorToUpstreamError({ httpStatus: 429, errorType: 'ThrottlingException', body: { message: 'slow down' } })), true);
    assert.equal(isCreateRefusal(awsErrorToUpstreamError({ httpStatus: 400, errorType: 'ServiceQuotaExceededException', body: { message: 'too many jobs' } })), true);
    assert.equal(isCreateRefusal(googleErrorToUpstreamError({ httpStatus: 400, body: { error: { code: 400, status: 'INVALID_ARGUMENT', message: 'bad' } } })), false);
    assert.equal(isCreateRefusal(awsErrorToUpstreamError({ httpStatus: 400, errorType: 'ValidationException', body: { message: 'bad' } })), false);
    assert.equal(isCreateRefusal(new UpstreamError(503, { message: 'unavailable', type: 'api_error', param: null, code: null })), false);
    assert.equal(isCreateRefusal(new Error('socket hang up')), false);
  });

  it('the wait between tries starts at 1 s and doubles up to 60 s', () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 100].map(createRetryDelayMs), [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('a waiting part is validating with no requests counted; one ended before its create is cancelled or expired', () => {
    const queued = { location: 'gs://b/p/input.jsonl', queuedAt: 100 };
    assert.equal(queuedBatch(queued, 'validating', 200).status, 'validating');
    assert.deepEqual(queuedBatch(queued, 'validating', 200).requestCounts, { total: 0, completed: 0, failed: 0 });
    assert.equal(queuedBatch(queued, 'cancelled', 200).cancelledAt, 200);
    assert.equal(queuedBatch(queued, 'expired', 200).expiredAt, 200);
  });

  it('a refused part is tried again only once its backoff has passed, and is created when the provider takes it', async () => {
    let clock = 0;
    const tries = new QueuedCreates(() => clock);
    const queued = { location: 'files/x', queuedAt: 0 };
    let answers = [googleQuota(), googleQuota()] as unknown[];
    let creates = 0;
    const steps = {
      cancelled: async () => false,
      create: async () => {
        creates += 1;
        const next = answers.shift();
        if (next !== undefined) throw next;
        return 'batches/made';
      },
    };
    const look = () => settleQueuedCreate(queued, steps, { tries, upstreamName: 'Gemini', create: true, nowSeconds: Math.floor(clock / 1000) });
    assert.equal((await look()).status, 'validating');
    assert.equal(creates, 1);
    clock = 999;
    assert.equal((await look()).status, 'validating');
    assert.equal(creates, 1, 'not before 1 s');
    clock = 1_000;
    assert.equal((await look()).status, 'validating');
    assert.equal(creates, 2);
    clock = 2_999;
    await look();
    assert.equal(creates, 2, 'the second wait is 2 s');
    clock = 3_000;
    assert.deepEqual(await look(), { created: 'batches/made' });
    assert.equal(creates, 3);
    answers = [];
  });

  it("a part still refused when its window ends expires with the provider's 429 message in its errors", async () => {
    let clock = 0;
    const tries = new QueuedCreates(() => clock);
    const queued = { location: 'files/y', queuedAt: 0 };
    const steps = { cancelled: async () => false, create: async (): Promise<string> => { throw googleQuota(); } };
    const look = () => settleQueuedCreate(queued, steps, { tries, upstreamName: 'Gemini', create: true, nowSeconds: Math.floor(clock / 1000) });
    assert.equal((await look()).status, 'validating');
    clock = QUEUED_WINDOW_SECONDS * 1000;
    const settled = await look();
    assert.equal(settled.status, 'expired');
    assert.ok(settled.status === 'expired');
    assert.equal(settled.errors[0]!.code, 'batch_create_refused');
    assert.match(settled.errors[0]!.message, /^Gemini refused the batch create \(429\) until its completion window ended: .*Quota exceeded for concurrent batch jobs/);
  });

  it('a part cancelled before its create is cancelled and never created; one another look created is found', async () => {
    const tries = new QueuedCreates(() => 0);
    const queued = { location: 'files/z', queuedAt: 0 };
    let creates = 0;
    const create = async () => {
      creates += 1;
      return 'new';
    };
    assert.deepEqual(await settleQueuedCreate(queued, { cancelled: async () => true, create }, { tries, upstreamName: 'x', create: true, nowSeconds: 0 }), { status: 'cancelled' });
    assert.deepEqual(await settleQueuedCreate(queued, { find: async () => 'found', cancelled: async () => false, create }, { tries, upstreamName: 'x', create: true, nowSeconds: 0 }), { created: 'found' });
    assert.equal(creates, 0);
  });
});
