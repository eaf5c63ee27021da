import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translateChatRequest } from './chat-request.ts';
import { CONTINUE_TEXT, DUMMY_TOOL } from './chat-request-modify.ts';

const options = { model: 'claude-3-5-sonnet-20241022', defaultMaxTokens: 4096 };

function translate(body: Record<string, unknown>, modifyParams: boolean) {
  return translateChatRequest({ model: 'group', ...body }, { ...options, modifyParams });
}

const systemOnly = { messages: [{ role: 'system', content: 'You are a poet.' }] };

const toolHistoryWithoutTools = {
  messages: [
    { role: 'user', content: 'Weather in Paris?' },
    { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'weather', arguments: '{"city":"Paris"}' } }] },
    { role: 'tool', tool_call_id: 'call_1', content: 'Sunny' },
    { role: 'user', content: 'Thanks. Anything else?' },
  ],
};

test('modify_params: a conversation with nothing after the system prompt gets a user message "Please continue."', () => {
  const { params, warnings } = translate(systemOnly, true);
  assert.equal(params.system, 'You are a poet.');
  assert.deepEqual(params.messages, [{ role: 'user', content: [{ type: 'text', text: CONTINUE_TEXT }] }]);
  assert.deepEqual(warnings.map((warning) => warning.param), ['messages']);
  assert.match(warnings[0].message, /Please continue\..*modify_params/);
});

test('modify_params: messages that were all empty leave a placeholder user message too', () => {
  const { params, warnings } = translate({ messages: [{ role: 'system', content: 'S' }, { role: 'user', content: '' }] }, true);
  assert.deepEqual(params.messages, [{ role: 'user', content: [{ type: 'text', text: CONTINUE_TEXT }] }]);
  assert.deepEqual(warnings.map((warning) => warning.param), ['messages[1]', 'messages']);
});

test('without modify_params a system-only conversation goes to Anthropic as it is (Anthropic answers the 400)', () => {
  const { params, warnings } = translate(systemOnly, false);
  assert.deepEqual(params.messages, []);
  assert.deepEqual(warnings, []);
});

test('modify_params: tool calls in the history without tools add the placeholder tool dummy_tool', () => {
  const { params, warnings } = translate(toolHistoryWithoutTools, true);
  assert.deepEqual(params.tools, [{ name: 'dummy_tool', description: 'This is a dummy tool call', input_schema: { type: 'object', properties: {} } }]);
  assert.equal(params.tool_choice, undefined);
  assert.deepEqual(warnings.map((warning) => warning.param), ['tools']);
  assert.match(warnings[0].message, /dummy_tool.*modify_params/);
  // The shared constant is not handed out: a later change to one request's tool cannot reach another's.
  assert.notEqual(params.tools?.[0].input_schema, DUMMY_TOOL.input_schema);
});

test('without modify_params tool calls without tools are sent without tools', () => {
  const { params, warnings } = translate(toolHistoryWithoutTools, false);
  assert.equal(params.tools, undefined);
  assert.deepEqual(warnings, []);
});

test('modify_params changes nothing in a request Anthropic takes as it is', () => {
  const body = {
    messages: [...toolHistoryWithoutTools.messages],
    tools: [{ type: 'function', function: { name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
  };
  assert.deepEqual(translate(body, true), translate(body, false));
  assert.deepEqual(translate(body, true).warnings, []);
});
