/** What an answer costs: tokens at the deployment's prices, a rerank's searches at its per-query price. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { liveCost, queriesCost } from './pricing.ts';

test('tokens cost their per-token prices, cached prompt tokens the cache-read price', () => {
  const usage = { promptTokens: 100, completionTokens: 10, cachedTokens: 40, reasoningTokens: 0, totalTokens: 110 };
  assert.equal(liveCost(usage, { inputCostPerToken: 1e-6, outputCostPerToken: 2e-6, cacheReadInputTokenCost: 1e-7 }), 60e-6 + 40e-7 + 20e-6);
});

test("a rerank's billed searches cost input_cost_per_query each; nothing without that price", () => {
  assert.equal(queriesCost(3, { inputCostPerQuery: 0.002 }), 0.006);
  assert.equal(queriesCost(1, { inputCostPerToken: 1e-6 }), 0);
  assert.equal(queriesCost(0, { inputCostPerQuery: 0.002 }), 0);
});
