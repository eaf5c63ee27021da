/**
 * What an answer cost, from its tokens and its deployment's prices (`Deployment.pricing`: the
 * model catalogue's, or `model_info`/`litellm_params` overrides in LiteLLM's names,
 * `config/build-deployments.ts`). Cached prompt tokens cost `cache_read_input_token_cost` when it
 * is known, else the normal input price; reasoning tokens are part of the completion tokens
 * (OpenAI counts them there) and are not charged twice. Batches: the `_batches` prices, else half
 * the normal prices (the batch discount of OpenAI, Azure and Anthropic alike). A rerank answer is
 * priced by the searches it is billed as (`input_cost_per_query`), as LiteLLM prices it. Audio
 * (`audioCost`): by tokens where the answer reports them, else by seconds of audio
 * (`input_cost_per_second`), plus the characters spoken (`input_cost_per_character`).
 */
import type { DeploymentPricing } from '../spec/provider.ts';
import type { AudioUsage } from './audio-usage.ts';
import type { TokenUsage } from './token-usage.ts';

export function liveCost(usage: TokenUsage, pricing: DeploymentPricing): number {
  const input = pricing.inputCostPerToken ?? 0;
  const output = pricing.outputCostPerToken ?? 0;
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  const cachedRate = pricing.cacheReadInputTokenCost ?? input;
  return (usage.promptTokens - cached) * input + cached * cachedRate + usage.completionTokens * output;
}

/** What `queries` billed searches cost (a rerank answer's `billedQueries`); 0 without a per-query price. */
export function queriesCost(queries: number, pricing: DeploymentPricing): number {
  return queries * (pricing.inputCostPerQuery ?? 0);
}

/**
 * What an audio request cost: the tokens its answer reports, else its seconds of audio; plus, for
 * speech, the characters of its text at `input_cost_per_character` (tts-1 reports neither tokens nor seconds).
 */
export function audioCost(usage: AudioUsage & { characters?: number }, pricing: DeploymentPricing): number {
  const spoken = usage.characters === undefined ? 0 : usage.characters * (pricing.inputCostPerCharacter ?? 0);
  if (usage.tokens !== undefined) return liveCost(usage.tokens, pricing) + spoken;
  return (usage.seconds ?? 0) * (pricing.inputCostPerSecond ?? 0) + spoken;
}

/** Per-token batch prices of a deployment. */
export function batchRates(pricing: DeploymentPricing): { input: number; output: number } {
  return {
    input: pricing.inputCostPerTokenBatches ?? (pricing.inputCostPerToken ?? 0) / 2,
    output: pricing.outputCostPerTokenBatches ?? (pricing.outputCostPerToken ?? 0) / 2,
  };
}

export function batchTokensCost(inputTokens: number, outputTokens: number, pricing: DeploymentPricing): number {
  const rates = batchRates(pricing);
  return inputTokens * rates.input + outputTokens * rates.output;
}
