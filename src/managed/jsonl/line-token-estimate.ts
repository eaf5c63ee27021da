/**
 * A batch line's tokens as Portico estimates them for reservations (issue 12), counted once when
 * the input file is uploaded (the validator already parses every line) and kept with the file,
 * so that a batch create prices the file without reading it again. Input: the request text
 * (`messages`, `input`, `prompt`) at 4 characters a token, the usual rule of thumb for English
 * with OpenAI's tokenizers. Output: `max_completion_tokens` or `max_tokens` (or
 * `max_output_tokens`) times `n` where the line sets it; a line that sets none counts `n`
 * "unbounded" outputs, priced at create at `portico_settings.batch.estimated_output_tokens` each
 * (a setting that may change between upload and create); embeddings produce none.
 */
import type { TokenEstimateParts } from '../../spec/token-estimate.ts';

export type { TokenEstimateParts };

const CHARACTERS_PER_TOKEN = 4;

export function emptyTokenEstimate(): TokenEstimateParts {
  return { inputTokens: 0, boundedOutputTokens: 0, unboundedOutputs: 0 };
}

/** Adds one line (its `url` and `body` as parsed) to `into`. */
export function addLineTokens(into: TokenEstimateParts, url: unknown, body: unknown): void {
  const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const text = request.messages ?? request.input ?? request.prompt;
  if (text !== undefined) {
    const characters = typeof text === 'string' ? text.length : JSON.stringify(text).length;
    into.inputTokens += Math.ceil(characters / CHARACTERS_PER_TOKEN);
  }
  if (typeof url === 'string' && url.endsWith('/embeddings')) return;
  const limit = [request.max_completion_tokens, request.max_tokens, request.max_output_tokens].find((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) as number | undefined;
  const n = typeof request.n === 'number' && Number.isInteger(request.n) && request.n > 0 ? request.n : 1;
  if (limit === undefined) into.unboundedOutputs += n;
  else into.boundedOutputTokens += limit * n;
}
