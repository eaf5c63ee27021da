/**
 * Gemini's thinking through Portico with the `openai` SDK, as LiteLLM users call it:
 * `reasoning_effort` (or Anthropic's `thinking`) becomes `thinkingConfig` with thought summaries
 * asked for, which come back as `reasoning_content` (plain and streamed) with the thought tokens in
 * `completion_tokens_details.reasoning_tokens`; a Gemini 3 function call's thought signature comes
 * back in the tool call's `extra_content.google.thought_signature` (where Google's own
 * OpenAI-compatible API puts it) and goes upstream again with the assistant message sent back, or
 * from LiteLLM's `__thought__` id. Against the Gemini simulator, proven with `@google/genai`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { GEMINI_SIMULATOR_API_KEY, startGeminiSimulator, type GeminiSimulator } from '../../simulators/gemini-simulator.ts';

const MASTER_KEY = 'sk-gemini-thinking-master-0123';

type SignedToolCall = OpenAI.Chat.ChatCompletionMessageFunctionToolCall & { extra_content?: { google?: { thought_signature?: string } } };

let sim: GeminiSimulator;
let portico: PorticoUnderTest;
let client: OpenAI;

before(async () => {
  sim = await startGeminiSimulator();
  portico = await startPortico(`
model_list:
  - model_name: flash
    litellm_params: { model: gemini/gemini-2.5-flash, api_base: "${sim.url}", api_key: ${GEMINI_SIMULATOR_API_KEY} }
  - model_name: gemini-3
    litellm_params: { model: gemini/gemini-3-pro-preview, api_base: "${sim.url}", api_key: ${GEMINI_SIMULATOR_API_KEY} }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
`);
  client = portico.client(MASTER_KEY, { maxRetries: 0 });
});

after(async () => {
  await portico?.close();
  await sim?.close();
});

const lastGenerate = () => sim.requests.filter((r) => /:(stream)?[gG]enerateContent$/.test(r.path)).at(-1)!.json as Record<string, any>;

test('reasoning_effort asks for a thinking budget and thought summaries; they come back as reasoning_content, plain and streamed', async () => {
  const completion = await client.chat.completions.create({ model: 'flash', reasoning_effort: 'medium', messages: [{ role: 'user', content: 'Why is the sky blue?' }] });
  assert.deepEqual(lastGenerate().generationConfig.thinkingConfig, { thinkingBudget: 2048, includeThoughts: true });
  const message = completion.choices[0].message as OpenAI.Chat.ChatCompletionMessage & { reasoning_content?: string };
  assert.equal(message.content, 'Why is the sky blue?');
  assert.match(message.reasoning_content ?? '', /Why is the sky blue\?/);
  assert.ok((completion.usage?.completion_tokens_details?.reasoning_tokens ?? 0) > 0);

  const stream = await client.chat.completions.create({ model: 'flash', stream: true, reasoning_effort: 'low', messages: [{ role: 'user', content: 'Stream it' }] });
  let reasoning = '';
  let content = '';
  for await (const chunk of stream) {
    const delta = (chunk.choices[0]?.delta ?? {}) as { content?: string | null; reasoning_content?: string };
    if (delta.reasoning_content) {
      assert.equal(content, '', 'the thought summary comes before the answer');
      reasoning += delta.reasoning_content;
    }
    content += delta.content ?? '';
  }
  assert.equal(content, 'Stream it');
  assert.match(reasoning, /Stream it/);

  const off = await client.chat.completions.create({ model: 'flash', reasoning_effort: 'none', messages: [{ role: 'user', content: 'quick' }] });
  assert.deepEqual(lastGenerate().generationConfig.thinkingConfig, { thinkingBudget: 0 });
  assert.equal((off.choices[0].message as { reasoning_content?: string }).reasoning_content, undefined);
  await assert.rejects(
    client.chat.completions.create({ model: 'flash', reasoning_effort: 'max' as never, messages: [{ role: 'user', content: 'x' }] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'reasoning_effort',
  );
});

test("a Gemini 3 tool loop: the call's thought signature comes back in extra_content and goes upstream again with the message sent back", async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const question: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'Please use tool for Paris' };
  const first = await client.chat.completions.create({ model: 'gemini-3', tools, messages: [question] });
  const asked = first.choices[0].message;
  const call = asked.tool_calls![0] as SignedToolCall;
  const signature = call.extra_content?.google?.thought_signature;
  assert.ok(typeof signature === 'string' && signature !== '');
  const answer = (id: string): OpenAI.Chat.ChatCompletionMessageParam => ({ role: 'tool', tool_call_id: id, content: 'sunny' });

  // The assistant message as the SDK returned it.
  const next = await client.chat.completions.create({ model: 'gemini-3', tools, messages: [question, asked as OpenAI.Chat.ChatCompletionMessageParam, answer(call.id)] });
  assert.equal(next.choices[0].finish_reason, 'stop');
  assert.equal(lastGenerate().contents[1].parts[0].thoughtSignature, signature);

  // LiteLLM's encoding of the signature in the call id works too.
  const litellmId = `${call.id}__thought__${signature}`;
  const viaId = { role: 'assistant' as const, content: null, tool_calls: [{ id: litellmId, type: 'function' as const, function: call.function }] };
  await client.chat.completions.create({ model: 'gemini-3', tools, messages: [question, viaId, answer(litellmId)] });
  assert.equal(lastGenerate().contents[1].parts[0].thoughtSignature, signature);
  assert.equal(lastGenerate().contents[2].parts[0].functionResponse.id, call.id);

  // Rebuilt without it, Gemini 3 refuses: its 400 comes back in OpenAI's envelope.
  const unsigned = { role: 'assistant' as const, content: null, tool_calls: [{ id: call.id, type: 'function' as const, function: call.function }] };
  await assert.rejects(
    client.chat.completions.create({ model: 'gemini-3', tools, messages: [question, unsigned, answer(call.id)] }),
    (error: unknown) => error instanceof OpenAI.BadRequestError && /thought_signature/.test(error.message),
  );
});

test("a streamed Gemini 3 tool call carries its signature on the tool_calls delta", async () => {
  const tools: OpenAI.Chat.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
  const stream = await client.chat.completions.create({ model: 'gemini-3', stream: true, tools, messages: [{ role: 'user', content: 'Please use tool for Rome' }] });
  const calls: SignedToolCall[] = [];
  for await (const chunk of stream) calls.push(...((chunk.choices[0]?.delta?.tool_calls ?? []) as unknown as SignedToolCall[]));
  assert.equal(calls.length, 1);
  assert.ok(typeof calls[0].extra_content?.google?.thought_signature === 'string');
});
