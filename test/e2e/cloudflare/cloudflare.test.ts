/**
 * `cloudflare/` (Cloudflare Workers AI) through Portico with the official `openai` SDK, against
 * the Workers AI simulator (proven with Cloudflare's SDK): a LiteLLM config as LiteLLM users
 * write it (the key in CLOUDFLARE_API_KEY, the account in CLOUDFLARE_ACCOUNT_ID, the simulator as
 * api_base in LiteLLM's `.../accounts/{account}/ai/run/` form), chat plain, streamed with usage
 * and with tools, embeddings, upstream errors in OpenAI's envelope with their status, a dropped
 * parameter named in x-portico-warnings, and a small batch run by Portico's engine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { readChatStream } from '../../helpers/chat-streams.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { resultLines, waitForEnd } from '../../helpers/simulated-batches.ts';
import { CLOUDFLARE_SIMULATOR_ACCOUNT_ID, CLOUDFLARE_SIMULATOR_API_TOKEN, startCloudflareSimulator, type CloudflareSimulator } from '../../simulators/cloudflare-simulator.ts';
import { chatLines, uploadBatchFile } from '../managed/managed-fixtures.ts';

const MASTER_KEY = 'sk-cloudflare-e2e-master-0123456789';
const LLAMA = '@cf/meta/llama-3.1-8b-instruct';

let sim: CloudflareSimulator;
let portico: PorticoUnderTest;
let client: OpenAI;

before(async () => {
  sim = await startCloudflareSimulator();
  const storage = await mkdtemp(join(tmpdir(), 'portico-cloudflare-'));
  portico = await startPortico(
    `
model_list:
  - model_name: llama
    litellm_params:
      model: cloudflare/${LLAMA}
      api_base: ${sim.runUrlPrefix}
  - model_name: llama-errors
    litellm_params:
      model: cloudflare/${LLAMA}
      api_base: ${sim.runUrlPrefix}
  - model_name: llama-account-from-env
    litellm_params:
      model: cloudflare/${LLAMA}
      api_base: ${sim.url}/client/v4
  - model_name: bge
    litellm_params:
      model: cloudflare/@cf/baai/bge-base-en-v1.5
      api_base: ${sim.runUrlPrefix}
  - model_name: missing-model
    litellm_params:
      model: cloudflare/@cf/meta/llama-9-instruct
      api_base: ${sim.runUrlPrefix}
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  files: { storage_dir: ${storage} }
  batch: { refresh_after_seconds: 0, poll_interval_ms: 100 }
`,
    { env: { ...process.env, CLOUDFLARE_API_KEY: CLOUDFLARE_SIMULATOR_API_TOKEN, CLOUDFLARE_ACCOUNT_ID: CLOUDFLARE_SIMULATOR_ACCOUNT_ID } },
  );
  client = portico.client(MASTER_KEY, { maxRetries: 0 });
});

after(async () => {
  await portico?.close();
  await sim?.close();
});

const runRequests = () => sim.requests.filter((request) => request.path.includes('/ai/run/'));
const lastRun = () => runRequests().at(-1)!;

test("a chat completion goes to {api_base}{model} with the key from the environment, in Workers AI's input, and comes back as a chat.completion", async () => {
  const completion = await client.chat.completions.create({
    model: 'llama',
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hello Workers AI' },
    ],
    max_tokens: 50,
    temperature: 0.3,
  });
  assert.equal(completion.object, 'chat.completion');
  assert.match(completion.id, /^chatcmpl-/);
  assert.equal(completion.choices[0].message.content, 'Hello Workers AI');
  assert.equal(completion.choices[0].finish_reason, 'stop');
  assert.ok(completion.usage!.prompt_tokens > 0 && completion.usage!.completion_tokens > 0);
  const sent = lastRun();
  assert.equal(sent.path, `/client/v4/accounts/${CLOUDFLARE_SIMULATOR_ACCOUNT_ID}/ai/run/${LLAMA}`);
  assert.equal(sent.headers.authorization, `Bearer ${CLOUDFLARE_SIMULATOR_API_TOKEN}`);
  assert.deepEqual(sent.json, { messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Workers AI' }], max_tokens: 50, temperature: 0.3 });
});

test('an api_base that is the v4 API root takes the account from CLOUDFLARE_ACCOUNT_ID', async () => {
  const completion = await client.chat.completions.create({ model: 'llama-account-from-env', messages: [{ role: 'user', content: 'account from env' }] });
  assert.equal(completion.choices[0].message.content, 'account from env');
  assert.equal(lastRun().path, `/client/v4/accounts/${CLOUDFLARE_SIMULATOR_ACCOUNT_ID}/ai/run/${LLAMA}`);
});

test('a stream with include_usage arrives in several chunks, ends with a finish reason, the usage chunk and [DONE]', async () => {
  const stream = await client.chat.completions.create({ model: 'llama', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'Stream this reply please' }] });
  const read = await readChatStream(stream);
  assert.equal(read.text, 'Stream this reply please');
  assert.ok(read.chunks > 3);
  assert.equal(read.finish, 'stop');
  assert.ok(read.usage && read.usage.prompt_tokens > 0 && read.usage.completion_tokens > 0 && read.usage.total_tokens === read.usage.prompt_tokens + read.usage.completion_tokens);
  assert.equal((lastRun().json as { stream?: boolean }).stream, true);
});

test('a tool call comes back as tool_calls, and its result goes back for the answer', async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'please use tool for Paris' };
  const first = await client.chat.completions.create({ model: 'llama', messages: [question], tools });
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  const call = first.choices[0].message.tool_calls![0] as OpenAI.Chat.ChatCompletionMessageFunctionToolCall;
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'please use tool for Paris' });
  assert.equal(first.choices[0].message.content, null);
  // Workers AI requires descriptions (of the function, of each property): Portico filled in empty ones.
  const sentTool = (lastRun().json as { tools: Array<{ function: { description: string; parameters: { properties: Record<string, unknown> } } }> }).tools[0].function;
  assert.equal(sentTool.description, '');
  assert.deepEqual(sentTool.parameters.properties.city, { type: 'string', description: '' });

  const next = await client.chat.completions.create({ model: 'llama', tools, messages: [question, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }, { role: 'user', content: 'thanks' }] });
  assert.equal(next.choices[0].message.content, 'thanks');
  const sent = lastRun().json as { messages: Array<Record<string, unknown>> };
  assert.deepEqual(sent.messages[1].content, '');
  assert.deepEqual(sent.messages[2], { role: 'tool', content: 'sunny', tool_call_id: call.id });
});

test("response_format json_schema goes as Workers AI's JSON Mode, and the object it answers comes back as the content", async () => {
  const schema = { type: 'object', properties: { name: { type: 'string' }, capital: { type: 'string' } }, required: ['name', 'capital'] };
  const completion = await client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: 'Tell me about India.' }], response_format: { type: 'json_schema', json_schema: { name: 'country', schema } } });
  assert.deepEqual(JSON.parse(completion.choices[0].message.content!), { name: 'Tell me about India.', capital: 'Tell me about India.' });
  assert.deepEqual((lastRun().json as { response_format: unknown }).response_format, { type: 'json_schema', json_schema: schema });
});

test('embeddings come back as an OpenAI list, as floats or base64, with estimated usage', async () => {
  const embedded = await client.embeddings.create({ model: 'bge', input: ['first text', 'second text'] });
  assert.equal(embedded.object, 'list');
  assert.equal(embedded.data.length, 2);
  assert.equal(embedded.data[0].embedding.length, 768);
  assert.ok(embedded.usage.prompt_tokens > 0);
  assert.deepEqual(lastRun().json, { text: ['first text', 'second text'] });
  const encoded = await client.embeddings.create({ model: 'bge', input: 'first text', encoding_format: 'base64' });
  const bytes = Buffer.from(encoded.data[0].embedding as unknown as string, 'base64');
  assert.equal(bytes.length, 768 * 4);
  assert.ok(Math.abs(bytes.readFloatLE(0) - embedded.data[0].embedding[0]) < 1e-6);
  await assert.rejects(client.embeddings.create({ model: 'bge', input: [[1, 2, 3]] }), (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'input');
});

test("upstream errors reach the client in OpenAI's envelope with Cloudflare's status, message and code", async () => {
  // A group of their own, so that the failures' cooldowns touch no other test.
  sim.failNext({ status: 429, headers: { 'retry-after': '7' }, match: { path: /\/ai\/run\// } });
  await assert.rejects(client.chat.completions.create({ model: 'llama-errors', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.status, 429);
    assert.equal(error.message, '429 No more data centers to forward the request to');
    assert.equal(error.code, '3040');
    assert.equal(error.headers?.get('retry-after'), '7');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'missing-model', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match(error.message, /No such model @cf\/meta\/llama-9-instruct or task/);
    assert.equal(error.code, '5007');
    return true;
  });
  await assert.rejects(client.chat.completions.create({ model: 'llama-errors', messages: [{ role: 'user', content: 'FAIL:503' }] }), (error: unknown) => error instanceof OpenAI.InternalServerError && error.status === 503);
  // A streamed request that fails before its first event is still an HTTP error, not a broken stream.
  sim.failNext({ status: 401, match: { path: /\/ai\/run\// } });
  await assert.rejects(client.chat.completions.create({ model: 'llama-errors', stream: true, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => error instanceof OpenAI.AuthenticationError && /Authentication error/.test(error.message));
});

test('a parameter Workers AI lacks is dropped and named in x-portico-warnings; n > 1 and an http image are 400s naming the parameter', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'llama', stop: ['\n'], messages: [{ role: 'user', content: 'hello warnings' }] }).withResponse();
  assert.equal(data.choices[0].message.content, 'hello warnings');
  assert.match(response.headers.get('x-portico-warnings') ?? '', /stop: 'stop' is not supported by Cloudflare Workers AI and was dropped/);
  assert.equal('stop' in (lastRun().json as object), false);
  const before = runRequests().length;
  await assert.rejects(client.chat.completions.create({ model: 'llama', n: 2, messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'n');
  await assert.rejects(
    client.chat.completions.create({ model: 'llama', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'messages[0].content[0].image_url',
  );
  assert.equal(runRequests().length, before, 'refused before any call');
});

test("a small batch runs on Portico's engine, one Workers AI call per line", async () => {
  const before = runRequests().length;
  const input = await uploadBatchFile(client, chatLines('llama', { count: 2 }));
  const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const done = await waitForEnd(client, batch.id);
  assert.equal(done.status, 'completed');
  assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
  const { output, errors } = await resultLines(client, done);
  assert.deepEqual(errors, []);
  assert.deepEqual(output.map((line) => line.custom_id).sort(), ['request-0', 'request-1']);
  const bodies = output.map((line) => (line.response as { body: OpenAI.Chat.ChatCompletion }).body);
  assert.deepEqual(bodies.map((body) => body.choices[0].message.content).sort(), ['question 0', 'question 1']);
  assert.equal(runRequests().length - before, 2);
});
