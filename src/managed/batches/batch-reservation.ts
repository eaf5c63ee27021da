/**
 * What a batch reserves at create (issue 12): its tokens estimated from its input lines as they
 * stream from the store (never the whole file in memory), priced at the deployment's batch
 * prices. Input: a line's request text (`messages`, `input`, `prompt`) at 4 characters a token,
 * the usual rule of thumb for English with OpenAI's tokenizers. Output: `max_completion_tokens`
 * or `max_tokens` (or `max_output_tokens`) times `n` where the line sets it, else
 * `portico_settings.batch.estimated_output_tokens`; embeddings produce none.
 */
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { DeploymentPricing } from '../../spec/provider.ts';
import { batchTokensCost } from '../../spend/pricing.ts';

export interface BatchTokenEstimate {
  inputTokens: number;
  outputTokens: number;
  lines: number;
}

const CHARACTERS_PER_TOKEN = 4;

export async function estimateBatchTokens(lines: AsyncIterable<BatchInputLine>, estimatedOutputTokens: number): Promise<BatchTokenEstimate> {
  const estimate: BatchTokenEstimate = { inputTokens: 0, outputTokens: 0, lines: 0 };
  for await (const line of lines) {
    estimate.lines += 1;
    estimate.inputTokens += inputTokensOf(line.body);
    estimate.outputTokens += outputTokensOf(line.url, line.body, estimatedOutputTokens);
  }
  return estimate;
}

function inputTokensOf(body: unknown): number {
  if (typeof body !== 'object' || body === null) return 0;
  const request = body as Record<string, unknown>;
  const text = request.messages ?? request.input ?? request.prompt;
  if (text === undefined) return 0;
  const characters = typeof text === 'string' ? text.length : JSON.stringify(text).length;
  return Math.ceil(characters / CHARACTERS_PER_TOKEN);
}

function outputTokensOf(url: unknown, body: unknown, fallback: number): number {
  if (typeof url === 'string' && url.endsWith('/embeddings')) return 0;
  const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const limit = [request.max_completion_tokens, request.max_tokens, request.max_output_tokens].find((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) as number | undefined;
  const n = typeof request.n === 'number' && Number.isInteger(request.n) && request.n > 0 ? request.n : 1;
  return (limit ?? fallback) * n;
}

/** The estimate's cost at the deployment's batch prices (`spend/pricing.ts`). */
export function reservationCost(estimate: BatchTokenEstimate, pricing: DeploymentPricing): number {
  return batchTokensCost(estimate.inputTokens, estimate.outputTokens, pricing);
}
