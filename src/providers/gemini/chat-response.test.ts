import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finishReasonOf, translateGenerateContentResponse } from './chat-response.ts';

describe('Gemini GenerateContentResponse -> OpenAI chat.completion', () => {
  it('text, finish reason and usage with cached and thought tokens', () => {
    const completion = translateGenerateContentResponse(
      {
        candidates: [{ content: { role: 'model', parts: [{ text: 'thinking...', thought: true }, { text: 'Hello' }, { text: ' there' }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 4, thoughtsTokenCount: 6, cachedContentTokenCount: 8, totalTokenCount: 20 },
        modelVersion: 'gemini-2.5-flash',
        responseId: 'abc',
      },
      { created: 1, fallbackModel: 'x' },
    );
    assert.equal(completion.id, 'chatcmpl-abc');
    assert.equal(completion.model, 'gemini-2.5-flash');
    // A thought summary is not part of the answer: it is LiteLLM's `reasoning_content`.
    assert.deepEqual(completion.choices[0].message, { role: 'assistant', content: 'Hello there', refusal: null, reasoning_content: 'thinking...' });
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.deepEqual(completion.usage, {
      prompt_tokens: 10,
      completion_tokens: 10,
      total_tokens: 20,
      prompt_tokens_details: { cached_tokens: 8 },
      completion_tokens_details: { reasoning_tokens: 6 },
    });
  });

  it('function calls become tool_calls with finish_reason tool_calls and null content', () => {
    const completion = translateGenerateContentResponse(
      { candidates: [{ content: { parts: [{ functionCall: { name: 'get_weather', args: { city: 'Paris' } } }] }, finishReason: 'STOP' }] },
      { created: 1, fallbackModel: 'm' },
    );
    const message = completion.choices[0].message;
    assert.equal(message.content, null);
    assert.equal(message.tool_calls?.[0].function.name, 'get_weather');
    assert.equal(message.tool_calls?.[0].function.arguments, '{"city":"Paris"}');
    assert.match(message.tool_calls?.[0].id ?? '', /^call_/);
    assert.equal(completion.choices[0].finish_reason, 'tool_calls');
  });

  it('finish reasons: MAX_TOKENS -> length, the safety family -> content_filter, a blocked prompt -> one empty filtered choice', () => {
    assert.equal(finishReasonOf('MAX_TOKENS', false), 'length');
    for (const reason of ['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII']) assert.equal(finishReasonOf(reason, false), 'content_filter');
    assert.equal(finishReasonOf('OTHER', false), 'stop');
    assert.equal(finishReasonOf(undefined, false), null);
    const blocked = translateGenerateContentResponse({ promptFeedback: { blockReason: 'SAFETY' } }, { created: 1, fallbackModel: 'm' });
    assert.equal(blocked.choices[0].finish_reason, 'content_filter');
    assert.equal(blocked.choices[0].message.content, '');
  });

  it('several candidates become several choices', () => {
    const completion = translateGenerateContentResponse(
      { candidates: [{ content: { parts: [{ text: 'a' }] }, finishReason: 'STOP', index: 0 }, { content: { parts: [{ text: 'b' }] }, finishReason: 'MAX_TOKENS', index: 1 }] },
      { created: 1, fallbackModel: 'm' },
    );
    assert.deepEqual(completion.choices.map((c) => [c.index, c.message.content, c.finish_reason]), [[0, 'a', 'stop'], [1, 'b', 'length']]);
  });

  it("a function call's thought signature comes back in the tool call's extra_content.google.thought_signature, as Google's OpenAI-compatible API has it", () => {
    const completion = translateGenerateContentResponse(
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: { a: 1 } }, thoughtSignature: 'c2lnLTE=' }, { functionCall: { name: 'g', args: {} } }] }, finishReason: 'STOP' }] },
      { created: 1, fallbackModel: 'x' },
    );
    const [first, second] = completion.choices[0].message.tool_calls!;
    assert.deepEqual(first.extra_content, { google: { thought_signature: 'c2lnLTE=' } });
    // Parallel calls: only the first carries a signature.
    assert.equal('extra_content' in second, false);
  });
});
