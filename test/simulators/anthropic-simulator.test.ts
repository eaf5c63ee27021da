/**
 * The Anthropic simulator answers Anthropic's own SDK (`@anthropic-ai/sdk`): a message, a stream the
 * SDK assembles, and extended thinking: thinking blocks with signatures, streamed as the SDK's
 * `thinking` and `signature` events, sent back in a tool-use loop, refused when missing or changed,
 * redacted thinking, and the documented limits as the SDK's `BadRequestError`. The SDK is the
 * client, so the simulator's wire format is the SDK's, not Portico's guess.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from './anthropic-simulator.ts';
import { REDACTED_THINKING_TRIGGER } from './anthropic/thinking.ts';

const MODEL = 'claude-sonnet-5-5';
const THINKING = { type: 'enabled', budget_tokens: 2048 } as const;
const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'The weather in a city.',
  input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] },
};

describe('Anthropic simulator, driven by the @anthropic-ai/sdk SDK', () => {
  let sim: AnthropicSimulator;
  let client: Anthropic;
  before(async () => {
    sim = await startAnthropicSimulator();
    client = new Anthropic({ apiKey: ANTHROPIC_SIMULATOR_API_KEY, baseURL: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  it('a message answers the user text with usage, and a stream assembles to the same text', async () => {
    const message = await client.messages.create({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hello Claude' }] });
    assert.equal(message.content[0].type, 'text');
    assert.equal(message.content[0].type === 'text' && message.content[0].text, 'Hello Claude');
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.input_tokens > 0);
    const streamed = await client.messages.stream({ model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'Hello Claude' }] }).finalMessage();
    assert.deepEqual(streamed.content, message.content);
  });

  it('counts a request’s input tokens as its message counts them, and refuses max_tokens there', async () => {
    const request = { model: 'claude-sonnet-4-5', system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Count these words please' }] };
    const counted = await client.messages.countTokens(request);
    const message = await client.messages.create({ ...request, max_tokens: 50 });
    assert.equal(counted.input_tokens, message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0) + (message.usage.cache_creation_input_tokens ?? 0));
    await assert.rejects(client.messages.countTokens({ ...request, max_tokens: 5 } as never), Anthropic.BadRequestError);
  });

  it('with thinking on, a thinking block with a signature comes first, and counts as output', async () => {
    const plain = await client.messages.create({ model: MODEL, max_tokens: 4096, messages: [{ role: 'user', content: 'Think first' }] });
    const message = await client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, messages: [{ role: 'user', content: 'Think first' }] });
    assert.deepEqual(message.content.map((block) => block.type), ['thinking', 'text']);
    const thinking = message.content[0];
    assert.ok(thinking.type === 'thinking' && thinking.thinking.length > 0 && thinking.signature.length > 0);
    assert.ok(message.usage.output_tokens > plain.usage.output_tokens);
  });

  it('a streamed thinking block arrives as thinking and signature events and assembles to the block', async () => {
    const thoughts: string[] = [];
    const signatures: string[] = [];
    const stream = client.messages.stream({ model: MODEL, max_tokens: 4096, thinking: THINKING, messages: [{ role: 'user', content: 'Stream your thoughts' }] });
    stream.on('thinking', (delta) => thoughts.push(delta));
    stream.on('signature', (signature) => signatures.push(signature));
    const message = await stream.finalMessage();
    const block = message.content[0];
    assert.ok(block.type === 'thinking');
    assert.ok(thoughts.length > 1);
    assert.equal(thoughts.join(''), block.thinking);
    assert.deepEqual(signatures, [block.signature]);
    assert.equal(message.content[1].type === 'text' && message.content[1].text, 'Stream your thoughts');
  });

  it('a tool-use loop with thinking: the blocks sent back unchanged pass; missing or changed they are refused', async () => {
    const question = { role: 'user' as const, content: 'Please use tool for the weather in Paris' };
    const first = await client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, tools: [WEATHER_TOOL], messages: [question] });
    assert.deepEqual(first.content.map((block) => block.type), ['thinking', 'tool_use']);
    const toolUse = first.content[1];
    assert.ok(toolUse.type === 'tool_use');
    const answer = { role: 'user' as const, content: [{ type: 'tool_result' as const, tool_use_id: toolUse.id, content: 'Sunny, 21 C' }] };
    const next = await client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, tools: [WEATHER_TOOL], messages: [question, { role: 'assistant', content: first.content }, answer] });
    assert.equal(next.stop_reason, 'end_turn');

    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, tools: [WEATHER_TOOL], messages: [question, { role: 'assistant', content: [toolUse] }, answer] }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /Expected `thinking` or `redacted_thinking`, but found `tool_use`/.test(error.message),
    );
    const thinking = first.content[0];
    assert.ok(thinking.type === 'thinking');
    const changed = { ...thinking, thinking: `${thinking.thinking} (edited)` };
    await assert.rejects(
      client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, tools: [WEATHER_TOOL], messages: [question, { role: 'assistant', content: [changed, toolUse] }, answer] }),
      (error: unknown) => error instanceof Anthropic.BadRequestError && /Invalid `signature` in `thinking` block/.test(error.message),
    );
  });

  it("Anthropic's test string gives a redacted thinking block, which is accepted back", async () => {
    const question = { role: 'user' as const, content: `${REDACTED_THINKING_TRIGGER} hello` };
    const first = await client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, messages: [question] });
    const redacted = first.content[0];
    assert.ok(redacted.type === 'redacted_thinking' && redacted.data.length > 0);
    const streamed = await client.messages.stream({ model: MODEL, max_tokens: 4096, thinking: THINKING, messages: [question] }).finalMessage();
    assert.equal(streamed.content[0].type, 'redacted_thinking');
    const next = await client.messages.create({
      model: MODEL,
      max_tokens: 4096,
      thinking: THINKING,
      messages: [question, { role: 'assistant', content: first.content }, { role: 'user', content: 'And then?' }],
    });
    assert.equal(next.content.at(-1)?.type, 'text');
  });

  it('the documented limits: a budget under 1024 or not under max_tokens, a temperature other than 1, a forced tool', async () => {
    const ask = (params: Partial<Anthropic.MessageCreateParamsNonStreaming>) =>
      client.messages.create({ model: MODEL, max_tokens: 4096, thinking: THINKING, messages: [{ role: 'user', content: 'hi' }], ...params } as Anthropic.MessageCreateParamsNonStreaming);
    const refused = async (params: Partial<Anthropic.MessageCreateParamsNonStreaming>, pattern: RegExp) =>
      assert.rejects(ask(params), (error: unknown) => error instanceof Anthropic.BadRequestError && pattern.test(error.message));
    await refused({ thinking: { type: 'enabled', budget_tokens: 512 } }, /budget_tokens: Input should be greater than or equal to 1024/);
    await refused({ max_tokens: 2048 }, /`max_tokens` must be greater than `thinking.budget_tokens`/);
    await refused({ temperature: 0.5 }, /`temperature` may only be set to 1 when thinking is enabled/);
    await refused({ tools: [WEATHER_TOOL], tool_choice: { type: 'any' } }, /tool_choice forces tool use/);
    assert.equal((await ask({ temperature: 1 })).content[0].type, 'thinking');
    assert.equal((await ask({ thinking: { type: 'disabled' } })).content[0].type, 'text');
  });
});
