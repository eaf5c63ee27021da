/**
 * What a batch reserves at create (issue 12): its input file's token estimate
 * (`../jsonl/line-token-estimate.ts`: counted at upload and kept with the file, or, for files
 * stored before that, counted from the lines as they stream from the store, never the whole file
 * in memory), the lines that bound no answer at `portico_settings.batch.estimated_output_tokens`,
 * priced at the deployment's batch prices.
 */
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { DeploymentPricing } from '../../spec/provider.ts';
import { batchTokensCost } from '../../spend/pricing.ts';
import { addLineTokens, emptyTokenEstimate, type TokenEstimateParts } from '../jsonl/line-token-estimate.ts';

export interface BatchTokenEstimate {
  inputTokens: number;
  outputTokens: number;
}

/** The estimate of a file whose parts are known, with unbounded answers at `estimatedOutputTokens`. */
export function batchTokensOf(parts: TokenEstimateParts, estimatedOutputTokens: number): BatchTokenEstimate {
  return { inputTokens: parts.inputTokens, outputTokens: parts.boundedOutputTokens + parts.unboundedOutputs * estimatedOutputTokens };
}

/** Counts the lines (a file stored without an estimate). */
export async function estimateBatchTokens(lines: AsyncIterable<BatchInputLine>, estimatedOutputTokens: number): Promise<BatchTokenEstimate> {
  const parts = emptyTokenEstimate();
  for await (const line of lines) addLineTokens(parts, line.url, line.body);
  return batchTokensOf(parts, estimatedOutputTokens);
}

/** The estimate's cost at the deployment's batch prices (`spend/pricing.ts`). */
export function reservationCost(estimate: BatchTokenEstimate, pricing: DeploymentPricing): number {
  return batchTokensCost(estimate.inputTokens, estimate.outputTokens, pricing);
}
