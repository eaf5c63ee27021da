import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { readBatchInputLines } from '../jsonl/batch-input-lines.ts';
import { BatchInputValidator } from '../jsonl/batch-input-validator.ts';
import { batchTokensOf, estimateBatchTokens, reservationCost } from './batch-reservation.ts';

let counter = 0;

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
    assert.deepEqual(estimate, { inputTokens: 3 * perMessages + 10, outputTokens: 90 + 20 + 500 + 0 });

    // The same count kept at upload by the validator (one endpoint per file: the chat lines, then
    // the embeddings line), priced at create with the fallback of then.
    const uploaded = (lines: string) => {
      const validator = new BatchInputValidator({ maxLines: 100 });
      validator.push(Buffer.from(lines.replace(/"custom_id":"c"/g, () => `"custom_id":"c${(counter += 1)}"`)));
      const summary = validator.finish();
      assert.equal(summary.problem, null);
      return summary.tokens;
    };
    const chat = uploaded(text.split('\n').slice(0, 4).join('\n'));
    const embeddings = uploaded(text.split('\n')[4]!);
    assert.deepEqual(chat, { inputTokens: 3 * perMessages, boundedOutputTokens: 110, unboundedOutputs: 1 });
    assert.deepEqual(embeddings, { inputTokens: 10, boundedOutputTokens: 0, unboundedOutputs: 0 });
    const summary = { tokens: { inputTokens: chat.inputTokens + embeddings.inputTokens, boundedOutputTokens: 110, unboundedOutputs: 1 } };
    assert.deepEqual(batchTokensOf(summary.tokens, 500), estimate);
    assert.deepEqual(batchTokensOf(summary.tokens, 7), { inputTokens: estimate.inputTokens, outputTokens: 110 + 7 });
  });

  it('prices the estimate at the batch prices, else half the normal ones', () => {
    const estimate = { inputTokens: 1000, outputTokens: 100 };
    assert.equal(reservationCost(estimate, { inputCostPerToken: 0.002, outputCostPerToken: 0.004 }), 1000 * 0.001 + 100 * 0.002);
    assert.equal(reservationCost(estimate, { inputCostPerToken: 0.002, inputCostPerTokenBatches: 0.0005, outputCostPerTokenBatches: 0.001 }), 1000 * 0.0005 + 100 * 0.001);
  });
});
