/**
 * `watsonx/` (IBM watsonx.ai) through Portico with the official `openai` SDK, against the
 * watsonx.ai simulator (proven with IBM's SDK): a LiteLLM config as LiteLLM users write it (the
 * service URL in WATSONX_URL, the API key in WATSONX_APIKEY, the project in WATSONX_PROJECT_ID,
 * IAM's URL in WATSONX_IAM_URL), chat plain, streamed with usage and with tools, embeddings (the
 * SDK's base64), a deployed model, upstream errors in OpenAI's envelope with their status, one
 * IAM exchange for many calls and a new one when watsonx.ai refuses the token, and a small batch
 * run by Portico's engine.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { parseConfig } from '../../../src/config/load-config.ts';
import { readChatStream } from '../../helpers/chat-streams.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { resultLines, waitForEnd } from '../../helpers/simulated-batches.ts';
import { startWatsonxSimulator, WATSONX_SIMULATOR_API_KEY, WATSONX_SIMULATOR_PROJECT_ID, type WatsonxSimulator } from '../../simulators/watsonx-simulator.ts';
import { chatLines, uploadBatchFile } from '../managed/managed-fixtures.ts';

const MASTER_KEY = 'sk-watsonx-e2e-master-0123456789';
const GRANITE = 'ibm/granite-3-8b-instruct';

let sim: WatsonxSimulator;
let portico: PorticoUnderTest;
let client: OpenAI;

before(async () => {
  sim = await startWatsonxSimulator();
  portico = await startPortico(
    `
model_list:
  - model_name: granite
    litellm_params:
      model: watsonx/${GRANITE}
  - model_name: slate
    litellm_params:
      model: watsonx/ibm/slate-125m-english-rtrvr
  - model_name: my-deployed
    litellm_params:
      model: watsonx/deployment/my-deployment-1
general_settings:
  master_key: ${MASTER_KEY}
`,
    { env: { ...process.env, WATSONX_URL: sim.url, WATSONX_APIKEY: WATSONX_SIMULATOR_API_KEY, WATSONX_PROJECT_ID: WATSONX_SIMULATOR_PROJECT_ID, WATSONX_IAM_URL: sim.iamUrl } },
  );
  client = new OpenAI({ apiKey: MASTER_KEY, baseURL: portico.baseURL, maxRetries: 0 });
});

after(async () => {
  await portico?.close();
  await sim?.close();
});

test('chat: the answer as a chat completion, the request as watsonx.ai takes it, one IAM exchange for every call', async () => {
  const completion = await client.chat.completions.create({ model: 'granite', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello from OpenAI' }], max_tokens: 40, temperature: 0.2, tool_choice: 'none' });
  assert.equal(completion.object, 'chat.completion');
  assert.equal(completion.choices[0]!.message.content, 'Hello from OpenAI');
  assert.ok(completion.usage!.prompt_tokens > 0);
  const sent = sim.requests.findLast((request) => request.path === '/ml/v1/text/chat')!;
  assert.equal(sent.query.version, '2024-03-13', "LiteLLM's default version");
  assert.deepEqual(sent.json, { model_id: GRANITE, project_id: WATSONX_SIMULATOR_PROJECT_ID, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello from OpenAI' }], max_tokens: 40, temperature: 0.2, tool_choice_option: 'none' });
  await client.chat.completions.create({ model: 'granite', messages: [{ role: 'user', content: 'again' }] });
  assert.equal(sim.tokensIssued(), 1);
});

test('a streamed chat, with its usage when asked; a tool call', async () => {
  const stream = await client.chat.completions.create({ model: 'granite', messages: [{ role: 'user', content: 'Stream me please' }], stream: true, stream_options: { include_usage: true } });
  const read = await readChatStream(stream);
  assert.equal(read.text, 'Stream me please');
  assert.equal(read.finish, 'stop');
  assert.ok(read.usage && read.usage.total_tokens > 0);
  assert.equal(sim.requests.at(-1)!.path, '/ml/v1/text/chat_stream');

  const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const called = await client.chat.completions.create({ model: 'granite', messages: [{ role: 'user', content: 'use tool for Paris' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } } });
  assert.equal(called.choices[0]!.finish_reason, 'tool_calls');
  assert.equal(called.choices[0]!.message.tool_calls![0]!.type === 'function' && called.choices[0]!.message.tool_calls![0]!.function.name, 'get_weather');
  assert.deepEqual((sim.requests.at(-1)!.json as { tool_choice: unknown }).tool_choice, { type: 'function', function: { name: 'get_weather' } });
});

test('embeddings, in the SDK\'s default base64 and as floats; a deployed model at its own URL', async () => {
  const base64 = await client.embeddings.create({ model: 'slate', input: ['one', 'two'] });
  assert.equal(base64.data.length, 2);
  assert.equal(base64.data[0]!.embedding.length, 384, 'the SDK decoded the base64 vector');
  const floats = await client.embeddings.create({ model: 'slate', input: 'three', encoding_format: 'float' });
  assert.equal(floats.data[0]!.embedding.length, 384);
  assert.ok(floats.usage.prompt_tokens > 0);
  assert.deepEqual(sim.requests.at(-1)!.json, { model_id: 'ibm/slate-125m-english-rtrvr', project_id: WATSONX_SIMULATOR_PROJECT_ID, inputs: ['three'] });

  const deployed = await client.chat.completions.create({ model: 'my-deployed', messages: [{ role: 'user', content: 'Deployed hello' }] });
  assert.equal(deployed.choices[0]!.message.content, 'Deployed hello');
  assert.equal(sim.requests.at(-1)!.path, '/ml/v1/deployments/my-deployment-1/text/chat');
  assert.equal((sim.requests.at(-1)!.json as { model_id?: string }).model_id, undefined, 'a deployment names its own model and space');
});

test("watsonx.ai's errors in OpenAI's envelope with their status; a refused token is exchanged again and the call goes through", async () => {
  const refused = await client.chat.completions.create({ model: 'granite', messages: [{ role: 'user', content: 'FAIL' }] }).catch((error: unknown) => error);
  assert.ok(refused instanceof OpenAI.BadRequestError);
  assert.match((refused.error as { message: string }).message, /The model refused the request/);

  const before = sim.tokensIssued();
  sim.revokeTokens();
  const after = await client.chat.completions.create({ model: 'granite', messages: [{ role: 'user', content: 'After revocation' }] });
  assert.equal(after.choices[0]!.message.content, 'After revocation');
  assert.equal(sim.tokensIssued(), before + 1);
});

test('a batch through Portico\'s engine', async () => {
  const input = await uploadBatchFile(client, chatLines('granite', { count: 3 }));
  const batch = await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const done = await waitForEnd(client, batch.id);
  assert.equal(done.status, 'completed');
  const { output } = await resultLines(client, done);
  assert.equal(output.length, 3);
});

test('a deployment without a project or space, credentials or a URL is a start-up error naming the key', () => {
  const config = (params: string, env: Record<string, string> = {}) => () => parseConfig(`model_list:\n  - {model_name: g, litellm_params: {model: watsonx/${GRANITE}${params}}}\n`, env);
  assert.throws(config(', api_base: "https://us-south.ml.cloud.ibm.com", api_key: k'), /project_id: a watsonx\/ deployment needs project_id/);
  assert.throws(config(', project_id: p, api_key: k'), /api_base: a watsonx\/ deployment needs api_base/);
  assert.throws(config(', project_id: p, api_base: "https://us-south.ml.cloud.ibm.com"'), /api_key: a watsonx\/ deployment needs an IBM Cloud API key/);
  assert.doesNotThrow(config(', project_id: p, region_name: eu-de', { WATSONX_TOKEN: 't' }));
});
