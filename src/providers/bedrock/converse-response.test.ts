import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { finishReasonOfStop, translateConverseResponse, usageOfConverse } from './converse-response.ts';

describe('Converse answer -> chat.completion', () => {
  it('stop reasons: end_turn and stop_sequence stop, max_tokens is length, tool_use tool_calls, guardrails content_filter', () => {
    const table: [string, string][] = [
      ['end_turn', 'stop'],
      ['stop_sequence', 'stop'],
      ['max_tokens', 'length'],
      ['model_context_window_exceeded', 'length'],
      ['tool_use', 'tool_calls'],
      ['guardrail_intervened', 'content_filter'],
      ['content_filtered', 'content_filter'],
      ['something_newer', 'stop'],
    ];
    for (const [stop, finish] of table) assert.equal(finishReasonOfStop(stop), finish, stop);
  });

  it('usage: cache reads and writes count in prompt_tokens, reads also as cached_tokens', () => {
    assert.deepEqual(usageOfConverse({ inputTokens: 10, outputTokens: 5, cacheReadInputTokens: 100, cacheWriteInputTokens: 20 }), {
      prompt_tokens: 130,
      completion_tokens: 5,
      total_tokens: 135,
      prompt_tokens_details: { cached_tokens: 100 },
    });
    assert.deepEqual(usageOfConverse(undefined), { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0, prompt_tokens_details: { cached_tokens: 0 } });
  });

  it('text blocks join into content; toolUse blocks become tool_calls, with content null when only tools were called', () => {
    const text = translateConverseResponse({ output: { message: { role: 'assistant', content: [{ text: 'Hel' }, { reasoningContent: { reasoningText: { text: 'hmm' } } }, { text: 'lo' }] } }, stopReason: 'end_turn', usage: { inputTokens: 3, outputTokens: 1 } }, { id: 'chatcmpl-1', created: 5, model: 'm' });
    assert.equal(text.choices[0].message.content, 'Hello');
    assert.equal(text.id, 'chatcmpl-1');
    const tools = translateConverseResponse({ output: { message: { content: [{ toolUse: { toolUseId: 't1', name: 'f', input: { a: 1 } } }] } }, stopReason: 'tool_use' }, { id: 'x', created: 5, model: 'm' });
    assert.equal(tools.choices[0].message.content, null);
    assert.deepEqual(tools.choices[0].message.tool_calls, [{ id: 't1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }]);
    assert.equal(tools.choices[0].finish_reason, 'tool_calls');
  });
});
