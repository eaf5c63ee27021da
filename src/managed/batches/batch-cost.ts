/**
 * A finished batch's cost, from its token usage and the deployment's prices: LiteLLM's
 * `input_cost_per_token_batches` / `output_cost_per_token_batches`, else half the normal
 * per-token price (the batch discount of OpenAI, Azure and Anthropic alike).
 */
import type { BatchUsage } from '../../spec/openai-objects.ts';
import type { DeploymentPricing } from '../../spec/provider.ts';

export function batchCost(usage: BatchUsage | null, pricing: DeploymentPricing): number {
  if (!usage) return 0;
  const inputRate = pricing.inputCostPerTokenBatches ?? (pricing.inputCostPerToken ?? 0) / 2;
  const outputRate = pricing.outputCostPerTokenBatches ?? (pricing.outputCostPerToken ?? 0) / 2;
  return usage.input_tokens * inputRate + usage.output_tokens * outputRate;
}
