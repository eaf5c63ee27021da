/**
 * The console's page logic, run under Node as the browser runs it: badges (a batch with failed
 * lines never reads as a plain success), progress and ETA, the error summary grouped by code,
 * the lines a retry resends, and the spend report's totals.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { badgeOf, etaSeconds, progressOf } from '../../ui/lib/batch-state.js';
import { errorOfLine, summariseErrors } from '../../ui/lib/error-summary.js';
import { linesOf, recordsOf } from '../../ui/lib/jsonl.js';
import { failedCustomIds, linesToRetry } from '../../ui/lib/retry-lines.js';
import { spendPerDay, totalsByGroup } from '../../ui/lib/spend-report.js';

function batch(status: string, counts: { total: number; completed: number; failed: number }, times: Record<string, number | null> = {}) {
  return { id: 'batch_1', status, request_counts: counts, created_at: 1000, in_progress_at: 1000, ...times };
}

async function* fromArray<T>(items: T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

describe('batch badges and progress', () => {
  test('completed with failed lines says how many and is a warning, not a success', () => {
    assert.deepEqual(badgeOf(batch('completed', { total: 10, completed: 7, failed: 3 })), { label: 'completed with 3 failed lines', tone: 'warning' });
    assert.deepEqual(badgeOf(batch('completed', { total: 10, completed: 9, failed: 1 })), { label: 'completed with 1 failed line', tone: 'warning' });
    assert.deepEqual(badgeOf(batch('completed', { total: 10, completed: 10, failed: 0 })), { label: 'completed', tone: 'success' });
  });

  test('other end states are never a success', () => {
    for (const status of ['failed', 'expired', 'cancelled']) {
      assert.notEqual(badgeOf(batch(status, { total: 4, completed: 1, failed: 1 })).tone, 'success', status);
    }
    assert.equal(badgeOf(batch('expired', { total: 4, completed: 1, failed: 1 })).label, 'expired: 2 of 4 lines done, 1 failed line');
    assert.equal(badgeOf(batch('in_progress', { total: 4, completed: 1, failed: 1 })).label, 'in progress, 1 failed line');
  });

  test('progress counts failed lines as done; the ETA follows the rate since the start', () => {
    const running = batch('in_progress', { total: 100, completed: 20, failed: 5 });
    assert.deepEqual(progressOf(running), { total: 100, completed: 20, failed: 5, done: 25, fraction: 0.25 });
    // 25 lines in 50 s: the other 75 take 150 s.
    assert.equal(etaSeconds(running, 1050), 150);
    assert.equal(etaSeconds(batch('in_progress', { total: 100, completed: 0, failed: 0 }), 1050), null, 'no rate yet');
    assert.equal(etaSeconds(batch('completed', { total: 100, completed: 100, failed: 0 }), 1050), null);
  });
});

describe('error summary', () => {
  const lines = [
    { custom_id: 'a', response: { status_code: 400, body: { error: { message: 'bad dimensions', type: 'invalid_request_error', code: 'invalid_value' } } }, error: null },
    { custom_id: 'b', response: { status_code: 400, body: { error: { message: 'bad dimensions again', type: 'invalid_request_error', code: 'invalid_value' } } }, error: null },
    { custom_id: 'c', response: { status_code: 429, body: { error: { message: 'slow down', type: 'rate_limit_error', code: null } } }, error: null },
    { custom_id: 'd', response: null, error: { code: 'batch_expired', message: 'This line was not executed' } },
    { custom_id: 'e', response: { status_code: 500, body: 'oops' }, error: null },
    { custom_id: 'f', response: { status_code: 200, body: { object: 'list' } }, error: null },
    { custom_id: 'g', response: { status_code: 400, body: { error: { message: 'third', code: 'invalid_value' } } }, error: null },
    { custom_id: 'h', response: { status_code: 400, body: { error: { message: 'fourth', code: 'invalid_value' } } }, error: null },
  ];

  test('a line\'s error: the line error, else the answer\'s envelope (code, then type), else its HTTP status', () => {
    assert.equal(errorOfLine(lines[0])?.code, 'invalid_value');
    assert.equal(errorOfLine(lines[2])?.code, 'rate_limit_error');
    assert.equal(errorOfLine(lines[3])?.code, 'batch_expired');
    assert.equal(errorOfLine(lines[4])?.code, 'http_500');
    assert.equal(errorOfLine(lines[5]), null, 'a 200 line is no error');
  });

  test('grouped by code, most frequent first, with at most three examples each', async () => {
    const summary = await summariseErrors(fromArray(lines));
    assert.equal(summary.total, 7);
    assert.deepEqual(summary.codes.map((group) => [group.code, group.count]), [['invalid_value', 4], ['batch_expired', 1], ['http_500', 1], ['rate_limit_error', 1]]);
    assert.deepEqual(summary.codes[0].examples.map((example: { custom_id: string | null }) => example.custom_id), ['a', 'b', 'g']);
    assert.deepEqual(summary.codes[0].examples[0], { custom_id: 'a', message: 'bad dimensions', status: 400 });
  });

  test('the error file is read as it streams, chunks split anywhere, lines that are not JSON skipped', async () => {
    const text = `${JSON.stringify(lines[0])}\nnot json\n\n${JSON.stringify(lines[3])}`;
    const chunks = [text.slice(0, 7), text.slice(7, 150), text.slice(150)];
    const response = new Response(new ReadableStream({ start(controller) { for (const chunk of chunks) controller.enqueue(new TextEncoder().encode(chunk)); controller.close(); } }));
    const summary = await summariseErrors(recordsOf(linesOf(response)));
    assert.equal(summary.total, 2);
  });
});

describe('retrying the failed lines', () => {
  test('exactly the input lines whose custom_id failed, unchanged', async () => {
    const ids = await failedCustomIds(fromArray([{ custom_id: 'l-1' }, { custom_id: 'l-3' }, {}]));
    const input = ['{"custom_id":"l-0","body":{}}', '{"custom_id":"l-1","body":{"x":1}}', 'broken', '{"custom_id":"l-3","body":{}}'];
    assert.deepEqual(await linesToRetry(fromArray(input), ids), ['{"custom_id":"l-1","body":{"x":1}}', '{"custom_id":"l-3","body":{}}']);
  });
});

describe('spend report totals', () => {
  const report = [
    { group_by_day: '2026-12-01', models: [{ model: 'chat', total_spend: 1.5, total_tokens: 100, api_requests: 2 }, { model: 'embed', total_spend: 0.5, total_tokens: 10, api_requests: 1 }] },
    { group_by_day: '2026-12-03', models: [{ model: 'chat', total_spend: 1, total_tokens: 50, api_requests: 1 }] },
  ];
  test('summed per group over the period, largest first', () => {
    assert.deepEqual(totalsByGroup(report, 'model'), [
      { name: 'chat', spend: 2.5, tokens: 150, requests: 3 },
      { name: 'embed', spend: 0.5, tokens: 10, requests: 1 },
    ]);
    assert.deepEqual(totalsByGroup([{ group_by_day: '2026-12-01', teams: [{ team_name: null, total_spend: 2 }] }], 'team', '(no team)')[0].name, '(no team)');
  });
  test('every day of the period, empty ones at zero', () => {
    const days = [{ group_by_day: '2026-12-01', days: [{ day: '2026-12-01', total_spend: 2 }] }, { group_by_day: '2026-12-03', days: [{ day: '2026-12-03', total_spend: 1 }] }];
    assert.deepEqual(spendPerDay(days, '2026-11-30', '2026-12-03').map((day) => [day.name, day.spend]), [['2026-11-30', 0], ['2026-12-01', 2], ['2026-12-02', 0], ['2026-12-03', 1]]);
  });
});
