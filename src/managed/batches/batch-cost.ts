/**
 * A finished batch's cost, from its token usage and the deployment's prices: LiteLLM's
 * `input_cost_per_token_batches` / `output_cost_per_token_batches`, else half the normal
 * per-token price (the batch discount of OpenAI, Azure and Anthropic alike; `spend/pricing.ts`).
 */
import type { BatchUsage } from '../../spec/openai-objects.ts';
import type { DeploymentPricing } from '../../spec/provider.ts';
import { batchTokensCost } from '../../spend/pricing.ts';

export function batchCost(usage: BatchUsage | null, pricing: DeploymentPricing): number {
  if (!usage) return 0;
  return batchTokensCost(usage.input_tokens, usage.output_tokens, pricing);
}
