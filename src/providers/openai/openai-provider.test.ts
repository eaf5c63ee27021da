import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { after, before, describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
import { UpstreamError } from '../../spec/errors.ts';
import type { ProviderClient, ProviderFile } from '../../spec/provider.ts';
import { UpstreamAbortedError } from '../http/transport-errors.ts';
import { chatStreamText, collectSseData, collectText, deploymentFrom, readableOf, withSettings } from '../testing/provider-test-helpers.ts';
import { openaiProvider } from './index.ts';

describe('the OpenAI provider against the OpenAI simulator', () => {
  let sim: OpenAISimulator;
  let client: ProviderClient;

  before(async () => {
    sim = await startOpenAISimulator();
    client = openaiProvider.createClient(...withSettings(
      deploymentFrom(`{model: openai/gpt-4o-mini, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}`, 'mini'),
    ));
  });
  after(async () => {
    await sim.close();
  });

  it('sends a chat completion with the deployment model and bearer auth, and returns the answer', async () => {
    const answer = await client.chatCompletions({ model: 'mini', messages: [{ role: 'user', content: 'Hello there' }] }, { requestId: 'req-1' });
    assert.equal(answer.status, 200);
    const body = answer.body as { object: string; choices: Array<{ message: { content: string } }> };
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices[0].message.content, 'Hello there');
    assert.match(answer.upstreamRequestId ?? '', /^req_/);
    assert.deepEqual(JSON.parse(answer.rawBody?.toString('utf8') ?? ''), answer.body, 'the JSON bytes as received, relayed without a second serialisation');
    const request = sim.requests.at(-1)!;
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal(request.headers.authorization, `Bearer ${OPENAI_SIMULATOR_API_KEY}`);
    assert.equal(request.headers['x-client-request-id'], 'req-1');
    assert.equal((request.json as { model: string }).model, 'gpt-4o-mini', 'the model group is replaced by the upstream model');
  });

  it('streams a chat completion as OpenAI SSE, ending with [DONE]', async () => {
    const stream = await client.chatCompletionsStream({
      model: 'mini',
      messages: [{ role: 'user', content: 'Stream this sentence please' }],
      stream_options: { include_usage: true },
    });
    assert.equal(stream.status, 200);
    const events = await collectSseData(stream.body);
    assert.equal(events.at(-1), '[DONE]');
    assert.ok(events.length > 4, 'several chunks');
    assert.equal(chatStreamText(events), 'Stream this sentence please');
    const usage = events.find((e) => e !== '[DONE]' && (e as { usage?: unknown }).usage) as { usage: { total_tokens: number } };
    assert.ok(usage.usage.total_tokens > 0);
    assert.equal((sim.requests.at(-1)!.json as { stream: boolean }).stream, true);
  });

  it('keeps the status and the OpenAI error envelope of an upstream error', async () => {
    await assert.rejects(client.chatCompletions({ messages: [{ role: 'user', content: 'FAIL' }] }), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.httpStatus, 400);
      assert.equal(error.type, 'invalid_request_error');
      assert.equal(error.isRetryable, false);
      assert.ok(error.message.length > 0);
      return true;
    });
    sim.failNext({ status: 429, headers: { 'retry-after': '1' } });
    await assert.rejects(client.chatCompletions({ messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.httpStatus, 429);
      assert.equal(error.isRetryable, true);
      assert.equal(error.headers['retry-after'], '1');
      return true;
    });
  });

  it('an error sent as the first event of a 200 stream is thrown before the stream is handed out', async () => {
    sim.failNext({
      status: 200,
      body: 'data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}\n\n',
      headers: { 'content-type': 'text/event-stream' },
      match: { path: /chat\/completions$/ },
    });
    await assert.rejects(client.chatCompletionsStream({ messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.isRetryable, true);
      assert.equal(error.message, 'The server had an error while processing your request.');
      return true;
    });
  });

  it('answers embeddings and Responses (plain and streamed)', async () => {
    const embeddings = await client.embeddings!({ model: 'mini', input: ['a', 'b'] });
    assert.equal((embeddings.body as { data: unknown[] }).data.length, 2);
    const response = await client.responses!({ model: 'mini', input: 'Say hi' });
    assert.equal((response.body as { object: string }).object, 'response');
    const stream = await client.responsesStream!({ model: 'mini', input: 'Say hi' });
    const events = (await collectSseData(stream.body)) as Array<{ type: string }>;
    assert.equal(events.at(-1)?.type, 'response.completed');
  });

  it('aborting before the answer rejects at once with an aborted error', async () => {
    sim.setLatency(1_000);
    try {
      const controller = new AbortController();
      const started = Date.now();
      const pending = client.chatCompletions({ messages: [{ role: 'user', content: 'slow' }] }, { signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      await assert.rejects(pending, UpstreamAbortedError);
      assert.ok(Date.now() - started < 900);
    } finally {
      sim.setLatency(0);
    }
  });

  it('breaking out of a stream aborts the upstream request', async () => {
    const aborted: string[] = [];
    const onError = (message: unknown) => {
      const { request, error } = message as { request: { path: string }; error: Error };
      aborted.push(`${request.path} ${/Abort/.test(error.name) ? 'aborted' : error.name}`);
    };
    diagnostics.subscribe('undici:request:error', onError);
    try {
      // Large enough that the upstream is still sending when the consumer stops.
      const stream = await client.chatCompletionsStream({ messages: [{ role: 'user', content: 'word '.repeat(2_000_000) }] });
      for await (const _chunk of stream.body) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(aborted, ['/v1/chat/completions aborted']);
    } finally {
      diagnostics.unsubscribe('undici:request:error', onError);
    }
  });

  it('uploads, retrieves, downloads and deletes a file', async () => {
    const text = '{"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}}\n';
    const file = await client.files!.upload({ ...readableOf(text), filename: 'input.jsonl', purpose: 'batch', expiresAfterSeconds: 7200 });
    assert.match(file.id, /^file-/);
    assert.equal(file.bytes, Buffer.byteLength(text));
    assert.equal(file.filename, 'input.jsonl');
    assert.equal(file.purpose, 'batch');
    assert.equal(file.status, 'processed');
    assert.equal(file.rawStatus, 'processed');
    assert.equal(file.expiresAt, file.createdAt + 7200, 'expires_after is sent in bracket form');
    const upload = sim.requests.findLast((r) => r.method === 'POST' && r.path === '/v1/files')!;
    assert.match(String(upload.headers['content-type']), /^multipart\/form-data; boundary=/);

    const retrieved = await client.files!.retrieve(file.id);
    assert.equal(retrieved.id, file.id);
    assert.equal(await collectText(await client.files!.content(file.id)), text);

    await client.files!.delete(file.id);
    assert.equal(sim.files.has(file.id), false);
    await client.files!.delete(file.id); // already gone: still resolves
    await assert.rejects(client.files!.retrieve(file.id), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 404);
  });

  it('lists files of a purpose newest first, a page at a time', async () => {
    const uploaded: ProviderFile[] = [];
    for (const name of ['l1.jsonl', 'l2.jsonl', 'l3.jsonl']) uploaded.push(await client.files!.upload({ ...readableOf('x\n'), filename: name, purpose: 'batch' }));
    const first = await client.files!.list({ purpose: 'batch', limit: 2 });
    assert.deepEqual(first.files.map((f) => f.id), [uploaded[2]!.id, uploaded[1]!.id]);
    assert.equal(first.hasMore, true);
    const second = await client.files!.list({ purpose: 'batch', limit: 2, after: first.files[1]!.id });
    assert.equal(second.files[0]!.id, uploaded[0]!.id);
    assert.equal(second.files[0]!.filename, 'l1.jsonl');
    for (const file of uploaded) await client.files!.delete(file.id);
  });

  it('destroying a file download before reading it aborts the upstream request', async () => {
    const big = 'x'.repeat(8 * 1024 * 1024);
    const file = await client.files!.upload({ ...readableOf(big), filename: 'big.txt', purpose: 'user_data' });
    const aborted: string[] = [];
    const onError = (message: unknown) => aborted.push((message as { request: { path: string } }).request.path);
    diagnostics.subscribe('undici:request:error', onError);
    try {
      const content = await client.files!.content(file.id);
      content.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(aborted, [`/v1/files/${file.id}/content`]);
    } finally {
      diagnostics.unsubscribe('undici:request:error', onError);
      await client.files!.delete(file.id);
    }
  });

  it('creates, retrieves and cancels batches, normalised', async () => {
    const line = (id: string) =>
      JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: client.batchLineModel, messages: [{ role: 'user', content: `hi ${id}` }] } });
    const text = `${line('1')}\n${line('2')}\n`;
    const input = await client.files!.upload({ ...readableOf(text), filename: 'b.jsonl', purpose: 'batch' });
    const batches = client.batches;
    assert.ok(batches && batches.kind === 'file');
    const created = await batches.create({
      providerInputFileId: input.id,
      endpoint: '/v1/chat/completions',
      completionWindow: '24h',
      metadata: { job: 'test' },
    });
    assert.equal(created.status, 'validating');
    assert.equal(created.outputFileId, null);
    assert.equal((sim.requests.at(-1)!.json as { endpoint: string }).endpoint, '/v1/chat/completions');
    for (let i = 0; i < 4; i++) await sim.advanceBatches();
    const done = await batches.retrieve(created.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.requestCounts, { total: 2, completed: 2, failed: 0 });
    assert.ok(done.outputFileId);
    assert.equal(done.errorFileId, null);
    assert.ok(done.completedAt);
    const output = await collectText(await client.files!.content(done.outputFileId));
    assert.equal(output.trim().split('\n').length, 2);

    const second = await batches.create({ providerInputFileId: input.id, endpoint: '/v1/chat/completions', completionWindow: '24h' });
    const cancelled = await batches.cancel(second.id);
    assert.equal(cancelled.status, 'cancelling');
    await assert.rejects(batches.cancel(done.id), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 409);
  });

  it('reports an unreachable upstream as a retryable connection error', async () => {
    const closed = openaiProvider.createClient(...withSettings(deploymentFrom('{model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:9/v1", api_key: k}')));
    await assert.rejects(closed.chatCompletions({ messages: [] }), (error: unknown) => {
      assert.ok(error instanceof Error);
      assert.equal((error as { code?: string }).code, 'upstream_connection_error');
      assert.equal((error as { isRetryable?: boolean }).isRetryable, true);
      assert.doesNotMatch(error.message, /127\.0\.0\.1/, 'no upstream URL in the message');
      return true;
    });
  });
});
