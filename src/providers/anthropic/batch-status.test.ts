import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapAnthropicBatchStatus, toProviderBatch, unixSecondsOf } from './batch-status.ts';
import { fixtureJson } from './fixtures/load.ts';
import type { AnthropicMessageBatch } from './wire-types.ts';

const inProgress = fixtureJson<AnthropicMessageBatch>('message-batch-in-progress.json');
const canceling = fixtureJson<AnthropicMessageBatch>('message-batch-canceling.json');
const ended = fixtureJson<AnthropicMessageBatch>('message-batch-ended.json');

const CREATED = Math.floor(Date.parse('2024-09-24T18:37:24.100435Z') / 1000);
const ENDED = Math.floor(Date.parse('2024-09-24T19:12:05.521843Z') / 1000);

test('an in-progress batch is in_progress with every request counted in the total and none finished', () => {
  const batch = toProviderBatch(inProgress);
  assert.equal(batch.status, 'in_progress');
  assert.equal(batch.rawStatus, 'in_progress');
  assert.deepEqual(batch.requestCounts, { total: 2, completed: 0, failed: 0 });
  assert.equal(batch.createdAt, CREATED);
  assert.equal(batch.inProgressAt, CREATED);
  assert.equal(batch.expiresAt, CREATED + 24 * 3600);
  assert.equal(batch.completedAt, null);
  assert.equal(batch.outputFileId, null);
});

test('a canceling batch is cancelling since cancel_initiated_at', () => {
  const batch = toProviderBatch(canceling);
  assert.equal(batch.status, 'cancelling');
  assert.equal(batch.cancellingAt, Math.floor(Date.parse('2024-09-24T18:39:03.114875Z') / 1000));
  assert.equal(batch.cancelledAt, null);
});

test('an ended batch is completed at ended_at with succeeded as completed and errored as failed', () => {
  const batch = toProviderBatch(ended);
  assert.equal(batch.status, 'completed');
  assert.equal(batch.completedAt, ENDED);
  assert.equal(batch.finalizingAt, ENDED);
  assert.deepEqual(batch.requestCounts, { total: 3, completed: 2, failed: 1 });
});

test('an ended batch whose cancel was initiated is cancelled, with canceled requests counted as failed', () => {
  const batch = toProviderBatch({
    ...ended,
    cancel_initiated_at: '2024-09-24T18:39:03Z',
    request_counts: { processing: 0, succeeded: 1, errored: 0, canceled: 4, expired: 0 },
  });
  assert.equal(batch.status, 'cancelled');
  assert.equal(batch.cancelledAt, ENDED);
  assert.equal(batch.completedAt, null);
  assert.deepEqual(batch.requestCounts, { total: 5, completed: 1, failed: 4 });
});

test('an ended batch with expired requests is expired', () => {
  const batch = { ...ended, request_counts: { processing: 0, succeeded: 3, errored: 0, canceled: 0, expired: 2 } };
  assert.equal(mapAnthropicBatchStatus(batch), 'expired');
  assert.equal(toProviderBatch(batch).expiredAt, ENDED);
  assert.deepEqual(toProviderBatch(batch).requestCounts, { total: 5, completed: 3, failed: 2 });
});

test('RFC 3339 timestamps become unix seconds, absent or unreadable ones null', () => {
  assert.equal(unixSecondsOf('1970-01-01T00:01:40.999Z'), 100);
  assert.equal(unixSecondsOf('1970-01-01T01:01:40+01:00'), 100);
  assert.equal(unixSecondsOf(null), null);
  assert.equal(unixSecondsOf('yesterday'), null);
});
