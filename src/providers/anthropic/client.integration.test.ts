/**
 * The Anthropic client against the Anthropic simulator (test/simulators/anthropic-simulator.ts):
 * real HTTP on 127.0.0.1, Anthropic's validation, headers and error shapes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConflictError, GatewayError, UpstreamConnectionError, UpstreamError } from '../../spec/errors.ts';
import type { Deployment, InlineBatchResult, ProviderClient, StagedBatchPart, StagedBatchesCapability } from '../../spec/provider.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import {
  ANTHROPIC_SIMULATOR_API_KEY,
  startAnthropicSimulator,
  type AnthropicSimulator,
} from '../../../test/simulators/anthropic-simulator.ts';
import { anthropicProvider } from './index.ts';
import type { AnthropicJsonResponse } from './client.ts';
import { providerSettingsOf } from '../../config/provider-settings.ts';

const MODEL = 'claude-3-5-haiku-20241022';
let sim: AnthropicSimulator;

before(async () => {
  sim = await startAnthropicSimulator();
});
after(async () => {
  await sim.close();
});

function deployment(overrides: Partial<Deployment> = {}): Deployment {
  return {
    id: 'claude-sim',
    modelGroup: 'claude',
    providerName: 'anthropic',
    upstreamModel: MODEL,
    apiBase: sim.url,
    apiKey: ANTHROPIC_SIMULATOR_API_KEY,
    timeoutMs: 10_000,
    maxRetries: 0,
    weight: 1,
    batchMode: 'native',
    pricing: {},
    params: {},
    settings: undefined,
    ...overrides,
  };
}

/** A client of `deployment(overrides)`, its settings parsed as the config loader parses them. */
function client(overrides: Partial<Deployment> = {}): ProviderClient {
  const built = deployment(overrides);
  const settings = providerSettingsOf(anthropicProvider, { ...built.params, api_key: built.apiKey, api_base: built.apiBase });
  return anthropicProvider.createClient(built, settings);
}

function batches(): StagedBatchesCapability {
  const capability = client().batches;
  assert.equal(capability?.kind, 'staged');
  return capability as StagedBatchesCapability;
}

/** A part staged inline: Anthropic's create request carries its lines. */
const INLINE_PART: StagedBatchPart = { location: 'inline', start: 0, end: 3 };

function lastRequest() {
  const request = sim.requests.at(-1);
  assert.ok(request);
  return request;
}

async function frames(body: AsyncIterable<Uint8Array>): Promise<any[]> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  assert.ok(text.endsWith('data: [DONE]\n\n'), 'the stream ends with [DONE]');
  return text
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: ') && frame !== 'data: [DONE]')
    .map((frame) => JSON.parse(frame.slice('data: '.length)));
}

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
};

// ---- chat ----

test('a chat completion goes to /v1/messages with Anthropic headers and comes back as a chat.completion', async () => {
  const response = (await client().chatCompletions({
    model: 'claude',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello there' },
    ],
    temperature: 1.5,
  })) as AnthropicJsonResponse;

  const sent = lastRequest();
  assert.equal(sent.path, '/v1/messages');
  assert.equal(sent.headers['x-api-key'], ANTHROPIC_SIMULATOR_API_KEY);
  assert.equal(sent.headers['anthropic-version'], '2023-06-01');
  assert.deepEqual(sent.json, {
    model: MODEL,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello there' }] }],
    max_tokens: 4096,
    system: 'Be brief.',
    temperature: 1,
  });

  const body = response.body as any;
  assert.equal(response.status, 200);
  assert.match(response.upstreamRequestId ?? '', /^req_/);
  assert.equal(body.object, 'chat.completion');
  assert.match(body.id, /^msg_/);
  assert.equal(body.model, MODEL);
  assert.equal(body.choices[0].message.content, 'Hello there');
  assert.equal(body.choices[0].finish_reason, 'stop');
  assert.equal(body.usage.completion_tokens, Math.ceil('Hello there'.length / 4));
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
  assert.deepEqual(response.warnings.map((warning) => warning.param), ['temperature']);
});

test('max_tokens cuts the answer and finishes with length', async () => {
  const response = await client().chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'a'.repeat(100) }], max_tokens: 2 });
  const body = response.body as any;
  assert.equal(body.choices[0].finish_reason, 'length');
  assert.equal(body.choices[0].message.content, 'a'.repeat(8));
});

test('a deployment max_tokens is the default when the request has none', async () => {
  await client({ params: { max_tokens: 321 } }).chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal((lastRequest().json as any).max_tokens, 321);
});

test('a tool call comes back as tool_calls with JSON-string arguments and null content', async () => {
  const response = await client().chatCompletions({
    model: 'claude',
    messages: [{ role: 'user', content: 'please use tool' }],
    tools: [weatherTool],
  });
  const choice = (response.body as any).choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  assert.equal(choice.message.tool_calls.length, 1);
  assert.equal(choice.message.tool_calls[0].type, 'function');
  assert.equal(choice.message.tool_calls[0].function.name, 'get_weather');
  assert.deepEqual(JSON.parse(choice.message.tool_calls[0].function.arguments), { city: 'please use tool' });
  assert.deepEqual((lastRequest().json as any).tools, [
    { name: 'get_weather', description: 'Current weather', input_schema: weatherTool.function.parameters },
  ]);
});

test('a conversation with a tool call and its result is accepted by Anthropic\'s validation', async () => {
  const first = await client().chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'use tool now' }], tools: [weatherTool] });
  const assistant = (first.body as any).choices[0].message;
  const response = await client().chatCompletions({
    model: 'claude',
    tools: [weatherTool],
    messages: [
      { role: 'user', content: 'use tool now' },
      assistant,
      { role: 'tool', tool_call_id: assistant.tool_calls[0].id, content: 'Sunny, 21C' },
    ],
  });
  assert.equal((response.body as any).choices[0].message.content, 'Sunny, 21C');
});

test('prompt caching shows up as cached prompt tokens inside prompt_tokens', async () => {
  const request = {
    model: 'claude',
    messages: [
      { role: 'system', content: [{ type: 'text', text: 'A long shared preamble. '.repeat(20), cache_control: { type: 'ephemeral' } }] },
      { role: 'user', content: 'question' },
    ],
  };
  const first = (await client().chatCompletions(request)).body as any;
  const second = (await client().chatCompletions(request)).body as any;
  assert.equal(first.usage.prompt_tokens_details.cached_tokens, 0);
  assert.ok(second.usage.prompt_tokens_details.cached_tokens > 0);
  assert.equal(second.usage.prompt_tokens, first.usage.prompt_tokens);
});

test('a streamed chat completion arrives as chunks whose content joins into the answer, with a usage chunk', async () => {
  const stream = await client().chatCompletionsStream({
    model: 'claude',
    messages: [{ role: 'user', content: 'Streaming works across several pieces' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  assert.equal((lastRequest().json as any).stream, true);
  const chunks = await frames(stream.body);
  assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
  const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
  assert.equal(content, 'Streaming works across several pieces');
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
  const usage = chunks.at(-1).usage;
  assert.equal(usage.completion_tokens, Math.ceil(content.length / 4));
  assert.equal(usage.total_tokens, usage.prompt_tokens + usage.completion_tokens);
});

test('a streamed tool call arrives as tool_calls deltas whose arguments join into JSON', async () => {
  const stream = await client().chatCompletionsStream({
    model: 'claude',
    messages: [{ role: 'user', content: 'use tool for Paris' }],
    tools: [weatherTool],
    stream: true,
  });
  const chunks = await frames(stream.body);
  const calls = chunks.flatMap((chunk) => chunk.choices[0]?.delta.tool_calls ?? []);
  assert.equal(calls[0].function.name, 'get_weather');
  assert.match(calls[0].id, /^toolu_/);
  assert.deepEqual(JSON.parse(calls.map((call) => call.function.arguments).join('')), { city: 'use tool for Paris' });
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
});

test('an overloaded Anthropic (529) is a retryable 503 in OpenAI\'s envelope', async () => {
  await assert.rejects(
    client().chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'FAIL:529' }] }),
    (error: unknown) =>
      error instanceof UpstreamError &&
      error.httpStatus === 503 &&
      error.isRetryable &&
      error.code === 'overloaded_error' &&
      error.deploymentId === 'claude-sim',
  );
});

test('a streamed request that fails upstream fails before any byte is handed out', async () => {
  await assert.rejects(
    client().chatCompletionsStream({ model: 'claude', messages: [{ role: 'user', content: 'FAIL:529' }], stream: true }),
    (error: unknown) => error instanceof UpstreamError && error.httpStatus === 503,
  );
});

test('a rate limit keeps its status and passes retry-after on', async () => {
  sim.failNext({ status: 429, headers: { 'retry-after': '3' }, match: { path: /^\/v1\/messages$/ } });
  await assert.rejects(
    client().chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) =>
      error instanceof UpstreamError && error.httpStatus === 429 && error.isRetryable && error.headers['retry-after'] === '3' && error.type === 'rate_limit_error',
  );
});

test('a wrong key is a 401 authentication_error, not retryable', async () => {
  await assert.rejects(
    client({ apiKey: 'sk-ant-wrong' }).chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) => error instanceof UpstreamError && error.httpStatus === 401 && !error.isRetryable && error.type === 'authentication_error',
  );
});

test('an unknown model is a 404 with Anthropic\'s message', async () => {
  const strict = await startAnthropicSimulator({ models: ['claude-other'] });
  try {
    await assert.rejects(
      client({ apiBase: strict.url }).chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
      (error: unknown) => error instanceof UpstreamError && error.httpStatus === 404 && error.message === `model: ${MODEL}`,
    );
  } finally {
    await strict.close();
  }
});

test('an unreachable Anthropic is a retryable connection error', async () => {
  const gone = await startAnthropicSimulator();
  const url = gone.url;
  await gone.close();
  await assert.rejects(
    client({ apiBase: url }).chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }),
    (error: unknown) => error instanceof UpstreamConnectionError && error.isRetryable,
  );
});

test('an aborted call rejects and sends nothing more', async () => {
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    client().chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }, { signal: controller.signal }),
    (error: unknown) => error instanceof GatewayError && !error.isRetryable,
  );
});

test('an invalid request is refused before anything is sent', async () => {
  const before = sim.requests.length;
  await assert.rejects(client().chatCompletions({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], n: 2 }), /'n' must be 1/);
  assert.equal(sim.requests.length, before);
});

// ---- native Message Batches ----

function line(customId: string, content: string, body: Record<string, unknown> = {}): BatchInputLine {
  return { custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content }], ...body } };
}

/** The results as OpenAI output lines, read back into outcomes (what each request came to). */
async function allResults(id: string): Promise<Map<string, InlineBatchResult['outcome']>> {
  const out = new Map<string, InlineBatchResult['outcome']>();
  for await (const line of batches().results(id)) {
    if (line.response !== null) {
      const { status_code: statusCode, request_id: requestId, body } = line.response;
      out.set(line.custom_id, statusCode === 200 ? { type: 'succeeded', statusCode, requestId, body } : { type: 'http_error', statusCode, requestId, body });
    } else {
      out.set(line.custom_id, { type: line.error?.code === 'batch_expired' ? 'expired' : 'cancelled' });
    }
  }
  return out;
}

test('a native batch is created from translated lines and ends completed with succeeded and errored results', async () => {
  const created = await batches().create(INLINE_PART, {
    endpoint: '/v1/chat/completions',
    completionWindow: '24h',
    expiresAt: 0,
    lines: () => [
      line('r0', 'first answer', { messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'first answer' }] }),
      line('r1', 'FAIL'),
      line('r2', 'third answer', { max_completion_tokens: 50 }),
    ],
  });
  const sent = lastRequest();
  assert.equal(sent.path, '/v1/messages/batches');
  const requests = (sent.json as any).requests;
  assert.deepEqual(requests.map((request: any) => request.custom_id), ['r0', 'r1', 'r2']);
  assert.equal(requests[0].params.system, 'sys');
  assert.equal(requests[0].params.max_tokens, 4096);
  assert.equal(requests[2].params.max_tokens, 50);
  assert.equal('stream' in requests[0].params, false);

  assert.equal(created.status, 'in_progress');
  assert.deepEqual(created.requestCounts, { total: 3, completed: 0, failed: 0 });
  assert.ok(created.createdAt !== null && created.expiresAt === created.createdAt + 86_400);

  await sim.advanceBatches();
  assert.equal((await batches().retrieve(created.id)).status, 'in_progress');
  await sim.advanceBatches();
  const ended = await batches().retrieve(created.id);
  assert.equal(ended.status, 'completed');
  assert.deepEqual(ended.requestCounts, { total: 3, completed: 2, failed: 1 });
  assert.ok(ended.completedAt !== null && ended.finalizingAt === ended.completedAt);

  const results = await allResults(created.id);
  assert.equal(lastRequest().path, `/v1/messages/batches/${created.id}/results`);
  assert.deepEqual([...results.keys()].sort(), ['r0', 'r1', 'r2']);
  const succeeded = results.get('r0')!;
  assert.equal(succeeded.type, 'succeeded');
  if (succeeded.type === 'succeeded') {
    assert.equal(succeeded.statusCode, 200);
    assert.match(succeeded.requestId, /^msg_/);
    const body = succeeded.body as any;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.choices[0].message.content, 'first answer');
    assert.equal(body.created, ended.completedAt);
  }
  const errored = results.get('r1')!;
  assert.equal(errored.type, 'http_error');
  if (errored.type === 'http_error') {
    assert.equal(errored.statusCode, 400);
    assert.deepEqual(Object.keys((errored.body as any).error).sort(), ['code', 'message', 'param', 'type']);
    assert.equal((errored.body as any).error.type, 'invalid_request_error');
  }
});

test('expired and canceled requests come back as expired and cancelled, and the batch is expired', async () => {
  const created = await batches().create(INLINE_PART, {
    endpoint: '/v1/chat/completions',
    completionWindow: '24h',
    expiresAt: 0,
    lines: () => [line('ok', 'fine'), line('late', 'EXPIRE'), line('dropped', 'CANCEL')],
  });
  await sim.advanceBatches();
  await sim.advanceBatches();
  const ended = await batches().retrieve(created.id);
  assert.equal(ended.status, 'expired');
  assert.deepEqual(ended.requestCounts, { total: 3, completed: 1, failed: 2 });
  assert.equal(ended.expiredAt, ended.finalizingAt);
  const results = await allResults(created.id);
  assert.deepEqual(results.get('late'), { type: 'expired' });
  assert.deepEqual(results.get('dropped'), { type: 'cancelled' });
  assert.equal(results.get('ok')!.type, 'succeeded');
});

test('cancelling a batch shows cancelling, then cancelled with unprocessed requests cancelled', async () => {
  const created = await batches().create(INLINE_PART, {
    endpoint: '/v1/chat/completions',
    completionWindow: '24h',
    expiresAt: 0,
    lines: () => [line('a', 'one'), line('b', 'two')],
  });
  const cancelling = await batches().cancel(created.id);
  assert.equal(cancelling.status, 'cancelling');
  assert.ok(cancelling.cancellingAt !== null);
  await assert.rejects(allResults(created.id), ConflictError);
  await sim.advanceBatches();
  const cancelled = await batches().retrieve(created.id);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(cancelled.cancelledAt !== null);
  assert.deepEqual(cancelled.requestCounts, { total: 2, completed: 0, failed: 2 });
  const results = await allResults(created.id);
  assert.deepEqual([...results.values()], [{ type: 'cancelled' }, { type: 'cancelled' }]);
});

test('an unknown batch id is a 404 from Anthropic', async () => {
  await assert.rejects(batches().retrieve('msgbatch_doesnotexist'), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 404);
});

test('a batch with a line Portico cannot translate is refused before anything is sent', async () => {
  const before = sim.requests.length;
  await assert.rejects(
    batches().create(INLINE_PART, { endpoint: '/v1/chat/completions', completionWindow: '24h', expiresAt: 0, lines: () => [line('a', 'ok'), line('b', 'x', { n: 2 })] }),
    /Line 2/,
  );
  await assert.rejects(batches().create(INLINE_PART, { endpoint: '/v1/embeddings', completionWindow: '24h', expiresAt: 0, lines: () => [line('a', 'ok')] }), /only \/v1\/chat\/completions/);
  assert.equal(sim.requests.length, before);
});
