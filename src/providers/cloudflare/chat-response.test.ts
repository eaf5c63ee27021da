import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { translateResultToChatCompletion } from './chat-response.ts';
import { fixtureJson } from './fixtures/load.ts';
import type { CloudflareEnvelope, WorkersAiChatResult } from './wire-types.ts';

const options = { created: 1_700_000_000, model: '@cf/meta/llama-3.1-8b-instruct', estimatedPromptTokens: 9 };
const resultOf = (name: string) => fixtureJson<CloudflareEnvelope<WorkersAiChatResult>>(name).result!;

describe('Workers AI result -> OpenAI chat.completion', () => {
  it('a text answer becomes the message, finish_reason stop, with Workers AI usage', () => {
    const completion = translateResultToChatCompletion(resultOf('run-text.json'), options);
    assert.match(completion.id, /^chatcmpl-[0-9a-f]{24}$/);
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.model, '@cf/meta/llama-3.1-8b-instruct');
    assert.equal(completion.created, 1_700_000_000);
    assert.deepEqual(completion.choices[0], {
      index: 0,
      message: { role: 'assistant', content: 'The phrase "Hello, World" originates from a 1974 Bell Laboratories memo by Brian Kernighan.', refusal: null },
      logprobs: null,
      finish_reason: 'stop',
    });
    assert.deepEqual(completion.usage, { prompt_tokens: 35, completion_tokens: 22, total_tokens: 57 });
  });

  it('tool calls get ids and JSON-string arguments, content null and finish_reason tool_calls', () => {
    const completion = translateResultToChatCompletion(resultOf('run-tool-calls.json'), options);
    const message = completion.choices[0].message;
    assert.equal(message.content, null);
    assert.equal(completion.choices[0].finish_reason, 'tool_calls');
    assert.equal(message.tool_calls?.length, 1);
    assert.match(message.tool_calls![0].id, /^call_[0-9a-f]{24}$/);
    assert.deepEqual(message.tool_calls![0].function, { name: 'getWeather', arguments: '{"latitude":"51.5074","longitude":"-0.1278"}' });
  });

  it("newer models' OpenAI-shaped calls keep their id; a call without a name is skipped", () => {
    const completion = translateResultToChatCompletion({ response: '', tool_calls: [{ id: 'chatcmpl-tool-1', type: 'function', function: { name: 'f', arguments: { a: 1 } } } as never, { arguments: {} }] }, options);
    assert.deepEqual(completion.choices[0].message.tool_calls, [{ id: 'chatcmpl-tool-1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
  });

  it("JSON Mode's object answer is serialised into the content", () => {
    const completion = translateResultToChatCompletion(resultOf('run-json-mode.json'), options);
    assert.deepEqual(JSON.parse(completion.choices[0].message.content!), { name: 'India', capital: 'New Delhi', languages: ['Hindi', 'English', 'Bengali'] });
  });

  it('without usage (or with zeros only), tokens are estimated: the prompt as given, the answer at 4 characters a token', () => {
    const estimated = translateResultToChatCompletion({ response: 'twelve chars' }, options);
    assert.deepEqual(estimated.usage, { prompt_tokens: 9, completion_tokens: 3, total_tokens: 12 });
    const zeros = translateResultToChatCompletion({ response: 'twelve chars', usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } }, options);
    assert.deepEqual(zeros.usage, estimated.usage);
    assert.equal(translateResultToChatCompletion({}, options).choices[0].message.content, '');
  });
});
