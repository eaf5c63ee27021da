/**
 * Per-line retries of the engine against an upstream that throttles or fails: lines come back
 * after the `retry-after` the upstream asked for (never sooner), a deployment answering 429
 * is paused, and a line that keeps failing ends in the error file with the upstream's error.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { startOpenAISimulator, OPENAI_SIMULATOR_API_KEY, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { chatLines, customIds, startEngineHarness, type EngineHarness } from './engine-harness.ts';

forEachDatabase('engine retries', (ctx) => {
  let upstream: OpenAISimulator;
  let h: EngineHarness;
  before(async () => {
    upstream = await startOpenAISimulator();
    h = await startEngineHarness(
      ctx.db,
      `
model_list:
  - model_name: vllm
    litellm_params:
      model: hosted_vllm/gpt-4o-mini
      api_base: ${upstream.url}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
      batch_concurrency: 6
    model_info: { id: vllm }
`,
      { engine: { retry: { initialDelayMs: 50, maxDelayMs: 200, maxAttempts: 3 } } },
    );
    h.engine.start();
  });
  beforeEach(() => {
    upstream.requests.length = 0;
  });
  after(async () => {
    await h.close();
    await upstream.close();
  });

  test('a 429 storm with retry-after: every line is retried no sooner than asked and eventually succeeds', async () => {
    const lines = chatLines(6, 'vllm', { prefix: 'storm' });
    // The first six calls are throttled: every line's first attempt.
    upstream.failNext({ status: 429, count: 6, headers: { 'retry-after': '1' }, match: { path: /\/chat\/completions$/ } });
    const id = await h.createBatch(lines);
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(errors, []);
    assert.deepEqual(customIds(output), customIds(lines));
    assert.equal(upstream.requests.filter((r) => r.path === '/v1/chat/completions').length, 12);

    const attempts = h.attempts.filter((a) => a.requestId?.includes(id));
    for (let line = 0; line < 6; line++) {
      const ofLine = attempts.filter((a) => a.requestId!.includes(`${id}-${line}-`));
      assert.equal(ofLine.length, 2, `line ${line} was tried twice`);
      const [throttled, retried] = ofLine;
      assert.equal((throttled.error as { httpStatus?: number }).httpStatus, 429);
      assert.equal(retried.error, undefined);
      // The retry was sent at least a second (the retry-after) after the 429 came back.
      const sentAt = retried.endedAt - retried.durationMs;
      assert.ok(sentAt - throttled.endedAt >= 990, `line ${line} came back after ${sentAt - throttled.endedAt} ms`);
    }
  });

  test('a line that keeps failing with 5xx ends in the error file with the last upstream error after its attempts', async () => {
    const lines = chatLines(1, 'vllm', { prefix: 'doomed' });
    upstream.failNext({ status: 503, count: 3, match: { path: /\/chat\/completions$/ } });
    const id = await h.createBatch(lines);
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(output, []);
    assert.equal(errors.length, 1);
    assert.equal(errors[0].custom_id, 'doomed-0');
    assert.equal(errors[0].response?.status_code, 503);
    assert.equal(typeof (errors[0].response?.body as { error: { message: string } }).error.message, 'string');
    assert.deepEqual(batch.request_counts, { total: 1, completed: 0, failed: 1 });
    assert.equal(upstream.requests.filter((r) => r.path === '/v1/chat/completions').length, 3);
  });

  test('a client error is not retried: the line goes to the error file at once', async () => {
    const lines = chatLines(3, 'vllm', { prefix: 'bad', failing: [1] });
    const id = await h.createBatch(lines);
    const batch = await h.waitForStatus(id, ['completed'], 30_000);
    const { output, errors } = await h.results(batch);
    assert.deepEqual(customIds(output), ['bad-0', 'bad-2']);
    assert.deepEqual(customIds(errors), ['bad-1']);
    assert.equal(upstream.requests.filter((r) => r.path === '/v1/chat/completions').length, 3);
  });
});
