/**
 * Cohere through Portico, as a LiteLLM user configures it (`model: cohere/command-a-03-2025`,
 * `api_key: os.environ/COHERE_API_KEY`, LiteLLM's `/v2/chat`-style `api_base`; `cohere_chat/...`)
 * and calls it with the official `openai` SDK, against the Cohere simulator (proven with Cohere's
 * own SDK in test/simulators/cohere-simulator.test.ts): chat plain and streamed with usage, a tool
 * loop, embeddings (float and base64), Cohere's errors in OpenAI's envelope with their status,
 * dropped parameters named in `x-portico-warnings`, and a batch run on Portico's engine.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { readChatStream } from '../../helpers/chat-streams.ts';
import { validateBatchLine, validateOpenAI } from '../../helpers/openai-schemas.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { resultLines, waitForEnd } from '../../helpers/simulated-batches.ts';
import { COHERE_SIMULATOR_API_KEY, startCohereSimulator, type CohereSimulator } from '../../simulators/cohere-simulator.ts';
import { chatLines, uploadBatchFile } from '../managed/managed-fixtures.ts';

const MASTER_KEY = 'sk-cohere-e2e-master-0123456789';
const WARNINGS = 'x-portico-warnings';
const WEATHER: OpenAI.Chat.ChatCompletionTool = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

/** What Portico adds to OpenAI's assistant message for Cohere (`tool_plan`) and reasoning models (`reasoning_content`). */
type CohereMessage = OpenAI.Chat.ChatCompletionMessage & { tool_plan?: string; reasoning_content?: string };

async function config(sim: CohereSimulator): Promise<string> {
  const storage = await mkdtemp(join(tmpdir(), 'portico-cohere-'));
  const deployment = (name: string, model: string, extra = '') => `
  - model_name: ${name}
    litellm_params:
      model: ${model}
      api_key: os.environ/COHERE_API_KEY
      api_base: ${sim.url}/v2/chat${extra}`;
  return `
model_list:${deployment('command-a', 'cohere/command-a-03-2025')}${deployment('command-r-plus', 'cohere_chat/command-r-plus-08-2024')}${deployment('command-a-dropping', 'cohere/command-a-03-2025', '\n      drop_params: true')}${deployment('command-nope', 'cohere/command-nope')}${deployment('command-a-reasoning', 'cohere/command-a-reasoning-08-2025')}
  - model_name: command-a-wrong-key
    litellm_params: { model: cohere/command-a-03-2025, api_key: wrong-key, api_base: "${sim.url}" }
  - model_name: cohere-embed
    litellm_params: { model: cohere/embed-english-v3.0, api_key: os.environ/COHERE_API_KEY, api_base: "${sim.url}" }
    model_info: { mode: embedding }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  files: { storage_dir: ${storage} }
  batch: { refresh_after_seconds: 0, poll_interval_ms: 200 }
`;
}

describe('Cohere through Portico', () => {
  let sim: CohereSimulator;
  let portico: PorticoUnderTest;
  let client: OpenAI;

  before(async () => {
    sim = await startCohereSimulator({ models: ['command-a-03-2025', 'command-r-plus-08-2024', 'command-a-reasoning-08-2025'] });
    portico = await startPortico(await config(sim), { env: { ...process.env, COHERE_API_KEY: COHERE_SIMULATOR_API_KEY } });
    client = portico.client(MASTER_KEY, { maxRetries: 0 });
  });
  after(async () => {
    await portico?.close();
    await sim?.close();
  });

  const lastChat = () => sim.requests.filter((r) => r.path === '/v2/chat').at(-1)!;

  test('a chat completion goes to /v2/chat with the bearer key and the deployment model; the answer is OpenAI-shaped, usage counted', async () => {
    const { data: completion, response } = await client.chat.completions
      .create({ model: 'command-a', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Cohere' }], max_tokens: 100, top_p: 0.5 })
      .withResponse();
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0].message.content, 'Hello Cohere');
    assert.equal(completion.choices[0].finish_reason, 'stop');
    // `tokens` (every token read, 3 a message more than billed), not `billed_units`.
    assert.deepEqual(completion.usage, { prompt_tokens: 3 + 3 + 3 * 2, completion_tokens: 3, total_tokens: 15 });
    assert.equal(response.headers.get(WARNINGS), null);
    const sent = lastChat();
    assert.equal(sent.headers.authorization, `Bearer ${COHERE_SIMULATOR_API_KEY}`);
    assert.equal(sent.headers['x-client-request-id'], response.headers.get('x-request-id'));
    assert.deepEqual(sent.json, {
      model: 'command-a-03-2025',
      messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Cohere' }],
      max_tokens: 100,
      p: 0.5,
    });
  });

  test('cohere_chat/ serves Cohere chat models too', async () => {
    const completion = await client.chat.completions.create({ model: 'command-r-plus', messages: [{ role: 'user', content: 'Hi from cohere_chat' }] });
    assert.equal(completion.choices[0].message.content, 'Hi from cohere_chat');
    assert.equal((lastChat().json as { model: string }).model, 'command-r-plus-08-2024');
  });

  test('a streamed chat completion arrives chunk by chunk in OpenAI framing, with a usage chunk', async () => {
    const stream = await client.chat.completions.create({ model: 'command-a', messages: [{ role: 'user', content: 'Stream this please' }], stream: true, stream_options: { include_usage: true } });
    const { text, chunks, finish, usage } = await readChatStream(stream);
    assert.equal(text, 'Stream this please');
    assert.ok(chunks > 3);
    assert.equal(finish, 'stop');
    assert.ok(usage && usage.prompt_tokens > 0 && usage.completion_tokens > 0 && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens);
    assert.equal((lastChat().json as { stream: boolean }).stream, true);
  });

  test('a tool loop: the call with its plan, then the result sent back answers; streamed, the arguments join', async () => {
    const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'Please use tool for Paris' };
    const first = await client.chat.completions.create({ model: 'command-a', tools: [WEATHER], messages: [question] });
    assert.equal(first.choices[0].finish_reason, 'tool_calls');
    const asked = first.choices[0].message as CohereMessage;
    assert.equal(asked.content, null);
    assert.match(asked.tool_plan ?? '', /get_weather/);
    const call = asked.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Please use tool for Paris' });

    // The assistant message as the SDK returned it, sent back whole.
    const next = await client.chat.completions.create({
      model: 'command-a',
      tools: [WEATHER],
      messages: [question, asked as OpenAI.Chat.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 C' }],
    });
    assert.equal(next.choices[0].message.content, 'Sunny, 21 C');
    assert.equal(next.choices[0].finish_reason, 'stop');
    const sentTurn = (lastChat().json as { messages: Record<string, unknown>[] }).messages[1];
    assert.deepEqual(sentTurn, { role: 'assistant', tool_calls: [{ id: call.id, type: 'function', function: { name: 'get_weather', arguments: call.function.arguments } }], tool_plan: asked.tool_plan });

    const stream = await client.chat.completions.create({ model: 'command-a', tools: [WEATHER], tool_choice: 'required', messages: [{ role: 'user', content: 'Rome' }], stream: true });
    let args = '';
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const delta of chunk.choices[0]?.delta?.tool_calls ?? []) args += delta.function?.arguments ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    assert.deepEqual(JSON.parse(args), { city: 'Rome' });
    assert.equal(finish, 'tool_calls');
    assert.equal((lastChat().json as { tool_choice: string }).tool_choice, 'REQUIRED');
  });

  test("a reasoning model's thoughts come back as reasoning_content, plain and streamed, and go back to Cohere as a thinking part", async () => {
    const first = await client.chat.completions.create({ model: 'command-a-reasoning', messages: [{ role: 'user', content: 'Why is the sky blue?' }] });
    const message = first.choices[0].message as CohereMessage;
    assert.equal(message.content, 'Why is the sky blue?');
    assert.equal(message.reasoning_content, 'The user wrote: Why is the sky blue?');

    await client.chat.completions.create({
      model: 'command-a-reasoning',
      messages: [{ role: 'user', content: 'Why is the sky blue?' }, message as OpenAI.Chat.ChatCompletionMessageParam, { role: 'user', content: 'And at sunset?' }],
    });
    assert.deepEqual((lastChat().json as { messages: Record<string, unknown>[] }).messages[1], {
      role: 'assistant',
      content: [{ type: 'thinking', thinking: 'The user wrote: Why is the sky blue?' }, { type: 'text', text: 'Why is the sky blue?' }],
    });

    const stream = await client.chat.completions.create({ model: 'command-a-reasoning', messages: [{ role: 'user', content: 'Think aloud' }], stream: true });
    let reasoning = '';
    let text = '';
    for await (const chunk of stream) {
      const delta = (chunk.choices[0]?.delta ?? {}) as { content?: string | null; reasoning_content?: string };
      reasoning += delta.reasoning_content ?? '';
      text += delta.content ?? '';
    }
    assert.equal(reasoning, 'The user wrote: Think aloud');
    assert.equal(text, 'Think aloud');
  });

  test('embeddings: float as asked, base64 (the SDK default) decoding to the same vectors, input_type passed on', async () => {
    const float = await client.embeddings.create({ model: 'cohere-embed', input: ['first text', 'second text'], encoding_format: 'float' });
    assert.equal(float.object, 'list');
    assert.equal(float.data.length, 2);
    assert.equal(float.data[0].embedding.length, 1024);
    assert.ok(float.usage.prompt_tokens > 0);
    const sent = sim.requests.at(-1)!;
    assert.equal(sent.path, '/v2/embed');
    assert.deepEqual(sent.json, { model: 'embed-english-v3.0', texts: ['first text', 'second text'], input_type: 'search_document', embedding_types: ['float'] });

    const decoded = await client.embeddings.create({ model: 'cohere-embed', input: ['first text', 'second text'] });
    assert.equal((sim.requests.at(-1)!.json as { embedding_types: string[] }).embedding_types[0], 'float');
    decoded.data.forEach((item, index) => item.embedding.forEach((value, i) => assert.ok(Math.abs(value - float.data[index].embedding[i]) < 1e-6)));

    await client.embeddings.create({ model: 'cohere-embed', input: 'a query', input_type: 'search_query' } as OpenAI.EmbeddingCreateParams);
    assert.equal((sim.requests.at(-1)!.json as { input_type: string }).input_type, 'search_query');

    await assert.rejects(client.embeddings.create({ model: 'cohere-embed', input: [[1, 2, 3]] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal((error.error as { param?: string }).param, 'input');
      assert.match(error.message, /Token arrays cannot be embedded on Cohere deployments/);
      return true;
    });
  });

  test("Cohere's errors keep their status in OpenAI's envelope: 400, 429, 404, 401", async () => {
    const failing = async (model: string, content: string, status: number, type: string, code: string | null, message: RegExp) =>
      assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content }] }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, status);
        const body = error.error as { type?: string; code?: string | null; message?: string };
        assert.equal(body.type, type);
        assert.equal(body.code, code);
        assert.match(body.message ?? '', message);
        return true;
      });
    await failing('command-a', 'FAIL', 400, 'invalid_request_error', null, /^invalid request: /);
    await failing('command-a', 'FAIL:429', 429, 'rate_limit_error', 'rate_limit_exceeded', /Trial key/);
    await failing('command-nope', 'hi', 404, 'not_found_error', 'model_not_found', /model 'command-nope' not found/);
    await failing('command-a-wrong-key', 'hi', 401, 'authentication_error', 'invalid_api_key', /invalid api token/);
    // A streamed request refused by Cohere is refused before any chunk, with the same status.
    await assert.rejects(client.chat.completions.create({ model: 'command-a', stream: true, messages: [{ role: 'user', content: 'FAIL:429' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 429);
      return true;
    });
  });

  test('a request Cohere cannot take as sent: n > 1 is a 400 from Portico, no call made', async () => {
    const before = sim.requests.length;
    await assert.rejects(client.chat.completions.create({ model: 'command-a', n: 2, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal((error.error as { param?: string }).param, 'n');
      return true;
    });
    assert.equal(sim.requests.length, before);
  });

  test('dropped parameters are named in x-portico-warnings: a translation drop, and drop_params', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'command-a', user: 'user-1', top_p: 1, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(response.headers.get(WARNINGS), "top_p: top_p 1 is outside Cohere's range 0.01..0.99 and was clamped to 0.99. | user: 'user' is not supported by Cohere and was dropped.");
    assert.equal((lastChat().json as { user?: string; p: number }).user, undefined);

    const dropping = await client.chat.completions
      .create({ model: 'command-a-dropping', logit_bias: { '1': 1 }, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(dropping.response.headers.get('x-portico-dropped-params'), 'logit_bias');
    assert.match(dropping.response.headers.get(WARNINGS) ?? '', /^logit_bias: 'logit_bias' was dropped \(drop_params\)\./);
  });

  test("a batch runs on Portico's engine, one /v2/chat call per line: completed, the failed line in the error file", async () => {
    const before = sim.requests.filter((r) => r.path === '/v2/chat').length;
    const file = await uploadBatchFile(client, chatLines('command-a', { count: 3, prefix: 'cohere', text: (i) => (i === 2 ? 'FAIL' : `batch line ${i}`) }));
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const done = await waitForEnd(client, created.id);
    assert.deepEqual(validateOpenAI('Batch', done), []);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
    assert.equal(sim.requests.filter((r) => r.path === '/v2/chat').length - before, 3);
    const { output, errors } = await resultLines(client, done);
    for (const line of [...output, ...errors]) assert.deepEqual(validateBatchLine('BatchRequestOutput', line), []);
    assert.deepEqual(output.map((line) => line.custom_id).sort(), ['cohere-0', 'cohere-1']);
    const answer = output.find((line) => line.custom_id === 'cohere-0')!.response as { status_code: number; body: OpenAI.Chat.ChatCompletion };
    assert.equal(answer.status_code, 200);
    assert.equal(answer.body.choices[0].message.content, 'batch line 0');
    assert.deepEqual(errors.map((line) => [line.custom_id, (line.response as { status_code: number }).status_code]), [['cohere-2', 400]]);
  });
});
