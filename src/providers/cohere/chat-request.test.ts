import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateChatRequest } from './chat-request.ts';

function translate(body: Record<string, unknown>) {
  return translateChatRequest({ model: 'group', messages: [{ role: 'user', content: 'Hi' }], ...body }, { model: 'command-a-03-2025' });
}

function refused(body: Record<string, unknown>, param: string, message: RegExp): void {
  assert.throws(() => translate(body), (error: unknown) => {
    assert.ok(error instanceof InvalidRequestError);
    assert.equal(error.httpStatus, 400);
    assert.equal(error.param, param);
    assert.match(error.message, message);
    return true;
  });
}

test('the model sent is the deployment model; messages keep their roles and order, developer becoming system', () => {
  const { request, warnings } = translate({
    messages: [
      { role: 'system', content: 'Be brief.' },
      { role: 'developer', content: [{ type: 'text', text: 'Answer in French.' }] },
      { role: 'user', content: 'Hi' },
    ],
  });
  assert.equal(request.model, 'command-a-03-2025');
  assert.deepEqual(request.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'system', content: [{ type: 'text', text: 'Answer in French.' }] },
    { role: 'user', content: 'Hi' },
  ]);
  assert.deepEqual(warnings, []);
});

test('user text and image parts pass as Cohere content blocks; other parts are a 400 naming the part', () => {
  const { request } = translate({
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Describe this image' },
          { type: 'image_url', image_url: { url: 'https://cohere.com/favicon-32x32.png', detail: 'auto' } },
          { type: 'image_url', image_url: 'data:image/png;base64,iVBORw0KGgo=' },
        ],
      },
    ],
  });
  assert.deepEqual(request.messages[0], {
    role: 'user',
    content: [
      { type: 'text', text: 'Describe this image' },
      { type: 'image_url', image_url: { url: 'https://cohere.com/favicon-32x32.png', detail: 'auto' } },
      { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ],
  });
  refused({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }, 'messages[0].content[0].type', /'input_audio' is not supported on Cohere deployments/);
});

test('an assistant turn keeps its text, tool calls (string arguments) and tool plan; a tool result its call id', () => {
  const { request } = translate({
    messages: [
      { role: 'user', content: 'Weather in Toronto?' },
      {
        role: 'assistant',
        content: null,
        tool_plan: 'I will look up the weather.',
        tool_calls: [{ id: 'get_weather_nsz5zm3w56q3', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Toronto"}' } }],
      },
      { role: 'tool', tool_call_id: 'get_weather_nsz5zm3w56q3', content: '{"temperature": 20}' },
      { role: 'assistant', content: [{ type: 'text', text: 'It is ' }, { type: 'text', text: '20 C.' }] },
    ],
  });
  assert.deepEqual(request.messages.slice(1), [
    {
      role: 'assistant',
      tool_plan: 'I will look up the weather.',
      tool_calls: [{ id: 'get_weather_nsz5zm3w56q3', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Toronto"}' } }],
    },
    { role: 'tool', tool_call_id: 'get_weather_nsz5zm3w56q3', content: '{"temperature": 20}' },
    { role: 'assistant', content: 'It is 20 C.' },
  ]);
  refused({ messages: [{ role: 'tool', content: 'x' }] }, 'messages[0].tool_call_id', /tool_call_id is required/);
  refused({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, 'messages[0].role', /'function' is not supported/);
});

test("an assistant turn's reasoning_content goes back as a thinking part before its text", () => {
  const { request } = translate({ messages: [{ role: 'user', content: 'Q' }, { role: 'assistant', content: '4', reasoning_content: '2 + 2 is 4.' }, { role: 'user', content: 'And?' }] });
  assert.deepEqual(request.messages[1], { role: 'assistant', content: [{ type: 'thinking', thinking: '2 + 2 is 4.' }, { type: 'text', text: '4' }] });
});

test('sampling parameters are renamed: max_completion_tokens, top_p -> p, top_k -> k, stop -> stop_sequences', () => {
  const { request, warnings } = translate({
    max_completion_tokens: 300,
    max_tokens: 50,
    temperature: 0.3,
    top_p: 0.75,
    top_k: 40,
    stop: 'END',
    seed: 42,
    frequency_penalty: 0.5,
    presence_penalty: 0,
  });
  assert.equal(request.max_tokens, 300);
  assert.equal(request.temperature, 0.3);
  assert.equal(request.p, 0.75);
  assert.equal(request.k, 40);
  assert.deepEqual(request.stop_sequences, ['END']);
  assert.equal(request.seed, 42);
  assert.equal(request.frequency_penalty, 0.5);
  assert.equal(request.presence_penalty, 0);
  assert.deepEqual(warnings, []);
});

test("values outside Cohere's ranges are clamped, each with a warning", () => {
  const { request, warnings } = translate({ top_p: 1, top_k: 900, frequency_penalty: 1.5, presence_penalty: -0.5 });
  assert.equal(request.p, 0.99);
  assert.equal(request.k, 500);
  assert.equal(request.frequency_penalty, 1);
  assert.equal(request.presence_penalty, 0);
  assert.deepEqual(warnings.map((warning) => warning.param), ['top_p', 'top_k', 'frequency_penalty', 'presence_penalty']);
  assert.equal(warnings[0].message, "top_p 1 is outside Cohere's range 0.01..0.99 and was clamped to 0.99.");
});

test('bad values are a 400 naming the parameter', () => {
  refused({ temperature: 3 }, 'temperature', /between 0 and 2/);
  refused({ max_tokens: 0 }, 'max_tokens', /positive integer/);
  refused({ stop: [1] }, 'stop', /string or an array of strings/);
  refused({ seed: 1.5 }, 'seed', /integer/);
  refused({ messages: [] }, 'messages', /non-empty array/);
});

test('parameters whose loss would change the answer are a 400: n > 1, logprobs, top_logprobs, functions', () => {
  refused({ n: 2 }, 'n', /'n' must be 1/);
  refused({ logprobs: true }, 'logprobs', /not supported on Cohere deployments/);
  refused({ top_logprobs: 3 }, 'top_logprobs', /not supported/);
  refused({ functions: [{ name: 'f' }] }, 'functions', /use 'tools'/);
  assert.doesNotThrow(() => translate({ n: 1, logprobs: false, top_logprobs: 0 }));
});

test('tools keep the function shape; a function without parameters gets an empty object schema', () => {
  const { request } = translate({
    tools: [
      { type: 'function', function: { name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
      { type: 'function', function: { name: 'now' } },
    ],
  });
  assert.deepEqual(request.tools, [
    { type: 'function', function: { name: 'get_weather', description: 'Weather.', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    { type: 'function', function: { name: 'now', parameters: { type: 'object', properties: {} } } },
  ]);
  assert.equal(request.tool_choice, undefined);
  assert.equal(request.strict_tools, undefined);
});

test("strict on every tool is Cohere's strict_tools; on some only it is dropped with a warning", () => {
  const tool = (name: string, strict: boolean) => ({ type: 'function', function: { name, strict, parameters: { type: 'object', properties: {} } } });
  assert.equal(translate({ tools: [tool('a', true), tool('b', true)] }).request.strict_tools, true);
  const mixed = translate({ tools: [tool('a', true), tool('b', false)] });
  assert.equal(mixed.request.strict_tools, undefined);
  assert.deepEqual(mixed.warnings.map((warning) => warning.param), ['tools']);
});

test('tool_choice: required -> REQUIRED, none -> NONE, auto -> left out, a named function -> that tool alone with REQUIRED', () => {
  const tools = [
    { type: 'function', function: { name: 'a', parameters: { type: 'object' } } },
    { type: 'function', function: { name: 'b', parameters: { type: 'object' } } },
  ];
  assert.equal(translate({ tools, tool_choice: 'required' }).request.tool_choice, 'REQUIRED');
  assert.equal(translate({ tools, tool_choice: 'none' }).request.tool_choice, 'NONE');
  assert.equal(translate({ tools, tool_choice: 'auto' }).request.tool_choice, undefined);
  const named = translate({ tools, tool_choice: { type: 'function', function: { name: 'b' } } }).request;
  assert.equal(named.tool_choice, 'REQUIRED');
  assert.deepEqual(named.tools?.map((tool) => tool.function.name), ['b']);
  refused({ tools, tool_choice: { type: 'function', function: { name: 'c' } } }, 'tool_choice', /'c', which is not in 'tools'/);
  refused({ tools, tool_choice: 'sometimes' }, 'tool_choice', /must be 'auto'/);
  const withoutTools = translate({ tool_choice: 'required' });
  assert.equal(withoutTools.request.tool_choice, undefined);
  assert.deepEqual(withoutTools.warnings.map((warning) => warning.param), ['tool_choice']);
});

test('parallel_tool_calls: false is dropped with a warning (Cohere has no switch); true says nothing', () => {
  const tools = [{ type: 'function', function: { name: 'a', parameters: { type: 'object' } } }];
  assert.deepEqual(translate({ tools, parallel_tool_calls: false }).warnings.map((warning) => warning.param), ['parallel_tool_calls']);
  assert.deepEqual(translate({ tools, parallel_tool_calls: true }).warnings, []);
});

test('response_format: json_object as it is, json_schema as json_object with the schema, text left out', () => {
  const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
  assert.deepEqual(translate({ response_format: { type: 'json_object' } }).request.response_format, { type: 'json_object' });
  assert.deepEqual(translate({ response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } } }).request.response_format, {
    type: 'json_object',
    json_schema: schema,
  });
  assert.equal(translate({ response_format: { type: 'text' } }).request.response_format, undefined);
  refused({ response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema', /JSON schema object/);
  refused({ response_format: { type: 'yaml' } }, 'response_format', /'yaml' is not supported/);
});

test("reasoning_effort is dropped with a warning; Cohere's own thinking passes, budget_tokens read as token_budget", () => {
  const effort = translate({ reasoning_effort: 'high' });
  assert.equal(effort.request.thinking, undefined);
  assert.deepEqual(effort.warnings.map((warning) => warning.param), ['reasoning_effort']);
  assert.deepEqual(translate({ thinking: { type: 'enabled', token_budget: 2000 } }).request.thinking, { type: 'enabled', token_budget: 2000 });
  assert.deepEqual(translate({ thinking: { type: 'enabled', budget_tokens: 1024 } }).request.thinking, { type: 'enabled', token_budget: 1024 });
  assert.deepEqual(translate({ thinking: { type: 'disabled' } }).request.thinking, { type: 'disabled' });
  refused({ thinking: { type: 'adaptive' } }, 'thinking', /'enabled' \| 'disabled'/);
});

test("unsupported and unknown parameters are dropped with a warning each; Cohere's own pass through", () => {
  const { request, warnings } = translate({
    user: 'u-1',
    logit_bias: { '1': 2 },
    frobnicate: true,
    store: false,
    metadata: {},
    safety_mode: 'STRICT',
    documents: [{ data: { title: 'a', snippet: 'b' } }],
    messages: [{ role: 'user', content: 'Hi', name: 'ann' }],
  });
  assert.equal(request.safety_mode, 'STRICT');
  assert.deepEqual(request.documents, [{ data: { title: 'a', snippet: 'b' } }]);
  assert.deepEqual(request.messages, [{ role: 'user', content: 'Hi' }]);
  assert.deepEqual(
    warnings.map((warning) => [warning.param, warning.message]),
    [
      ['messages[0].name', "Cohere has no per-message 'name'; it was dropped."],
      ['user', "'user' is not supported by Cohere and was dropped."],
      ['logit_bias', "'logit_bias' is not supported by Cohere and was dropped."],
      ['frobnicate', "'frobnicate' is not a known chat completions parameter and was dropped."],
    ],
  );
});

test('stream and stream_options are read by the client, not sent by the translation', () => {
  const { request, warnings } = translate({ stream: true, stream_options: { include_usage: true } });
  assert.equal(request.stream, undefined);
  assert.deepEqual(warnings, []);
});
