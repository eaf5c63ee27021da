/**
 * Claude's extended thinking through Portico, as LiteLLM users call it with the `openai` SDK:
 * `reasoning_effort` or Anthropic's own `thinking` in the request; `reasoning_content` and
 * `thinking_blocks` on the answer, streamed or not; the blocks sent back in a tool-use loop (which
 * Anthropic requires with thinking on, and checks by signature); a batch line with thinking run as
 * a native Message Batch. Against the Anthropic simulator, whose thinking rules are proven with
 * Anthropic's own SDK (`test/simulators/anthropic-simulator.test.ts`).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { runToEnd } from '../../helpers/simulated-batches.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from '../../simulators/anthropic-simulator.ts';
import { REDACTED_THINKING_TRIGGER } from '../../simulators/anthropic/thinking.ts';
import { parseJsonl, readContent, uploadBatchFile } from '../managed/managed-fixtures.ts';

const MASTER_KEY = 'sk-anthropic-thinking-master-0123';

/** What Portico adds to OpenAI's assistant message for Claude's thinking (LiteLLM's fields). */
type ThinkingMessage = { content: string | null; reasoning_content?: string; thinking_blocks?: Array<Record<string, unknown>> };
type ThinkingDelta = { content?: string | null; reasoning_content?: string; thinking_blocks?: Array<Record<string, unknown>> };

let sim: AnthropicSimulator;
let portico: PorticoUnderTest;
let client: OpenAI;

before(async () => {
  sim = await startAnthropicSimulator();
  portico = await startPortico(`
model_list:
  - model_name: claude
    litellm_params: { model: anthropic/claude-sonnet-4-5, api_base: "${sim.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY} }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  batch: { refresh_after_seconds: 0, poll_interval_ms: 200 }
`);
  client = portico.client(MASTER_KEY, { maxRetries: 0 });
});

after(async () => {
  await portico?.close();
  await sim?.close();
});

const lastUpstreamBody = () => sim.requests.filter((r) => r.path === '/v1/messages').at(-1)!.json as Record<string, unknown>;

test("reasoning_effort asks Claude to think with LiteLLM's budget; the answer carries reasoning_content and thinking_blocks", async () => {
  const { data: completion, response } = await client.chat.completions
    .create({ model: 'claude', reasoning_effort: 'low', messages: [{ role: 'user', content: 'What is 2 + 2?' }] })
    .withResponse();
  // Mapped, not dropped: no translation warning.
  assert.equal(response.headers.get('x-portico-warnings'), null);
  const sent = lastUpstreamBody();
  assert.deepEqual(sent.thinking, { type: 'enabled', budget_tokens: 1024 });
  assert.equal(sent.max_tokens, 1024 + 4096);
  const message = completion.choices[0].message as unknown as ThinkingMessage;
  assert.equal(message.content, 'What is 2 + 2?');
  assert.match(message.reasoning_content ?? '', /What is 2 \+ 2\?/);
  assert.equal(message.thinking_blocks?.length, 1);
  assert.equal(message.thinking_blocks![0].type, 'thinking');
  assert.equal(message.thinking_blocks![0].thinking, message.reasoning_content);
  assert.ok(typeof message.thinking_blocks![0].signature === 'string' && message.thinking_blocks![0].signature !== '');
  assert.equal(completion.choices[0].finish_reason, 'stop');
});

test('a streamed answer with thinking: reasoning_content deltas, then the signature, then the content', async () => {
  const stream = await client.chat.completions.create({
    model: 'claude',
    stream: true,
    thinking: { type: 'enabled', budget_tokens: 2000 },
    messages: [{ role: 'user', content: 'Think out loud' }],
  } as OpenAI.Chat.ChatCompletionCreateParamsStreaming);
  let reasoning = '';
  let content = '';
  const signatures: string[] = [];
  let contentStarted = false;
  for await (const chunk of stream) {
    const delta = (chunk.choices[0]?.delta ?? {}) as ThinkingDelta;
    if (delta.reasoning_content) {
      assert.equal(contentStarted, false, 'thinking comes before the answer');
      reasoning += delta.reasoning_content;
    }
    for (const block of delta.thinking_blocks ?? []) if (typeof block.signature === 'string' && block.signature !== '') signatures.push(block.signature);
    if (delta.content) {
      contentStarted = true;
      content += delta.content;
    }
  }
  assert.equal(content, 'Think out loud');
  assert.match(reasoning, /Think out loud/);
  assert.equal(signatures.length, 1);
  assert.equal(lastUpstreamBody().max_tokens, 2000 + 4096);
});

test('a tool-use loop with thinking: the thinking_blocks sent back let the loop go on; left out, Anthropic refuses with a 400', async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [
    { type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
  ];
  const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'Please use tool for the weather in Paris' };
  const first = await client.chat.completions.create({ model: 'claude', reasoning_effort: 'medium', tools, messages: [question] });
  assert.equal(first.choices[0].finish_reason, 'tool_calls');
  const asked = first.choices[0].message as OpenAI.Chat.ChatCompletionMessage & ThinkingMessage;
  const call = asked.tool_calls![0];
  assert.equal(asked.thinking_blocks?.length, 1);
  const toolAnswer: OpenAI.Chat.ChatCompletionMessageParam = { role: 'tool', tool_call_id: call.id, content: 'Sunny, 21 C' };

  // The assistant message as the SDK returned it, sent back whole.
  const next = await client.chat.completions.create({ model: 'claude', reasoning_effort: 'medium', tools, messages: [question, asked as OpenAI.Chat.ChatCompletionMessageParam, toolAnswer] });
  assert.equal(next.choices[0].message.content, 'Sunny, 21 C');
  const sentTurn = (lastUpstreamBody().messages as Array<{ role: string; content: Array<{ type: string }> }>)[1];
  assert.deepEqual(sentTurn.content.map((block) => block.type), ['thinking', 'tool_use']);

  const withoutThinking = { role: 'assistant' as const, content: null, tool_calls: asked.tool_calls };
  await assert.rejects(
    client.chat.completions.create({ model: 'claude', reasoning_effort: 'medium', tools, messages: [question, withoutThinking, toolAnswer] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /Expected `thinking` or `redacted_thinking`/.test(error.message),
  );
});

test('redacted thinking comes back as a thinking_blocks entry and is accepted in the next turn', async () => {
  const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: `${REDACTED_THINKING_TRIGGER} hi` };
  const first = await client.chat.completions.create({ model: 'claude', reasoning_effort: 'low', messages: [question] });
  const message = first.choices[0].message as OpenAI.Chat.ChatCompletionMessage & ThinkingMessage;
  assert.equal(message.thinking_blocks?.[0]?.type, 'redacted_thinking');
  assert.equal(message.reasoning_content, '');
  const next = await client.chat.completions.create({
    model: 'claude',
    reasoning_effort: 'low',
    messages: [question, message as OpenAI.Chat.ChatCompletionMessageParam, { role: 'user', content: 'and then?' }],
  });
  assert.equal(next.choices[0].message.content, 'and then?');
});

test("Portico refuses a reasoning_effort or thinking it cannot map, and Anthropic's own limits come back as 400s", async () => {
  const ask = (params: Record<string, unknown>) =>
    client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...params } as unknown as OpenAI.Chat.ChatCompletionCreateParamsNonStreaming);
  const seen = sim.requests.length;
  await assert.rejects(ask({ reasoning_effort: 'extreme' }), (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'reasoning_effort' && error.code === 'invalid_value');
  await assert.rejects(ask({ thinking: { type: 'enabled' } }), (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'thinking.budget_tokens');
  assert.equal(sim.requests.length, seen, 'refused before any upstream call');
  await assert.rejects(ask({ thinking: { type: 'enabled', budget_tokens: 100 } }), (error: unknown) => error instanceof OpenAI.BadRequestError && /greater than or equal to 1024/.test(error.message));
  await assert.rejects(ask({ reasoning_effort: 'low', temperature: 0.3 }), (error: unknown) => error instanceof OpenAI.BadRequestError && /temperature/.test(error.message));
  const none = await ask({ reasoning_effort: 'none' });
  assert.equal((none.choices[0].message as unknown as ThinkingMessage).thinking_blocks, undefined);
  assert.equal(lastUpstreamBody().thinking, undefined);
});

test('a batch line with reasoning_effort runs as a native Message Batch and its result carries the thinking', async () => {
  const line = { custom_id: 'think-1', method: 'POST', url: '/v1/chat/completions', body: { model: 'claude', reasoning_effort: 'high', messages: [{ role: 'user', content: 'batch thought' }] } };
  const file = await uploadBatchFile(client, `${JSON.stringify(line)}\n`);
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  const done = await runToEnd(client, sim, created.id);
  assert.equal(done.status, 'completed');
  const [result] = parseJsonl(await readContent(client, done.output_file_id!));
  const body = (result.response as { body: { choices: Array<{ message: ThinkingMessage }> } }).body;
  assert.equal(body.choices[0].message.content, 'batch thought');
  assert.match(body.choices[0].message.reasoning_content ?? '', /batch thought/);
  assert.equal(body.choices[0].message.thinking_blocks?.[0]?.type, 'thinking');
});
