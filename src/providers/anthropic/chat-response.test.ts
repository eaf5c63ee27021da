import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishReasonOf, translateMessageToChatCompletion } from './chat-response.ts';
import { fixtureJson } from './fixtures/load.ts';
import type { AnthropicMessage } from './wire-types.ts';

const options = { created: 1_700_000_000, fallbackModel: 'claude-fallback' };

test('a text message becomes a chat.completion with the text, stop and usage', () => {
  const completion = translateMessageToChatCompletion(fixtureJson<AnthropicMessage>('message-text.json'), options);
  assert.deepEqual(completion, {
    id: 'msg_013Zva2CMHLNnXjNJJKqJ2EF',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'claude-3-5-sonnet-20241022',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hi! My name is Claude.', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 2095, completion_tokens: 503, total_tokens: 2598, prompt_tokens_details: { cached_tokens: 0 } },
  });
});

test('tool_use blocks become tool_calls with JSON-string arguments, and cache tokens count as prompt tokens', () => {
  const completion = translateMessageToChatCompletion(fixtureJson<AnthropicMessage>('message-tool-use.json'), options);
  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.deepEqual(choice.message.tool_calls, [
    {
      id: 'toolu_01A09q90qw90lq917835lq9',
      type: 'function',
      function: { name: 'get_weather', arguments: JSON.stringify({ location: 'San Francisco, CA', unit: 'celsius' }) },
    },
  ]);
  assert.match(choice.message.content ?? '', /^<thinking>/);
  // 384 uncached + 100 written to the cache + 1000 read from it.
  assert.deepEqual(completion.usage, { prompt_tokens: 1484, completion_tokens: 86, total_tokens: 1570, prompt_tokens_details: { cached_tokens: 1000 } });
});

test('a message with only tool_use has null content', () => {
  const completion = translateMessageToChatCompletion(
    {
      id: 'msg_1',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: {} }],
      stop_reason: 'tool_use',
      usage: { input_tokens: 1, output_tokens: 1 },
    },
    options,
  );
  assert.equal(completion.choices[0].message.content, null);
  assert.equal(completion.model, 'claude-fallback');
});

test('several text blocks are concatenated and unknown blocks ignored', () => {
  const completion = translateMessageToChatCompletion(
    {
      id: 'msg_2',
      content: [
        { type: 'thinking', thinking: 'hmm', signature: 'x' },
        { type: 'text', text: 'Hello, ' },
        { type: 'text', text: 'world' },
      ],
      stop_reason: 'end_turn',
    },
    options,
  );
  assert.equal(completion.choices[0].message.content, 'Hello, world');
});

test('stop reasons map to OpenAI finish reasons', () => {
  assert.equal(finishReasonOf('end_turn'), 'stop');
  assert.equal(finishReasonOf('stop_sequence'), 'stop');
  assert.equal(finishReasonOf('max_tokens'), 'length');
  assert.equal(finishReasonOf('tool_use'), 'tool_calls');
  assert.equal(finishReasonOf('refusal'), 'content_filter');
  assert.equal(finishReasonOf(null), null);
});

test("thinking blocks become LiteLLM's reasoning_content (the thinking joined) and thinking_blocks (each block as sent, to send back)", () => {
  const completion = translateMessageToChatCompletion(fixtureJson<AnthropicMessage>('message-thinking.json'), options);
  const message = completion.choices[0].message;
  assert.equal(message.content, 'Based on my analysis...');
  assert.equal(message.reasoning_content, 'Let me analyze this step by step...');
  assert.deepEqual(message.thinking_blocks, [
    { type: 'thinking', thinking: 'Let me analyze this step by step...', signature: 'WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL....' },
    { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj...' },
  ]);
  // Thinking tokens are output tokens: they are in Anthropic's count already.
  assert.equal(completion.usage.completion_tokens, 320);
  const plain = translateMessageToChatCompletion(fixtureJson<AnthropicMessage>('message-text.json'), options).choices[0].message;
  assert.equal('reasoning_content' in plain || 'thinking_blocks' in plain, false);
});
