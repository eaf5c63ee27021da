import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateConverseRequest } from './converse-request.ts';

const PNG = 'iVBORw0KGgo=';

describe('OpenAI chat -> Converse request', () => {
  it('system and developer messages become system blocks; consecutive turns of one role merge', () => {
    const { request, warnings } = translateConverseRequest({
      model: 'g',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'one' },
        { role: 'user', content: [{ type: 'text', text: 'two' }] },
        { role: 'developer', content: [{ type: 'text', text: 'No emojis.' }] },
        { role: 'assistant', content: 'ok' },
        { role: 'user', content: 'three' },
      ],
    });
    assert.deepEqual(request.system, [{ text: 'Be brief.' }, { text: 'No emojis.' }]);
    assert.deepEqual(request.messages, [
      { role: 'user', content: [{ text: 'one' }, { text: 'two' }] },
      { role: 'assistant', content: [{ text: 'ok' }] },
      { role: 'user', content: [{ text: 'three' }] },
    ]);
    assert.deepEqual(warnings, []);
  });

  it('images as data: URLs become image blocks with their bytes; a link is a 400 (Bedrock takes bytes)', () => {
    const { request } = translateConverseRequest({ messages: [{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } }] }] });
    assert.deepEqual(request.messages[0].content[1], { image: { format: 'png', source: { bytes: PNG } } });
    assert.throws(() => translateConverseRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }), (error: unknown) => {
      assert.ok(error instanceof InvalidRequestError);
      assert.equal(error.param, 'messages[0].content[0].image_url.url');
      return true;
    });
    assert.throws(() => translateConverseRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA==' } }] }] }), /png, jpeg, gif and webp/);
  });

  it('tool calls and tool results: toolUse with parsed input, toolResult in a user turn, consecutive results together', () => {
    const { request } = translateConverseRequest({
      messages: [
        { role: 'user', content: 'weather in Paris and Rome?' },
        { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'w', arguments: '{"city":"Paris"}' } }, { id: 'c2', type: 'function', function: { name: 'w', arguments: '{"city":"Rome"}' } }] },
        { role: 'tool', tool_call_id: 'c1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'c2', content: [{ type: 'text', text: 'rain' }] },
      ],
      tools: [{ type: 'function', function: { name: 'w', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }],
    });
    assert.deepEqual(request.messages[1], { role: 'assistant', content: [{ toolUse: { toolUseId: 'c1', name: 'w', input: { city: 'Paris' } } }, { toolUse: { toolUseId: 'c2', name: 'w', input: { city: 'Rome' } } }] });
    assert.deepEqual(request.messages[2], { role: 'user', content: [{ toolResult: { toolUseId: 'c1', content: [{ text: 'sunny' }] } }, { toolResult: { toolUseId: 'c2', content: [{ text: 'rain' }] } }] });
    assert.deepEqual(request.toolConfig, { tools: [{ toolSpec: { name: 'w', description: 'Weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }], toolChoice: { auto: {} } });
  });

  it('tool_choice: required -> any, a function -> tool, none -> no choice and a warning', () => {
    const base = { messages: [{ role: 'user', content: 'x' }], tools: [{ type: 'function', function: { name: 'f' } }] };
    assert.deepEqual(translateConverseRequest({ ...base, tool_choice: 'required' }).request.toolConfig?.toolChoice, { any: {} });
    assert.deepEqual(translateConverseRequest({ ...base, tool_choice: { type: 'function', function: { name: 'f' } } }).request.toolConfig?.toolChoice, { tool: { name: 'f' } });
    const none = translateConverseRequest({ ...base, tool_choice: 'none' });
    assert.equal(none.request.toolConfig?.toolChoice, undefined);
    assert.deepEqual(none.warnings.map((w) => w.param), ['tool_choice']);
    assert.deepEqual(translateConverseRequest(base).request.toolConfig?.tools[0].toolSpec.inputSchema, { json: { type: 'object', properties: {} } });
  });

  it('max_tokens (or max_completion_tokens, else the deployment default), temperature, top_p, stop -> inferenceConfig', () => {
    const messages = [{ role: 'user', content: 'x' }];
    assert.deepEqual(translateConverseRequest({ messages, max_tokens: 10, temperature: 0.3, top_p: 0.9, stop: 'END' }).request.inferenceConfig, { maxTokens: 10, temperature: 0.3, topP: 0.9, stopSequences: ['END'] });
    assert.deepEqual(translateConverseRequest({ messages, max_completion_tokens: 7, stop: ['a', 'b'] }).request.inferenceConfig, { maxTokens: 7, stopSequences: ['a', 'b'] });
    assert.deepEqual(translateConverseRequest({ messages }, { defaultMaxTokens: 99 }).request.inferenceConfig, { maxTokens: 99 });
    assert.equal(translateConverseRequest({ messages }).request.inferenceConfig, undefined);
  });

  it('parameters Converse has no place for are dropped with a warning each; those that change the answer are 400s', () => {
    const messages = [{ role: 'user', content: 'x' }];
    const { warnings } = translateConverseRequest({ messages, seed: 1, user: 'u', frequency_penalty: 0.5 });
    assert.deepEqual(warnings.map((w) => w.param).sort(), ['frequency_penalty', 'seed', 'user']);
    for (const extra of [{ n: 2 }, { logprobs: true }, { response_format: { type: 'json_object' } }]) {
      assert.throws(() => translateConverseRequest({ messages, ...extra }), InvalidRequestError, JSON.stringify(extra));
    }
    assert.doesNotThrow(() => translateConverseRequest({ messages, n: 1, response_format: { type: 'text' } }));
    assert.throws(() => translateConverseRequest({ messages: [{ role: 'system', content: 'only a system prompt' }] }), /at least one user message/);
    assert.throws(() => translateConverseRequest({ messages: [{ role: 'assistant', tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '[1]' } }] }] }), /must be a JSON object/);
  });
});
