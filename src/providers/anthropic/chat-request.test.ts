import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateChatRequest } from './chat-request.ts';

const options = { model: 'claude-3-5-sonnet-20241022', defaultMaxTokens: 4096 };

function translate(body: Record<string, unknown>) {
  return translateChatRequest({ model: 'group', ...body }, options);
}

test('system and developer messages become the top-level system prompt, in order', () => {
  const { params } = translate({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
    ],
  });
  assert.deepEqual(params.system, [
    { type: 'text', text: 'Be brief.' },
    { type: 'text', text: 'Answer in French.' },
  ]);
  assert.deepEqual(params.messages, [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
});

test('a single system message is sent as a plain string', () => {
  const { params } = translate({ messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }] });
  assert.equal(params.system, 'Be brief.');
});

test('the model sent upstream is the deployment model, not the client model group', () => {
  const { params } = translate({ messages: [{ role: 'user', content: 'Hi' }] });
  assert.equal(params.model, 'claude-3-5-sonnet-20241022');
});

test('consecutive same-role turns are merged into one Anthropic message', () => {
  const { params } = translate({
    messages: [
      { role: 'user', content: 'one' },
      { role: 'user', content: 'two' },
      { role: 'assistant', content: 'three' },
      { role: 'assistant', content: 'four' },
      { role: 'user', content: 'five' },
    ],
  });
  assert.deepEqual(
    params.messages.map((message) => [message.role, message.content.map((block) => (block as { text: string }).text)]),
    [
      ['user', ['one', 'two']],
      ['assistant', ['three', 'four']],
      ['user', ['five']],
    ],
  );
});

test('image parts become base64 image blocks for data URLs and url blocks for http URLs', () => {
  const { params } = translate({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'What is in these?' },
          { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
          { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
        ],
      },
    ],
  });
  assert.deepEqual(params.messages[0].content, [
    { type: 'text', text: 'What is in these?' },
    { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } },
    { type: 'image', source: { type: 'url', url: 'https://example.com/cat.jpg' } },
  ]);
});

test('an image data URL that is not base64 is refused with the part as param', () => {
  assert.throws(
    () => translate({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png,rawbytes' } }] }] }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'messages[0].content[0].image_url.url',
  );
});

test('assistant tool calls become tool_use blocks with parsed input, and tool messages become tool_result blocks', () => {
  const { params } = translate({
    messages: [
      { role: 'user', content: 'Weather in Paris and Rome?' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Rome"}' } },
        ],
      },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
      { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
      { role: 'user', content: 'Thanks' },
    ],
  });
  assert.deepEqual(params.messages, [
    { role: 'user', content: [{ type: 'text', text: 'Weather in Paris and Rome?' }] },
    {
      role: 'assistant',
      content: [
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { city: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { city: 'Rome' } },
      ],
    },
    {
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: '18C' },
        { type: 'tool_result', tool_use_id: 'call_2', content: [{ type: 'text', text: '24C' }] },
        { type: 'text', text: 'Thanks' },
      ],
    },
  ]);
});

test('tool call ids outside Anthropic\'s alphabet are rewritten identically on the call and its result', () => {
  const { params } = translate({
    messages: [
      { role: 'user', content: 'go' },
      { role: 'assistant', tool_calls: [{ id: 'functions.lookup:0', type: 'function', function: { name: 'lookup', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'functions.lookup:0', content: 'ok' },
    ],
  });
  const toolUse = params.messages[1].content[0] as { id: string };
  const toolResult = params.messages[2].content[0] as { tool_use_id: string };
  assert.match(toolUse.id, /^[a-zA-Z0-9_-]+$/);
  assert.equal(toolResult.tool_use_id, toolUse.id);
});

test('tool call arguments that are not a JSON object are refused', () => {
  assert.throws(
    () =>
      translate({
        messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{not json' } }] }],
      }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'messages[0].tool_calls[0].function.arguments',
  );
});

test('function tools become Anthropic tools with input_schema', () => {
  const parameters = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
  const { params } = translate({
    messages: [{ role: 'user', content: 'hi' }],
    tools: [
      { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } },
      { type: 'function', function: { name: 'ping' } },
    ],
  });
  assert.deepEqual(params.tools, [
    { name: 'get_weather', description: 'Weather now', input_schema: parameters },
    { name: 'ping', input_schema: { type: 'object', properties: {} } },
  ]);
});

test('tool_choice maps auto, none, required and a named function', () => {
  const base = { messages: [{ role: 'user', content: 'hi' }], tools: [{ type: 'function', function: { name: 'f' } }] };
  assert.deepEqual(translate({ ...base, tool_choice: 'auto' }).params.tool_choice, { type: 'auto' });
  assert.deepEqual(translate({ ...base, tool_choice: 'none' }).params.tool_choice, { type: 'none' });
  assert.deepEqual(translate({ ...base, tool_choice: 'required' }).params.tool_choice, { type: 'any' });
  assert.deepEqual(translate({ ...base, tool_choice: { type: 'function', function: { name: 'f' } } }).params.tool_choice, {
    type: 'tool',
    name: 'f',
  });
  assert.deepEqual(translate({ ...base, parallel_tool_calls: false }).params.tool_choice, { type: 'auto', disable_parallel_tool_use: true });
});

test('max_completion_tokens wins over max_tokens, and the default applies when neither is set', () => {
  const messages = [{ role: 'user', content: 'hi' }];
  assert.equal(translate({ messages, max_tokens: 100, max_completion_tokens: 200 }).params.max_tokens, 200);
  assert.equal(translate({ messages, max_tokens: 100 }).params.max_tokens, 100);
  assert.equal(translate({ messages }).params.max_tokens, 4096);
  assert.equal(translateChatRequest({ messages }, { ...options, defaultMaxTokens: 777 }).params.max_tokens, 777);
  assert.throws(() => translate({ messages, max_tokens: 0 }), InvalidRequestError);
});

test('a temperature above 1 is clamped to 1 and the clamp is recorded as a warning', () => {
  const messages = [{ role: 'user', content: 'hi' }];
  const clamped = translate({ messages, temperature: 1.6 });
  assert.equal(clamped.params.temperature, 1);
  assert.deepEqual(clamped.warnings.map((warning) => warning.param), ['temperature']);
  const kept = translate({ messages, temperature: 0.4 });
  assert.equal(kept.params.temperature, 0.4);
  assert.deepEqual(kept.warnings, []);
  assert.throws(() => translate({ messages, temperature: 2.5 }), InvalidRequestError);
});

test('stop, top_p and user map to stop_sequences, top_p and metadata.user_id', () => {
  const messages = [{ role: 'user', content: 'hi' }];
  assert.deepEqual(translate({ messages, stop: 'END' }).params.stop_sequences, ['END']);
  const { params } = translate({ messages, stop: ['a', 'b'], top_p: 0.9, user: 'user-42' });
  assert.deepEqual(params.stop_sequences, ['a', 'b']);
  assert.equal(params.top_p, 0.9);
  assert.deepEqual(params.metadata, { user_id: 'user-42' });
});

test('unsupported sampling parameters are dropped with one warning each, defaults silently', () => {
  const { params, warnings } = translate({
    messages: [{ role: 'user', content: 'hi' }],
    presence_penalty: 0.5,
    frequency_penalty: 0,
    seed: 7,
    logprobs: true,
    n: 1,
  });
  assert.deepEqual(warnings.map((warning) => warning.param).sort(), ['logprobs', 'presence_penalty', 'seed']);
  assert.equal('seed' in params, false);
  assert.equal('presence_penalty' in params, false);
});

test('n greater than 1 is refused because Anthropic returns one choice', () => {
  assert.throws(
    () => translate({ messages: [{ role: 'user', content: 'hi' }], n: 2 }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'n',
  );
});

test('a JSON response_format is refused, a text one accepted', () => {
  const messages = [{ role: 'user', content: 'hi' }];
  assert.throws(() => translate({ messages, response_format: { type: 'json_object' } }), InvalidRequestError);
  assert.doesNotThrow(() => translate({ messages, response_format: { type: 'text' } }));
});

test('an empty message is dropped with a warning instead of being sent as an empty turn', () => {
  const { params, warnings } = translate({
    messages: [
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: '' },
      { role: 'user', content: 'again' },
    ],
  });
  assert.deepEqual(params.messages, [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'text', text: 'again' }] }]);
  assert.deepEqual(warnings.map((warning) => warning.param), ['messages[1]']);
});

test('cache_control on a content part passes through to the Anthropic block', () => {
  const { params } = translate({
    messages: [{ role: 'user', content: [{ type: 'text', text: 'long context', cache_control: { type: 'ephemeral' } }] }],
  });
  assert.deepEqual(params.messages[0].content[0], { type: 'text', text: 'long context', cache_control: { type: 'ephemeral' } });
});

test('a role Anthropic does not know is refused', () => {
  assert.throws(
    () => translate({ messages: [{ role: 'function', name: 'f', content: 'x' }] }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'messages[0].role',
  );
});

test('a role, part type or response_format that is an object with its own toString key is a 400, not a TypeError (found by the fuzz suite)', () => {
  const hostile = JSON.parse('{"toString": "x"}') as unknown;
  for (const body of [
    { messages: [{ role: hostile, content: 'hi' }] },
    { messages: [{ role: 'user', content: [{ type: hostile }] }] },
    { messages: [{ role: 'user', content: 'hi' }], response_format: { type: hostile } },
  ]) {
    assert.throws(() => translate(body), (error: unknown) => error instanceof InvalidRequestError && /"toString":"x"/.test(error.message), JSON.stringify(body));
  }
});

test('extended thinking: `thinking` passes through; without max_tokens the budget is added to the default, with one it is kept', () => {
  const user = [{ role: 'user', content: 'Hi' }];
  const enabled = translate({ messages: user, thinking: { type: 'enabled', budget_tokens: 2048 } });
  assert.deepEqual(enabled.params.thinking, { type: 'enabled', budget_tokens: 2048 });
  assert.equal(enabled.params.max_tokens, 2048 + 4096);
  assert.deepEqual(enabled.warnings, []);
  assert.equal(translate({ messages: user, thinking: { type: 'enabled', budget_tokens: 2048 }, max_completion_tokens: 3000 }).params.max_tokens, 3000);
  // Newer types (adaptive thinking) and their options go as sent; disabled asks for none.
  assert.deepEqual(translate({ messages: user, thinking: { type: 'adaptive', display: 'summarized' } }).params.thinking, { type: 'adaptive', display: 'summarized' });
  const disabled = translate({ messages: user, thinking: { type: 'disabled' } }).params;
  assert.deepEqual(disabled.thinking, { type: 'disabled' });
  assert.equal(disabled.max_tokens, 4096);
});

test("reasoning_effort becomes LiteLLM's thinking budgets; none asks for no thinking; an explicit `thinking` wins", () => {
  const user = [{ role: 'user', content: 'Hi' }];
  for (const [effort, budget] of [['minimal', 1024], ['low', 1024], ['medium', 2048], ['high', 4096]] as const) {
    const { params, warnings } = translate({ messages: user, reasoning_effort: effort });
    assert.deepEqual(params.thinking, { type: 'enabled', budget_tokens: budget }, effort);
    assert.equal(params.max_tokens, budget + 4096);
    assert.deepEqual(warnings, []);
  }
  const none = translate({ messages: user, reasoning_effort: 'none' });
  assert.equal(none.params.thinking, undefined);
  assert.deepEqual(none.warnings, []);
  assert.deepEqual(translate({ messages: user, reasoning_effort: 'high', thinking: { type: 'enabled', budget_tokens: 1500 } }).params.thinking, { type: 'enabled', budget_tokens: 1500 });
});

test('a malformed thinking request is a 400 naming the parameter', () => {
  const user = [{ role: 'user', content: 'Hi' }];
  const refused = (body: Record<string, unknown>, param: string, code?: string) =>
    assert.throws(() => translate({ messages: user, ...body }), (error: unknown) => error instanceof InvalidRequestError && error.param === param && (code === undefined || error.code === code));
  refused({ reasoning_effort: 'extreme' }, 'reasoning_effort', 'invalid_value');
  refused({ reasoning_effort: 3 }, 'reasoning_effort', 'invalid_value');
  refused({ thinking: 'on' }, 'thinking');
  refused({ thinking: { budget_tokens: 2048 } }, 'thinking');
  refused({ thinking: { type: 'enabled' } }, 'thinking.budget_tokens');
  refused({ thinking: { type: 'enabled', budget_tokens: 1.5 } }, 'thinking.budget_tokens');
  refused({ thinking: { type: 'enabled', budget_tokens: '2048' } }, 'thinking.budget_tokens');
});

test("an assistant message's thinking_blocks go back first in its turn, unchanged; a malformed one is a 400", () => {
  const thinking = { type: 'thinking', thinking: 'Let me look it up.', signature: 'c2lnbmF0dXJl' };
  const redacted = { type: 'redacted_thinking', data: 'EmwKAhgBEgy3' };
  const { params } = translate({
    thinking: { type: 'enabled', budget_tokens: 2048 },
    tools: [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object', properties: {} } } }],
    messages: [
      { role: 'user', content: 'Look it up' },
      {
        role: 'assistant',
        content: null,
        reasoning_content: 'Let me look it up.',
        thinking_blocks: [thinking, redacted],
        tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'lookup', arguments: '{}' } }],
      },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'found' },
    ],
  });
  assert.deepEqual(params.messages[1], {
    role: 'assistant',
    content: [thinking, redacted, { type: 'tool_use', id: 'toolu_1', name: 'lookup', input: {} }],
  });
  assert.throws(
    () => translate({ messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello', thinking_blocks: [{ type: 'thinking', thinking: 'no signature' }] }] }),
    (error: unknown) => error instanceof InvalidRequestError && error.param === 'messages[1].thinking_blocks[0]',
  );
});
