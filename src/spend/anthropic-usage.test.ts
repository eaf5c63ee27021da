import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AnthropicStreamUsage, anthropicUsageOf } from './anthropic-usage.ts';

describe('Anthropic usage as a ledger row counts it', () => {
  it('counts cached and cache-written prompt tokens into the prompt, the cached ones apart', () => {
    assert.deepEqual(anthropicUsageOf({ input_tokens: 10, cache_read_input_tokens: 100, cache_creation_input_tokens: 5, output_tokens: 7 }), {
      promptTokens: 115,
      completionTokens: 7,
      cachedTokens: 100,
      reasoningTokens: 0,
      totalTokens: 122,
    });
    assert.equal(anthropicUsageOf(null), undefined);
  });

  it('reads a stream: the prompt from message_start, the output from the last message_delta', () => {
    const usage = new AnthropicStreamUsage();
    assert.equal(usage.usage, undefined);
    usage.event({ type: 'message_start', message: { usage: { input_tokens: 12, cache_read_input_tokens: 3, output_tokens: 1 } } });
    usage.event({ type: 'content_block_delta', delta: { text: 'hi' } });
    usage.event({ type: 'message_delta', usage: { output_tokens: 5 } });
    usage.event({ type: 'message_delta', usage: { output_tokens: 9 } });
    assert.deepEqual(usage.usage, { promptTokens: 15, completionTokens: 9, cachedTokens: 3, reasoningTokens: 0, totalTokens: 24 });
  });
});
