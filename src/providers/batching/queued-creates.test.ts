import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../spec/errors.ts';
import type { StagedPartContext } from '../../spec/provider.ts';
import { awsErrorToUpstreamError } from '../bedrock/errors.ts';
import { googleErrorToUpstreamError } from '../gemini/errors.ts';
import {
  cancelQueuedCreate,
  createRetryDelayMs,
  firstRefusal,
  isCreateRefusal,
  parseQueuedCreateId,
  parseQueuedState,
  queuedBatch,
  queuedCreateId,
  queuedProgress,
  settleQueuedCreate,
  type QueuedCreateSteps,
} from './queued-creates.ts';

const googleQuota = () => googleErrorToUpstreamError({ httpStatus: 429, body: { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: 'Quota exceeded for concurrent batch jobs' } } });

/** A provider's steps over plain strings (a created batch is its id), recording what was asked. */
function steps(options: { refusals?: unknown[]; marked?: boolean; existing?: string | null; createdElsewhere?: () => string | null } = {}) {
  const log = { creates: 0, cancelled: [] as string[], marks: 0, finds: [] as (string | undefined)[] };
  const answers = [...(options.refusals ?? [])];
  let marked = options.marked ?? false;
  const made: string[] = options.existing ? [options.existing] : [];
  const value: QueuedCreateSteps<string> = {
    async find(known) {
      log.finds.push(known);
      if (known !== undefined) return known;
      return made[0] ?? options.createdElsewhere?.() ?? null;
    },
    idOf: (created) => created,
    cancelled: async () => marked,
    async markCancelled() {
      log.marks += 1;
      marked = true;
    },
    async create() {
      log.creates += 1;
      const next = answers.shift();
      if (next !== undefined) throw next;
      made.push('batches/made');
      return 'batches/made';
    },
    async cancelCreated(created) {
      log.cancelled.push(created);
      return `${created} (cancelling)`;
    },
  };
  return { steps: value, log, mark: () => (marked = true) };
}

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

  it("a waiting part is validating with no requests counted, expiring with the batch; one ended before its create is cancelled or expired", () => {
    const queued = { location: 'gs://b/p/input.jsonl', queuedAt: 100 };
    const waiting = queuedBatch(queued, 'validating', 200, { expiresAt: 86_500 });
    assert.equal(waiting.status, 'validating');
    assert.equal(waiting.expiresAt, 86_500);
    assert.deepEqual(waiting.requestCounts, { total: 0, completed: 0, failed: 0 });
    assert.equal(queuedBatch(queued, 'cancelled', 200, { expiresAt: 86_500 }).cancelledAt, 200);
    assert.equal(queuedBatch(queued, 'expired', 200, { expiresAt: 86_500 }).expiredAt, 200);
  });

  it("a create refused at once answers the part's first state: one refusal, the next try 1 s later, the provider's words", () => {
    const batch = firstRefusal('files/x', googleQuota(), 90_000, () => 5_000_500);
    assert.deepEqual(parseQueuedCreateId(batch.id), { location: 'files/x', queuedAt: 5_000 });
    assert.equal(batch.expiresAt, 90_000);
    const state = parseQueuedState(batch.partState);
    assert.deepEqual({ ...state, lastRefusal: undefined }, { refusals: 1, nextTryAt: 5_001_500, lastRefusal: undefined });
    assert.match(state!.lastRefusal!, /Quota exceeded for concurrent batch jobs/);
  });

  it('the backoff goes on from the state Portico kept, whoever looks: not before it has passed, then doubling, then created', async () => {
    let clock = 0;
    const queued = { location: 'files/x', queuedAt: 0 };
    const { steps: provider, log } = steps({ refusals: [googleQuota(), googleQuota()] });
    // What the database holds between looks; each look is as a fresh instance would make it.
    let kept: string | null = null;
    const look = async () => {
      const part: StagedPartContext = { expiresAt: 86_400, state: kept };
      const settled = await settleQueuedCreate(queued, provider, { part, upstreamName: 'Gemini', create: true, now: () => clock });
      if (settled.state !== undefined) kept = settled.state;
      return settled;
    };
    assert.equal((await look()).status, 'validating');
    assert.equal(log.creates, 1);
    clock = 999;
    assert.equal((await look()).status, 'validating');
    assert.equal(log.creates, 1, 'not before 1 s');
    clock = 1_000;
    assert.equal((await look()).status, 'validating');
    assert.equal(log.creates, 2);
    clock = 2_999;
    await look();
    assert.equal(log.creates, 2, 'the second wait is 2 s');
    clock = 3_000;
    assert.equal((await look()).created, 'batches/made');
    assert.equal(log.creates, 3);
    assert.equal(parseQueuedState(kept)?.created, 'batches/made', 'the batch made is kept');
    clock = 4_000;
    assert.equal((await look()).created, 'batches/made');
    assert.deepEqual(log.finds.at(-1), 'batches/made', 'later looks read the kept batch, not the list');
    assert.equal(log.creates, 3);
  });

  it("a part still refused when the batch's window ends (its expires_at) expires with the provider's 429 message kept from an earlier look", async () => {
    const queued = { location: 'files/y', queuedAt: 1_000 };
    const { steps: provider, log } = steps({ refusals: [googleQuota(), googleQuota()] });
    const first = await settleQueuedCreate(queued, provider, { part: { expiresAt: 5_000, state: null }, upstreamName: 'Gemini', create: true, now: () => 1_000_000 });
    assert.equal(first.status, 'validating');
    // Another instance, with only what was kept: its window ends at expires_at, not a day after the refusal.
    const part = { expiresAt: 5_000, state: first.state! };
    assert.equal((await settleQueuedCreate(queued, provider, { part, upstreamName: 'Gemini', create: true, now: () => 4_999_000 })).status, 'validating');
    assert.equal(log.creates, 2);
    const settled = await settleQueuedCreate(queued, provider, { part, upstreamName: 'Gemini', create: true, now: () => 5_000_000 });
    assert.ok(settled.status === 'expired');
    assert.equal(settled.errors[0]!.code, 'batch_create_refused');
    assert.match(settled.errors[0]!.message, /^Gemini refused the batch create \(429\) until its completion window ended: .*Quota exceeded for concurrent batch jobs/);
    assert.equal(log.creates, 2, 'no create once the window ended');
    const progress = queuedProgress(queued, settled, part, () => assert.fail('no batch'), () => 5_000_000);
    assert.deepEqual([progress.status, progress.expiresAt, progress.errors?.[0]?.code], ['expired', 5_000, 'batch_create_refused']);
  });

  it('a part cancelled before its create is cancelled and never created; one another look created is found', async () => {
    const queued = { location: 'files/z', queuedAt: 0 };
    const part = { expiresAt: 86_400, state: null };
    const marked = steps({ marked: true });
    assert.deepEqual(await settleQueuedCreate(queued, marked.steps, { part, upstreamName: 'x', create: true, now: () => 0 }), { status: 'cancelled' });
    const elsewhere = steps({ existing: 'found' });
    const settled = await settleQueuedCreate(queued, elsewhere.steps, { part, upstreamName: 'x', create: true, now: () => 0 });
    assert.equal(settled.created, 'found');
    assert.equal(parseQueuedState(settled.state)?.created, 'found');
    assert.equal(marked.log.creates + elsewhere.log.creates, 0);
  });

  it('a create that succeeds while a cancel marked the part cancels what it made', async () => {
    const queued = { location: 's3://b/part-0.jsonl', queuedAt: 0 };
    const provider = steps();
    // The cancel lands while the create is under way.
    const create = provider.steps.create;
    provider.steps.create = async () => {
      const made = await create();
      provider.mark();
      return made;
    };
    const settled = await settleQueuedCreate(queued, provider.steps, { part: { expiresAt: 86_400, state: null }, upstreamName: 'x', create: true, now: () => 0 });
    assert.equal(settled.created, 'batches/made (cancelling)');
    assert.deepEqual(provider.log.cancelled, ['batches/made']);
  });

  it('a cancel marks a waiting part, then cancels a batch another instance created meanwhile', async () => {
    const queued = { location: 'gs://b/x/input.jsonl', queuedAt: 0 };
    const part = { expiresAt: 86_400, state: null };
    const alone = steps();
    assert.deepEqual(await cancelQueuedCreate(queued, alone.steps, { part, upstreamName: 'x', now: () => 0 }), { status: 'cancelled' });
    assert.equal(alone.log.marks, 1);
    assert.deepEqual(alone.log.cancelled, []);
    // A create elsewhere finished after the cancel's first look and before its mark: the look after the mark finds it.
    let looks = 0;
    const racing = steps({ createdElsewhere: () => (++looks > 1 ? 'batches/late' : null) });
    const settled = await cancelQueuedCreate(queued, racing.steps, { part, upstreamName: 'x', now: () => 0 });
    assert.equal(settled.created, 'batches/late (cancelling)');
    assert.deepEqual(racing.log.cancelled, ['batches/late']);
    assert.equal(racing.log.marks, 1);
  });

  it('kept text that is not a state is read as none (the part starts afresh)', () => {
    assert.equal(parseQueuedState(null), null);
    assert.equal(parseQueuedState('not json'), null);
    assert.equal(parseQueuedState('{"refusals":"2"}'), null);
    assert.deepEqual(parseQueuedState('{"refusals":2,"nextTryAt":5,"lastRefusal":"no","extra":1}'), { refusals: 2, nextTryAt: 5, lastRefusal: 'no' });
  });
});
