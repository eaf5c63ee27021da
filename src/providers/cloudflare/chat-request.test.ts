import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateChatRequest } from './chat-request.ts';

const plain = { stream: false };
const user = (content: unknown) => ({ messages: [{ role: 'user', content }] });

function refusedAt(param: string) {
  return (error: unknown) => error instanceof InvalidRequestError && error.httpStatus === 400 && error.param === param;
}

describe('OpenAI chat request -> Workers AI text generation input', () => {
  it('passes the documented sampling parameters, and sends no max_tokens when the client sets none (the model default applies)', () => {
    const { input, warnings } = translateChatRequest(
      { model: 'llama', ...user('Hi'), temperature: 0.2, top_p: 0.9, top_k: 40, seed: 7, frequency_penalty: 0.5, presence_penalty: -0.5, repetition_penalty: 1.1 },
      plain,
    );
    assert.deepEqual(input, { messages: [{ role: 'user', content: 'Hi' }], temperature: 0.2, top_p: 0.9, top_k: 40, seed: 7, frequency_penalty: 0.5, presence_penalty: -0.5, repetition_penalty: 1.1 });
    assert.deepEqual(warnings, []);
    assert.equal('max_tokens' in input, false);
  });

  it('max_completion_tokens wins over max_tokens and becomes max_tokens; stream is set for streams only', () => {
    assert.equal(translateChatRequest({ ...user('x'), max_tokens: 10 }, plain).input.max_tokens, 10);
    const streamed = translateChatRequest({ ...user('x'), max_tokens: 10, max_completion_tokens: 20, stream: true, stream_options: { include_usage: true } }, { stream: true });
    assert.equal(streamed.input.max_tokens, 20);
    assert.equal(streamed.input.stream, true);
    assert.deepEqual(streamed.warnings, []);
    assert.throws(() => translateChatRequest({ ...user('x'), max_tokens: 0 }, plain), refusedAt('max_tokens'));
  });

  it('maps roles (developer is system), joins text parts, keeps tool results and the calls they answer', () => {
    const { input } = translateChatRequest(
      {
        messages: [
          { role: 'developer', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Weather ' }, { type: 'text', text: 'in Paris?' }] },
          { role: 'assistant', content: null, tool_calls: [{ id: 'call_abc123def', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
          { role: 'tool', tool_call_id: 'call_abc123def', content: 'sunny' },
        ],
      },
      plain,
    );
    assert.deepEqual(input.messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Weather in Paris?' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_abc123def', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', content: 'sunny', tool_call_id: 'call_abc123def' },
    ]);
  });

  it('a data: URL image keeps the parts (vision models); an http image, audio or an unknown role is a 400 naming it', () => {
    const image = { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } };
    const { input } = translateChatRequest(user([{ type: 'text', text: 'What is this?' }, image]), plain);
    assert.deepEqual(input.messages[0].content, [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } }]);
    assert.throws(() => translateChatRequest(user([{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }]), plain), refusedAt('messages[0].content[0].image_url'));
    assert.throws(() => translateChatRequest(user([{ type: 'input_audio', input_audio: { data: 'x', format: 'wav' } }]), plain), refusedAt('messages[0].content[0]'));
    assert.throws(() => translateChatRequest({ messages: [{ role: 'function', name: 'f', content: 'x' }] }, plain), refusedAt('messages[0].role'));
    assert.throws(() => translateChatRequest({ messages: [] }, plain), refusedAt('messages'));
  });

  it('n > 1, logprobs and the deprecated functions are refused with a 400 naming the parameter', () => {
    assert.throws(() => translateChatRequest({ ...user('x'), n: 2 }, plain), refusedAt('n'));
    assert.throws(() => translateChatRequest({ ...user('x'), logprobs: true }, plain), refusedAt('logprobs'));
    assert.throws(() => translateChatRequest({ ...user('x'), top_logprobs: 3 }, plain), refusedAt('top_logprobs'));
    assert.throws(() => translateChatRequest({ ...user('x'), functions: [{ name: 'f' }] }, plain), refusedAt('functions'));
    assert.doesNotThrow(() => translateChatRequest({ ...user('x'), n: 1, logprobs: false }, plain));
  });

  it('out-of-range values are a 400; a seed outside Workers AI range is dropped with a warning', () => {
    assert.throws(() => translateChatRequest({ ...user('x'), temperature: 3 }, plain), refusedAt('temperature'));
    assert.throws(() => translateChatRequest({ ...user('x'), top_p: '0.5' }, plain), refusedAt('top_p'));
    assert.throws(() => translateChatRequest({ ...user('x'), seed: 1.5 }, plain), refusedAt('seed'));
    const { input, warnings } = translateChatRequest({ ...user('x'), seed: 0 }, plain);
    assert.equal(input.seed, undefined);
    assert.deepEqual(warnings.map((warning) => warning.param), ['seed']);
  });

  it('parameters Workers AI lacks are dropped with a warning each; unset ones silently', () => {
    const { input, warnings } = translateChatRequest({ ...user('x'), stop: ['\n'], user: 'u-1', logit_bias: { 50256: -100 }, parallel_tool_calls: false, frobnicate: 1, metadata: {}, service_tier: null }, plain);
    assert.deepEqual(Object.keys(input), ['messages']);
    assert.deepEqual(warnings.map((warning) => warning.param), ['stop', 'user', 'logit_bias', 'parallel_tool_calls', 'frobnicate']);
    assert.match(warnings[0].message, /not supported by Cloudflare Workers AI/);
    assert.match(warnings[4].message, /not a known chat completions parameter/);
  });

  it('function tools go in the OpenAI shape Workers AI documents, with the description and schema it requires filled in', () => {
    const parameters = { type: 'object', properties: { city: { type: 'string', description: 'City name' } }, required: ['city'] };
    const { input, warnings } = translateChatRequest(
      { ...user('use tool'), tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } }, { type: 'function', function: { name: 'ping', strict: true } }] },
      plain,
    );
    assert.deepEqual(input.tools, [
      { type: 'function', function: { name: 'get_weather', description: 'Weather now', parameters } },
      { type: 'function', function: { name: 'ping', description: '', parameters: { type: 'object', properties: {} } } },
    ]);
    assert.deepEqual(warnings.map((warning) => warning.param), ['tools[1].function.strict']);
    const undescribed = { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer', description: 'Days' } } };
    assert.deepEqual(translateChatRequest({ ...user('x'), tools: [{ type: 'function', function: { name: 'f', parameters: undescribed } }] }, plain).input.tools?.[0].function.parameters, {
      type: 'object',
      properties: { city: { type: 'string', description: '' }, days: { type: 'integer', description: 'Days' } },
    });
    assert.deepEqual(undescribed.properties.city, { type: 'string' }, "the client's schema is not changed");
    assert.throws(() => translateChatRequest({ ...user('x'), tools: [{ type: 'web_search' }] }, plain), refusedAt('tools[0]'));
  });

  it("tool_choice: 'none' sends no tools; 'required' or a named function cannot be forced and is dropped with a warning", () => {
    const tools = [{ type: 'function', function: { name: 'f' } }];
    assert.equal(translateChatRequest({ ...user('x'), tools, tool_choice: 'none' }, plain).input.tools, undefined);
    const required = translateChatRequest({ ...user('x'), tools, tool_choice: 'required' }, plain);
    assert.equal(required.input.tools?.length, 1);
    assert.deepEqual(required.warnings.map((warning) => warning.param), ['tool_choice']);
    assert.deepEqual(translateChatRequest({ ...user('x'), tools, tool_choice: 'auto' }, plain).warnings, []);
    assert.throws(() => translateChatRequest({ ...user('x'), tools, tool_choice: 'sometimes' }, plain), refusedAt('tool_choice'));
  });

  it('response_format json_schema becomes JSON Mode with the schema itself; json_object passes; text is nothing; in a stream it is a 400', () => {
    const schema = { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] };
    assert.deepEqual(translateChatRequest({ ...user('x'), response_format: { type: 'json_schema', json_schema: { name: 'country', schema, strict: true } } }, plain).input.response_format, { type: 'json_schema', json_schema: schema });
    assert.deepEqual(translateChatRequest({ ...user('x'), response_format: { type: 'json_object' } }, plain).input.response_format, { type: 'json_object' });
    assert.equal(translateChatRequest({ ...user('x'), response_format: { type: 'text' } }, plain).input.response_format, undefined);
    assert.throws(() => translateChatRequest({ ...user('x'), response_format: { type: 'json_object' } }, { stream: true }), refusedAt('response_format'));
    assert.throws(() => translateChatRequest({ ...user('x'), response_format: { type: 'json_schema', json_schema: { name: 'n' } } }, plain), refusedAt('response_format.json_schema.schema'));
    assert.throws(() => translateChatRequest({ ...user('x'), response_format: { type: 'grammar' } }, plain), refusedAt('response_format'));
  });

  it('a message name is dropped with a warning', () => {
    const { input, warnings } = translateChatRequest({ messages: [{ role: 'user', name: 'alice', content: 'hi' }] }, plain);
    assert.deepEqual(input.messages, [{ role: 'user', content: 'hi' }]);
    assert.deepEqual(warnings.map((warning) => warning.param), ['messages[0].name']);
  });
});
