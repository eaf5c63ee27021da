/**
 * Claude's extended thinking on `bedrock/` through Portico with the `openai` SDK: live chat goes
 * through Converse, where `reasoning_effort` becomes `additionalModelRequestFields.thinking` on
 * Claude models and stays a dropped parameter (with a warning) on others; `reasoningContent`
 * blocks become `reasoning_content` and `thinking_blocks`, plain and streamed, and the blocks sent
 * back go upstream as `reasoningContent` first in their turn (checked by signature). Against the
 * Bedrock simulator, whose thinking rules are proven with the AWS SDK.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { startBedrockSimulator, type BedrockSimulator } from '../../simulators/bedrock-simulator.ts';

const MASTER_KEY = 'sk-bedrock-thinking-master-0123';
const CLAUDE = 'us.anthropic.claude-sonnet-4-20250514-v1:0';

type ThinkingMessage = OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string; thinking_blocks?: Array<Record<string, unknown>> };

let sim: BedrockSimulator;
let portico: PorticoUnderTest;
let client: OpenAI;

before(async () => {
  sim = await startBedrockSimulator();
  const deployment = (name: string, model: string) => `
  - model_name: ${name}
    litellm_params:
      model: bedrock/${model}
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: ${sim.url}
      aws_access_key_id: os.environ/BEDROCK_THINKING_KEY
      aws_secret_access_key: os.environ/BEDROCK_THINKING_SECRET`;
  portico = await startPortico(
    `
model_list:${deployment('claude', CLAUDE)}${deployment('nova', 'amazon.nova-lite-v1:0')}
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
`,
    { env: { ...process.env, BEDROCK_THINKING_KEY: sim.accessKey.accessKeyId, BEDROCK_THINKING_SECRET: sim.accessKey.secretAccessKey } },
  );
  client = portico.client(MASTER_KEY, { maxRetries: 0 });
});

after(async () => {
  await portico?.close();
  await sim?.close();
});

const lastConverse = () => sim.requests.filter((r) => r.path.endsWith('/converse') || r.path.endsWith('/converse-stream')).at(-1)!.json as Record<string, any>;

test('reasoning_effort on a Claude model: thinking in additionalModelRequestFields, reasoning_content and thinking_blocks on the answer and in the stream', async () => {
  const completion = await client.chat.completions.create({ model: 'claude', reasoning_effort: 'medium', messages: [{ role: 'user', content: 'Why is the sky blue?' }] });
  const sent = lastConverse();
  assert.deepEqual(sent.additionalModelRequestFields, { thinking: { type: 'enabled', budget_tokens: 2048 } });
  assert.equal(sent.inferenceConfig.maxTokens, 2048 + 4096);
  const message = completion.choices[0].message as ThinkingMessage;
  assert.equal(message.content, 'Why is the sky blue?');
  assert.match(message.reasoning_content ?? '', /Why is the sky blue\?/);
  assert.equal(message.thinking_blocks?.[0]?.type, 'thinking');
  assert.ok(String(message.thinking_blocks?.[0]?.signature ?? '') !== '');

  const stream = await client.chat.completions.create({ model: 'claude', stream: true, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Stream it' }] });
  let reasoning = '';
  let content = '';
  let signature = '';
  for await (const chunk of stream) {
    const delta = (chunk.choices[0]?.delta ?? {}) as { content?: string | null; reasoning_content?: string; thinking_blocks?: Array<{ signature?: string }> };
    reasoning += delta.reasoning_content ?? '';
    content += delta.content ?? '';
    for (const block of delta.thinking_blocks ?? []) signature += block.signature ?? '';
  }
  assert.equal(content, 'Stream it');
  assert.match(reasoning, /Stream it/);
  assert.notEqual(signature, '');
});

test('a tool-use loop with thinking on Claude: the thinking_blocks sent back become reasoningContent first in the turn', async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'Please use tool for Paris' };
  const first = await client.chat.completions.create({ model: 'claude', reasoning_effort: 'low', tools, messages: [question] });
  const asked = first.choices[0].message as ThinkingMessage;
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  const toolAnswer: OpenAI.Chat.ChatCompletionMessageParam = { role: 'tool', tool_call_id: asked.tool_calls![0].id, content: 'sunny' };
  const next = await client.chat.completions.create({ model: 'claude', reasoning_effort: 'low', tools, messages: [question, asked as OpenAI.Chat.ChatCompletionMessageParam, toolAnswer] });
  assert.equal(next.choices[0].message.content, 'sunny');
  assert.deepEqual(Object.keys(lastConverse().messages[1].content[0]), ['reasoningContent']);
  await assert.rejects(
    client.chat.completions.create({ model: 'claude', reasoning_effort: 'low', tools, messages: [question, { role: 'assistant', content: null, tool_calls: asked.tool_calls }, toolAnswer] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /Expected `thinking` or `redacted_thinking`/.test(error.message),
  );
});

test('reasoning_effort on a model other than Claude is dropped with a warning, as before', async () => {
  const { data, response } = await client.chat.completions.create({ model: 'nova', reasoning_effort: 'high', messages: [{ role: 'user', content: 'hello nova' }] }).withResponse();
  assert.equal(data.choices[0].message.content, 'hello nova');
  assert.equal(lastConverse().additionalModelRequestFields, undefined);
  assert.match(response.headers.get('x-portico-warnings') ?? '', /reasoning_effort/);
});
