import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readBatchInputLines } from '../jsonl/batch-input-lines.ts';
import { estimateBatchTokens, reservationCost } from './batch-reservation.ts';

const line = (url: string, body: Record<string, unknown>) => JSON.stringify({ custom_id: 'c', method: 'POST', url, body });

describe('what a batch reserves', () => {
  it('counts input at 4 characters a token, output at max_completion_tokens (else max_tokens) x n, else the configured estimate; embeddings produce none', async () => {
    const messages = [{ role: 'user', content: 'a'.repeat(100) }];
    const text = [
      line('/v1/chat/completions', { model: 'm', messages, max_tokens: 30, n: 3 }),
      line('/v1/chat/completions', { model: 'm', messages, max_completion_tokens: 20, max_tokens: 999 }),
      '',
      line('/v1/chat/completions', { model: 'm', messages }),
      line('/v1/embeddings', { model: 'e', input: 'b'.repeat(40) }),
    ].join('\n');
    // Fed in small chunks: lines are counted as they stream, whatever the chunk boundaries.
    const chunks = Readable.from(Buffer.from(text).toString('utf8').match(/[\s\S]{1,7}/g)!.map((s) => Buffer.from(s)));
    const estimate = await estimateBatchTokens(readBatchInputLines(chunks), 500);
    const perMessages = Math.ceil(JSON.stringify(messages).length / 4);
    assert.deepEqual(estimate, { lines: 4, inputTokens: 3 * perMessages + 10, outputTokens: 90 + 20 + 500 + 0 });
  });

  it('prices the estimate at the batch prices, else half the normal ones', () => {
    const estimate = { lines: 1, inputTokens: 1000, outputTokens: 100 };
    assert.equal(reservationCost(estimate, { inputCostPerToken: 0.002, outputCostPerToken: 0.004 }), 1000 * 0.001 + 100 * 0.002);
    assert.equal(reservationCost(estimate, { inputCostPerToken: 0.002, inputCostPerTokenBatches: 0.0005, outputCostPerTokenBatches: 0.001 }), 1000 * 0.0005 + 100 * 0.001);
  });
});
