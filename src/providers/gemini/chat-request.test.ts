import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateChatRequest } from './chat-request.ts';

describe('OpenAI chat -> Gemini generateContent', () => {
  it('system messages become systemInstruction; user and assistant turns become user and model contents', () => {
    const { request, warnings } = translateChatRequest({
      model: 'g',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello' },
        { role: 'developer', content: [{ type: 'text', text: 'And kind.' }] },
        { role: 'user', content: 'Again' },
      ],
    });
    assert.deepEqual(request.systemInstruction, { parts: [{ text: 'Be brief.' }, { text: 'And kind.' }] });
    assert.deepEqual(request.contents, [
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: 'Hello' }] },
      { role: 'user', parts: [{ text: 'Again' }] },
    ]);
    assert.deepEqual(warnings, []);
  });

  it('images: a data: URL becomes inlineData, an http URL fileData with its type guessed', () => {
    const { request } = translateChatRequest({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.jpg' } },
          ],
        },
      ],
    });
    assert.deepEqual(request.contents[0].parts, [
      { text: 'What is this?' },
      { inlineData: { mimeType: 'image/png', data: 'iVBORw0KGgo=' } },
      { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.com/cat.jpg' } },
    ]);
  });

  it('tool calls become functionCall parts and tool results functionResponse parts named after their call, in one turn', () => {
    const { request } = translateChatRequest({
      messages: [
        { role: 'user', content: 'weather?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } },
            { id: 'call_2', type: 'function', function: { name: 'get_time', arguments: '{}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: 'noon' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }],
      tool_choice: 'required',
    });
    assert.deepEqual(request.contents[1], {
      role: 'model',
      parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' }, id: 'call_1' } }, { functionCall: { name: 'get_time', args: {}, id: 'call_2' } }],
    });
    assert.deepEqual(request.contents[2], {
      role: 'user',
      parts: [
        { functionResponse: { id: 'call_1', name: 'get_weather', response: { content: 'sunny' } } },
        { functionResponse: { id: 'call_2', name: 'get_time', response: { content: 'noon' } } },
      ],
    });
    assert.deepEqual(request.tools, [
      { functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT', properties: { city: { type: 'STRING' } }, propertyOrdering: ['city'], required: ['city'] } }] },
    ]);
    assert.deepEqual(request.toolConfig, { functionCallingConfig: { mode: 'ANY' } });
  });

  it('a named tool_choice allows that function only', () => {
    const { request } = translateChatRequest({
      messages: [{ role: 'user', content: 'x' }],
      tools: [{ type: 'function', function: { name: 'a' } }],
      tool_choice: { type: 'function', function: { name: 'a' } },
    });
    assert.deepEqual(request.toolConfig, { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: ['a'] } });
    assert.deepEqual(request.tools, [{ functionDeclarations: [{ name: 'a' }] }]);
  });

  it('sampling parameters go to generationConfig', () => {
    const { request } = translateChatRequest({ messages: [{ role: 'user', content: 'x' }], temperature: 1.5, top_p: 0.9, max_completion_tokens: 100, stop: 'END', n: 2, seed: 7 });
    assert.deepEqual(request.generationConfig, { maxOutputTokens: 100, temperature: 1.5, topP: 0.9, candidateCount: 2, seed: 7, stopSequences: ['END'] });
  });

  it('response_format json_schema becomes responseSchema, and the warning names what the schema translation dropped', () => {
    const { request, warnings } = translateChatRequest({
      messages: [{ role: 'user', content: 'x' }],
      response_format: {
        type: 'json_schema',
        json_schema: {
          name: 'answer',
          strict: true,
          schema: { type: 'object', properties: { name: { type: ['string', 'null'] }, tags: { type: 'array', items: { $ref: '#/$defs/tag' } } }, required: ['name'], additionalProperties: false, $defs: { tag: { type: 'string', const: 'x' } } },
        },
      },
    });
    assert.equal(request.generationConfig?.responseMimeType, 'application/json');
    assert.deepEqual(request.generationConfig?.responseSchema, {
      type: 'OBJECT',
      properties: { name: { type: 'STRING', nullable: true }, tags: { type: 'ARRAY', items: { type: 'STRING' } } },
      propertyOrdering: ['name', 'tags'],
      required: ['name'],
    });
    const schemaWarning = warnings.find((w) => w.param === 'response_format.json_schema.schema');
    assert.ok(schemaWarning);
    assert.match(schemaWarning.message, /\$: additionalProperties/);
    assert.match(schemaWarning.message, /\$\.properties\.tags\.items: const/);
    assert.ok(warnings.some((w) => w.param === 'response_format.json_schema.strict'));
  });

  it('unsupported parameters are dropped with a warning; unset ones silently', () => {
    const { warnings } = translateChatRequest({ messages: [{ role: 'user', content: 'x' }], logit_bias: { 1: 2 }, user: 'u', logprobs: false });
    assert.deepEqual(warnings.map((w) => w.param).sort(), ['logit_bias', 'user']);
  });

  it('bad input is a 400 with its param', () => {
    assert.throws(() => translateChatRequest({ messages: [] }), (e: unknown) => e instanceof InvalidRequestError && e.param === 'messages');
    assert.throws(() => translateChatRequest({ messages: [{ role: 'tool', tool_call_id: 'nope', content: 'x' }] }), (e: unknown) => e instanceof InvalidRequestError && e.param === 'messages[0].tool_call_id');
    assert.throws(() => translateChatRequest({ messages: [{ role: 'user', content: 'x' }], temperature: 3 }), (e: unknown) => e instanceof InvalidRequestError && e.param === 'temperature');
    assert.throws(() => translateChatRequest({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'ftp://x' } }] }] }), InvalidRequestError);
  });

  it("reasoning_effort and Anthropic's thinking become thinkingConfig (LiteLLM's budgets, thought summaries asked for); none turns thinking off; others are a 400", () => {
    const user = [{ role: 'user', content: 'x' }];
    const config = (extra: Record<string, unknown>) => translateChatRequest({ messages: user, ...extra }).request.generationConfig?.thinkingConfig;
    assert.deepEqual(config({ reasoning_effort: 'low' }), { thinkingBudget: 1024, includeThoughts: true });
    assert.deepEqual(config({ reasoning_effort: 'medium' }), { thinkingBudget: 2048, includeThoughts: true });
    assert.deepEqual(config({ reasoning_effort: 'high' }), { thinkingBudget: 4096, includeThoughts: true });
    assert.deepEqual(config({ reasoning_effort: 'minimal' }), { thinkingBudget: 128, includeThoughts: true });
    assert.deepEqual(config({ reasoning_effort: 'none' }), { thinkingBudget: 0 });
    assert.deepEqual(config({ thinking: { type: 'enabled', budget_tokens: 3000 }, reasoning_effort: 'low' }), { thinkingBudget: 3000, includeThoughts: true });
    assert.deepEqual(config({ thinking: { type: 'disabled' } }), { thinkingBudget: 0 });
    assert.equal(config({}), undefined);
    assert.deepEqual(translateChatRequest({ messages: user, reasoning_effort: 'high' }).warnings, []);
    assert.throws(() => config({ reasoning_effort: 'max' }), (e: unknown) => e instanceof InvalidRequestError && e.param === 'reasoning_effort' && e.code === 'invalid_value');
    assert.throws(() => config({ thinking: { type: 'adaptive' } }), (e: unknown) => e instanceof InvalidRequestError && e.param === 'thinking');
    assert.throws(() => config({ thinking: { type: 'enabled' } }), (e: unknown) => e instanceof InvalidRequestError && e.param === 'thinking.budget_tokens');
  });

  it("a tool call's thought signature goes back on its functionCall part, from extra_content (Google's) or LiteLLM's id encoding", () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { a: { type: 'number' } } } } }];
    const { request } = translateChatRequest({
      tools,
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' }, extra_content: { google: { thought_signature: 'sig-google' } } },
            { id: 'call_2__thought__sig-litellm', type: 'function', function: { name: 'f', arguments: '{"a":2}' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'one' },
        { role: 'tool', tool_call_id: 'call_2__thought__sig-litellm', content: 'two' },
      ],
    });
    assert.deepEqual(request.contents[1].parts, [
      { functionCall: { name: 'f', args: { a: 1 }, id: 'call_1' }, thoughtSignature: 'sig-google' },
      { functionCall: { name: 'f', args: { a: 2 }, id: 'call_2' }, thoughtSignature: 'sig-litellm' },
    ]);
    assert.deepEqual(request.contents[2].parts.map((part) => part.functionResponse?.id), ['call_1', 'call_2']);
  });
});
