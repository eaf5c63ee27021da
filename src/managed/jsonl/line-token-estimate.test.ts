import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addLineTokens, emptyTokenEstimate, estimateTextTokens } from './line-token-estimate.ts';

test('ASCII text counts 4 characters a token, rounded up', () => {
  assert.equal(estimateTextTokens(''), 0);
  assert.equal(estimateTextTokens('abcd'), 1);
  assert.equal(estimateTextTokens('abcde'), 2);
  assert.equal(estimateTextTokens('x'.repeat(4000)), 1000);
});

test('CJK ideographs, kana and Hangul count one token each; other scripts stay at 4 characters', () => {
  assert.equal(estimateTextTokens('人工智能是计算机科学'), 10);
  assert.equal(estimateTextTokens('ひらがなカタカナ'), 8);
  assert.equal(estimateTextTokens('인공지능'), 4);
  assert.equal(estimateTextTokens('ＡＢ'), 2, 'fullwidth forms');
  // Mixed: 9 other characters (3 tokens) and 3 ideographs (3 tokens).
  assert.equal(estimateTextTokens('hello 世界 ok中'), 6);
  // Latin with accents, Cyrillic, Arabic: their tokenizers' rate is near 4 characters or better.
  assert.equal(estimateTextTokens('Künstliche'), 3);
  assert.equal(estimateTextTokens('Интеллект'), 3);
});

test('a line counts its messages as JSON text, and its output bound times n', () => {
  const estimate = emptyTokenEstimate();
  const messages = [{ role: 'user', content: '你好世界' }];
  addLineTokens(estimate, '/v1/chat/completions', { messages, max_tokens: 10, n: 2 });
  const json = JSON.stringify(messages);
  assert.equal(estimate.inputTokens, Math.ceil((json.length - 4) / 4) + 4);
  assert.equal(estimate.boundedOutputTokens, 20);
  assert.equal(estimate.unboundedOutputs, 0);
  addLineTokens(estimate, '/v1/embeddings', { input: 'abcd' });
  assert.equal(estimate.unboundedOutputs, 0, 'embeddings produce no output');
  addLineTokens(estimate, '/v1/chat/completions', { messages: 'abcd' });
  assert.equal(estimate.unboundedOutputs, 1);
});
