/**
 * A batch line's tokens as Portico estimates them for reservations (issue 12), counted once when
 * the input file is uploaded (the validator already parses every line) and kept with the file,
 * so that a batch create prices the file without reading it again. Input: the request text
 * (`messages`, `input`, `prompt`) at 4 characters a token, the usual rule of thumb for English
 * with OpenAI's tokenizers, except that a CJK ideograph, kana or Hangul syllable counts as one
 * token: at 4 characters a token Chinese was estimated at 0.36x its o200k count (measured with
 * `gpt-tokenizer`, bench/README.md); a character of those scripts is 0.6-0.7 tokens in o200k and
 * 1-1.1 in cl100k, and a reservation should not fall short. Output: `max_completion_tokens` or `max_tokens` (or
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
    into.inputTokens += estimateTextTokens(typeof text === 'string' ? text : JSON.stringify(text));
  }
  // Embeddings and moderations answer no generated tokens.
  if (typeof url === 'string' && (url.endsWith('/embeddings') || url.endsWith('/moderations'))) return;
  const limit = [request.max_completion_tokens, request.max_tokens, request.max_output_tokens].find((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0) as number | undefined;
  const n = typeof request.n === 'number' && Number.isInteger(request.n) && request.n > 0 ? request.n : 1;
  if (limit === undefined) into.unboundedOutputs += n;
  else into.boundedOutputTokens += limit * n;
}

/** Tokens of `text`: 4 characters a token, one a token for the wide scripts (see above). */
export function estimateTextTokens(text: string): number {
  // Only text with a character outside ASCII can hold a wide one; byteLength is native and fast.
  const wide = Buffer.byteLength(text, 'utf8') === text.length ? 0 : countWideCharacters(text);
  return Math.ceil((text.length - wide) / CHARACTERS_PER_TOKEN) + wide;
}

/** CJK radicals to ideographs (incl. kana, U+2E80-U+9FFF), Hangul jamo and syllables, CJK compatibility ideographs, fullwidth forms. */
function countWideCharacters(text: string): number {
  let wide = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x1100) continue;
    if ((c >= 0x2e80 && c <= 0x9fff) || c <= 0x11ff || (c >= 0xa960 && c <= 0xa97f) || (c >= 0xac00 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff00 && c <= 0xffef)) wide++;
  }
  return wide;
}
