/**
 * Emulated batches end to end on a real database: upload, create, the engine runs every line
 * against an OpenAI-compatible upstream (the OpenAI simulator behind `hosted_vllm/`) or the
 * mock provider, the synchroniser walks the batch through OpenAI's states and writes the files.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { BATCH_REQUEST_ID_PREFIX } from '../../src/routing/rate-limits/deployment-budgets.ts';
import type { BatchOutputLine, BatchUsage } from '../../src/spec/openai-objects.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { startOpenAISimulator, OPENAI_SIMULATOR_API_KEY, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { chatLines, customIds, MASTER, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

let upstream: OpenAISimulator;
before(async () => {
  upstream = await startOpenAISimulator();
});
after(async () => {
  await upstream.close();
});

const modelList = () => `
model_list:
  - model_name: vllm-chat
    litellm_params:
      model: hosted_vllm/gpt-4o-mini
      api_base: ${upstream.url}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
      batch_concurrency: 4
    model_info:
      id: vllm-chat
      input_cost_per_token: 0.000002
      output_cost_per_token: 0.000008
  - model_name: mock-group
    litellm_params:
      model: mock/mock-model
      mock_latency_ms: 5
`;

function summedUsage(lines: readonly BatchOutputLine[]): { input: number; output: number } {
  let input = 0;
  let output = 0;
  for (const line of lines) {
    const usage = (line.response?.body as { usage?: { prompt_tokens?: number; completion_tokens?: number } }).usage;
    input += usage?.prompt_tokens ?? 0;
    output += usage?.completion_tokens ?? 0;
  }
  return { input, output };
}

forEachDatabase('emulated batches', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(ctx.db, modelList());
    h.engine.start();
  });
  after(async () => {
    await h.close();
  });

  test('an emulated batch runs end to end: every custom_id once, request_counts right, usage summed, completed', async () => {
    const lines = chatLines(24, 'vllm-chat', { failing: [3, 17] });
    const id = await h.createBatch(lines);
    const batch = await h.waitForStatus(id, ['completed', 'failed', 'expired', 'cancelled']);
    assert.equal(batch.status, 'completed');
    const { output, errors } = await h.results(batch);

    assert.deepEqual(customIds([...output, ...errors]), customIds(lines));
    assert.deepEqual(batch.request_counts, { total: 24, completed: 22, failed: 2 });
    assert.deepEqual(customIds(errors), ['line-17', 'line-3']);
    for (const line of errors) {
      assert.equal(line.response?.status_code, 400);
      assert.equal(line.error, null);
      assert.equal(typeof (line.response?.body as { error?: { message?: unknown } }).error?.message, 'string');
    }
    for (const line of output) {
      assert.match(line.id, /^batch_req_/);
      assert.equal(line.response?.status_code, 200);
      assert.equal(line.error, null);
      const body = line.response?.body as { object: string; choices: Array<{ message: { content: string } }> };
      assert.equal(body.object, 'chat.completion');
      // Each answer belongs to its own line (the simulator echoes the question).
      assert.match(body.choices[0].message.content, new RegExp(`question number ${line.custom_id.slice(5)}\\b`));
    }
    // Output lines come in input order.
    assert.deepEqual(output.map((l) => l.custom_id), lines.map((l) => l.custom_id).filter((c) => c !== 'line-3' && c !== 'line-17'));

    const sums = summedUsage(output);
    const usage = batch.usage as BatchUsage;
    assert.ok(sums.input > 0 && sums.output > 0);
    assert.equal(usage.input_tokens, sums.input);
    assert.equal(usage.output_tokens, sums.output);
    assert.equal(usage.total_tokens, sums.input + sums.output);
    const stored = await h.managed.batchStore.getById(id);
    // Batch prices default to half the per-token prices.
    assert.ok(Math.abs((stored?.cost ?? 0) - (sums.input * 0.000001 + sums.output * 0.000004)) < 1e-12);

    assert.ok(batch.in_progress_at !== null && batch.finalizing_at !== null && batch.completed_at !== null);
    const history = h.seen.get(id) ?? [];
    assert.equal(history[0], 'validating');
    assert.equal(history.at(-1), 'completed');
    assert.ok(history.includes('in_progress') || history.includes('finalizing'), history.join(' -> '));
    // The model of each line was rewritten to the deployment's; every call went through the engine.
    const chats = upstream.requests.filter((r) => r.path === '/v1/chat/completions' && String(r.headers['x-client-request-id'] ?? '').includes(id));
    assert.equal(chats.length, 24);
    assert.ok(chats.every((r) => (r.json as { model: string }).model === 'gpt-4o-mini'));
    assert.ok(chats.every((r) => String(r.headers['x-client-request-id']).startsWith(BATCH_REQUEST_ID_PREFIX)));
  });

  test('embeddings and Responses lines run on their endpoints; /v1/completions lines get a 400 error line', async () => {
    const embeddings = Array.from({ length: 5 }, (_, i) => ({
      custom_id: `emb-${i}`,
      method: 'POST' as const,
      url: '/v1/embeddings',
      body: { model: 'mock-group', input: `text ${i}`, dimensions: 4 },
    }));
    const responses = Array.from({ length: 4 }, (_, i) => ({ custom_id: `resp-${i}`, method: 'POST' as const, url: '/v1/responses', body: { model: 'mock-group', input: `hi ${i}` } }));
    const completions = Array.from({ length: 3 }, (_, i) => ({ custom_id: `cmp-${i}`, method: 'POST' as const, url: '/v1/completions', body: { model: 'mock-group', prompt: `p ${i}` } }));
    const ids = [await h.createBatch(embeddings, '/v1/embeddings'), await h.createBatch(responses, '/v1/responses'), await h.createBatch(completions, '/v1/completions')];
    const [emb, resp, cmp] = await Promise.all(ids.map((id) => h.waitForStatus(id, ['completed'])));

    const embResults = await h.results(emb);
    assert.deepEqual(customIds(embResults.output), customIds(embeddings));
    assert.ok(embResults.output.every((l) => (l.response?.body as { object: string }).object === 'list'));
    assert.equal(emb.usage?.output_tokens, 0);
    assert.ok((emb.usage?.input_tokens ?? 0) > 0);

    const respResults = await h.results(resp);
    assert.deepEqual(customIds(respResults.output), customIds(responses));
    assert.ok(respResults.output.every((l) => (l.response?.body as { object: string }).object === 'response'));
    assert.ok((resp.usage?.output_tokens ?? 0) > 0);

    const cmpResults = await h.results(cmp);
    assert.equal(cmp.output_file_id, null);
    assert.deepEqual(cmp.request_counts, { total: 3, completed: 0, failed: 3 });
    assert.deepEqual(customIds(cmpResults.errors), customIds(completions));
    for (const line of cmpResults.errors) {
      assert.equal(line.response?.status_code, 400);
      assert.equal((line.response?.body as { error: { code: string } }).error.code, 'unsupported_operation');
    }
  });

  test('a batch whose input file was deleted before it started fails with the reason in errors', async () => {
    // A new batch is synced (started) at once: the poller is held back until the file is gone.
    await h.poller.stop();
    const id = await h.createBatch(chatLines(3, 'mock-group', { prefix: 'orphan' }));
    const stored = await h.managed.batchStore.getById(id);
    await h.managed.files.delete(MASTER, stored!.inputFileId);
    h.poller.start();
    const batch = await h.waitForStatus(id, ['failed']);
    assert.equal(batch.errors?.data[0]?.code, 'invalid_file');
    assert.equal(batch.output_file_id, null);
    assert.equal(batch.error_file_id, null);
    assert.ok(batch.failed_at !== null);
  });

  /** Holds the poller back, creates a batch of `lines`, then stores `content` as its input file's bytes. */
  async function batchWithStoredInput(lines: ReturnType<typeof chatLines>, content: string): Promise<string> {
    await h.poller.stop();
    const id = await h.createBatch(lines);
    const stored = await h.managed.batchStore.getById(id);
    const blob = await h.managed.blobs.put(Readable.from([Buffer.from(content)]));
    assert.ok(await h.managed.fileStore.update(stored!.inputFileId, { blobKey: blob.key }));
    h.poller.start();
    return id;
  }

  test('a batch whose input file starts with a byte order mark runs every line', async () => {
    const lines = chatLines(3, 'mock-group', { prefix: 'bom' });
    const id = await batchWithStoredInput(lines, `\uFEFF${lines.map((line) => JSON.stringify(line)).join('\r\n')}\r\n`);
    const batch = await h.waitForStatus(id, ['completed', 'failed']);
    assert.equal(batch.status, 'completed', JSON.stringify(batch.errors));
    assert.deepEqual(customIds((await h.results(batch)).output), customIds(lines));
  });

  test('a batch whose stored input has a line that is not JSON fails with the reason, instead of retrying until it expires', async () => {
    const lines = chatLines(3, 'mock-group', { prefix: 'unparseable' });
    const id = await batchWithStoredInput(lines, `${JSON.stringify(lines[0])}\n{"custom_id": "unparseable-1",\n${JSON.stringify(lines[2])}\n`);
    const batch = await h.waitForStatus(id, ['failed', 'completed']);
    assert.equal(batch.status, 'failed');
    assert.equal(batch.errors?.data[0]?.code, 'invalid_json_line');
    assert.match(batch.errors?.data[0]?.message ?? '', /^Request 2 of the input file file-/);
    assert.equal(batch.output_file_id, null);
  });

  test('the work items of a finished batch are deleted once its files are written', async () => {
    const id = await h.createBatch(chatLines(4, 'mock-group', { prefix: 'tidy' }));
    const batch = await h.waitForStatus(id, ['completed']);
    assert.equal((await h.items.countByState(id)).succeeded, 4);
    const janitor = h.newEngine({ cleanupIntervalMs: 50 });
    janitor.start();
    try {
      await waitUntil(async () => Object.values(await h.items.countByState(id)).every((n) => n === 0), 10_000, 'items deleted');
    } finally {
      await janitor.stop();
    }
    // The files stay whole.
    assert.equal((await h.results(batch)).output.length, 4);
  });
});

test('the emulated executor takes deployments without a batch API and those set to batch_mode: emulate', async () => {
  const { EmulatedExecutor } = await import('../../src/managed/batches/executors/emulated.ts');
  const { parseConfig } = await import('../../src/config/load-config.ts');
  const { Router } = await import('../../src/routing/router.ts');
  const config = parseConfig(`
model_list:
  - model_name: a
    litellm_params: { model: openai/gpt-4o-mini, api_key: sk-x }
  - model_name: b
    litellm_params: { model: openai/gpt-4o-mini, api_key: sk-x, batch_mode: emulate }
  - model_name: c
    litellm_params: { model: mock/m }
  - model_name: d
    litellm_params: { model: hosted_vllm/llama, api_base: "http://127.0.0.1:1/v1" }
`);
  const router = new Router(config);
  const executor = new EmulatedExecutor({} as never);
  const handled = config.deployments.map((d) => executor.handles(d, router.clientFor(d.id)));
  assert.deepEqual(handled, [false, true, true, true]);
});
