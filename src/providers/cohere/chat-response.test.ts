import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finishReasonOf, generationError, translateChatResponse, usageOf } from './chat-response.ts';
import { fixtureJson } from './fixtures/load.ts';
import type { CohereChatResponse } from './wire-types.ts';

const options = { created: 1_700_000_000, model: 'command-a-03-2025' };

test('a text answer joins its parts into content; usage comes from tokens, not billed units', () => {
  const completion = translateChatResponse(fixtureJson<CohereChatResponse>('chat-text.json'), options);
  assert.deepEqual(completion, {
    id: 'c14c80c3-18eb-4519-9460-6c92edd8cfb4',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'command-a-03-2025',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'LLMs stand for Large Language Models, a type of neural network model.', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 71, completion_tokens: 418, total_tokens: 489 },
  });
});

test('tool calls keep their ids and string arguments, content is null, the plan is kept as tool_plan', () => {
  const completion = translateChatResponse(fixtureJson<CohereChatResponse>('chat-tool-calls.json'), options);
  const choice = completion.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  assert.deepEqual(choice.message.tool_calls, [
    { id: 'query_daily_sales_report_ry4wd6kkxw8s', type: 'function', function: { name: 'query_daily_sales_report', arguments: '{"day":"2023-09-29"}' } },
    { id: 'query_product_catalog_t5hkp8q8j0s1', type: 'function', function: { name: 'query_product_catalog', arguments: '{"category":"Electronics"}' } },
  ]);
  assert.match(choice.message.tool_plan ?? '', /^I will first find the sales summary/);
  assert.deepEqual(completion.usage, { prompt_tokens: 1032, completion_tokens: 124, total_tokens: 1156, prompt_tokens_details: { cached_tokens: 0 } });
});

test("a reasoning model's thinking becomes reasoning_content; cached tokens are reported", () => {
  const completion = translateChatResponse(fixtureJson<CohereChatResponse>('chat-thinking.json'), options);
  assert.equal(completion.choices[0].message.content, '2 + 2 = 4.');
  assert.equal(completion.choices[0].message.reasoning_content, 'The user asks for 2 + 2. That is 4.');
  assert.deepEqual(completion.usage.prompt_tokens_details, { cached_tokens: 448 });
});

test("finish reasons map into OpenAI's words; ERROR is none of them", () => {
  assert.equal(finishReasonOf('COMPLETE'), 'stop');
  assert.equal(finishReasonOf('STOP_SEQUENCE'), 'stop');
  assert.equal(finishReasonOf('MAX_TOKENS'), 'length');
  assert.equal(finishReasonOf('TIMEOUT'), 'length');
  assert.equal(finishReasonOf('TOOL_CALL'), 'tool_calls');
  assert.equal(finishReasonOf('ERROR_TOXIC'), 'content_filter');
  assert.equal(finishReasonOf('ERROR'), null);
  assert.equal(finishReasonOf(undefined), null);
  const error = generationError('model crashed', 'dep');
  assert.equal(error.httpStatus, 500);
  assert.equal(error.isRetryable, true);
  assert.equal(error.code, 'generation_failed');
  assert.equal(error.message, "Cohere's generation failed: model crashed");
});

test('usage falls back to billed units when tokens are missing, and to 0', () => {
  assert.deepEqual(usageOf({ billed_units: { input_tokens: 5, output_tokens: 7 } }), { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
  assert.deepEqual(usageOf(undefined), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
});

test('an answer without a message, or with an empty text, is an empty assistant message that stopped', () => {
  const completion = translateChatResponse({ id: 'x', finish_reason: 'COMPLETE', message: { role: 'assistant', content: [] } }, options);
  assert.equal(completion.choices[0].message.content, '');
  assert.equal(completion.choices[0].finish_reason, 'stop');
});
