/**
 * LiteLLM's `modify_params` through Portico, with the official `openai` SDK against the Anthropic
 * simulator (which refuses what Anthropic refuses): a conversation Anthropic would answer with a
 * 400 is fixed up on a deployment with `modify_params` (per deployment or in `litellm_settings`),
 * the change named in `x-portico-warnings` and the log; without it the client gets the 400.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from '../../simulators/anthropic-simulator.ts';

const HEADER = 'x-portico-warnings';

const systemOnly: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'You are a poet.' }];

const toolHistoryWithoutTools: OpenAI.ChatCompletionMessageParam[] = [
  { role: 'user', content: 'Weather in Paris?' },
  { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
  { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
  { role: 'user', content: 'Thanks' },
];

function entry(name: string, url: string, extra = ''): string {
  return `  - model_name: ${name}
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}${extra}}
`;
}

describe('modify_params through Portico', () => {
  let sim: AnthropicSimulator;
  let plain: PorticoUnderTest;
  let global: PorticoUnderTest;

  before(async () => {
    sim = await startAnthropicSimulator();
    plain = await startPortico(`model_list:\n${entry('claude', sim.url)}${entry('claude-modifying', sim.url, ', modify_params: true')}`);
    global = await startPortico(
      `model_list:\n${entry('claude', sim.url)}${entry('claude-strict', sim.url, ', modify_params: false')}litellm_settings: {modify_params: true}\n`,
    );
  });
  after(async () => {
    await plain?.close();
    await global?.close();
    await sim?.close();
  });

  test('without modify_params a system-only conversation is the 400 Anthropic answers', async () => {
    await assert.rejects(plain.client().chat.completions.create({ model: 'claude', messages: systemOnly }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /at least one message is required/);
      return true;
    });
  });

  test("a deployment's modify_params adds the user message 'Please continue.', named in the header and the log", async () => {
    const { data, response } = await plain.client().chat.completions.create({ model: 'claude-modifying', messages: systemOnly }).withResponse();
    assert.equal(data.object, 'chat.completion');
    assert.deepEqual((sim.requests.at(-1)!.json as { messages: unknown }).messages, [
      { role: 'user', content: [{ type: 'text', text: 'Please continue.' }] },
    ]);
    assert.match(response.headers.get(HEADER) ?? '', /^messages: no message is left after the system prompt; a user message 'Please continue\.' was added \(modify_params\)\.$/);
    const logged = plain.logs.find((line) => Array.isArray(line.translation_warnings));
    assert.deepEqual((logged?.translation_warnings as { param: string }[]).map((warning) => warning.param), ['messages']);
  });

  test('without modify_params tool calls in the history without tools are the 400 Anthropic answers', async () => {
    await assert.rejects(global.client().chat.completions.create({ model: 'claude-strict', messages: toolHistoryWithoutTools }), (error: unknown) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.match(error.message, /must define tools/);
      return true;
    });
  });

  test('litellm_settings.modify_params adds the placeholder tool dummy_tool, streamed too', async () => {
    const { data: stream, response } = await global.client().chat.completions
      .create({ model: 'claude', stream: true, messages: toolHistoryWithoutTools })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'Thanks');
    assert.deepEqual((sim.requests.at(-1)!.json as { tools: unknown }).tools, [
      { name: 'dummy_tool', description: 'This is a dummy tool call', input_schema: { type: 'object', properties: {} } },
    ]);
    assert.match(response.headers.get(HEADER) ?? '', /^tools: .*'dummy_tool' was added \(modify_params\)\.$/);
  });
});
