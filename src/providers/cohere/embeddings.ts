/**
 * OpenAI `POST /v1/embeddings` <-> Cohere `POST /v2/embed`. Pure.
 * (https://docs.cohere.com/reference/embed, `V2EmbedRequest` / `EmbedByTypeResponse` in the
 * `cohere-ai` SDK)
 *
 * Each input string is one of `texts`, at most 96 a request (Cohere's limit): a longer input
 * list is sent as several requests, their answers joined in order. `dimensions` ->
 * `output_dimension`. Cohere's v3+ models require an `input_type`: a client may name one
 * (`input_type`, as LiteLLM lets it), else `search_document`, LiteLLM's default. Portico asks for
 * float embeddings and answers `encoding_format: base64` by encoding them as OpenAI does
 * (little-endian float32). Token arrays (OpenAI's pre-tokenised input) cannot be sent to Cohere:
 * a 400. Usage is what Cohere bills (`meta.billed_units.input_tokens`), as LiteLLM reports it.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { echoValue } from '../../spec/echo-value.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { countOrUndefined, isRecord } from './json.ts';
import type { CohereEmbedRequest } from './wire-types.ts';
import { float32Base64 } from '../../spec/embedding-vectors.ts';

/** "Maximum number of texts per call is 96" (V2EmbedRequest.texts). */
export const MAX_TEXTS_PER_REQUEST = 96;
/** LiteLLM's `COHERE_DEFAULT_EMBEDDING_INPUT_TYPE`. */
export const DEFAULT_INPUT_TYPE = 'search_document';
/** `EmbedInputType`; `image` is for image inputs, which OpenAI's embeddings API does not carry. */
const TEXT_INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering']);
/** `V2EmbedRequestTruncate`, a Cohere parameter passed through. */
const TRUNCATE_VALUES = new Set(['NONE', 'START', 'END']);
/** Keys read here; anything else is dropped with a warning. */
const HANDLED_KEYS = new Set(['model', 'input', 'encoding_format', 'dimensions', 'input_type', 'truncate']);

export interface EmbeddingsTranslation {
  /** One request per run of at most `MAX_TEXTS_PER_REQUEST` texts, in input order. */
  requests: CohereEmbedRequest[];
  base64: boolean;
  warnings: TranslationWarning[];
}

export function translateEmbeddingsRequest(body: Record<string, unknown>, model: string): EmbeddingsTranslation {
  const texts = textsOf(body.input);
  const dimensions = body.dimensions;
  if (dimensions != null && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
    throw new InvalidRequestError("'dimensions' must be a positive integer.", { param: 'dimensions' });
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", { param: 'encoding_format' });
  const inputType = body.input_type ?? DEFAULT_INPUT_TYPE;
  if (typeof inputType !== 'string' || !TEXT_INPUT_TYPES.has(inputType)) {
    throw new InvalidRequestError(`'input_type' must be one of ${[...TEXT_INPUT_TYPES].join(', ')}; got '${echoValue(inputType)}'.`, { param: 'input_type' });
  }
  const truncate = body.truncate;
  if (truncate != null && (typeof truncate !== 'string' || !TRUNCATE_VALUES.has(truncate))) {
    throw new InvalidRequestError("'truncate' must be 'NONE', 'START' or 'END'.", { param: 'truncate' });
  }
  const warnings: TranslationWarning[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || value == null) continue;
    const reason = key === 'user' ? 'is not supported by Cohere' : 'is not a known embeddings parameter';
    warnings.push({ param: key, message: `'${key}' ${reason} and was dropped.` });
  }
  const requests: CohereEmbedRequest[] = [];
  for (let start = 0; start < texts.length; start += MAX_TEXTS_PER_REQUEST) {
    const request: CohereEmbedRequest = { model, texts: texts.slice(start, start + MAX_TEXTS_PER_REQUEST), input_type: inputType, embedding_types: ['float'] };
    if (typeof dimensions === 'number') request.output_dimension = dimensions;
    if (typeof truncate === 'string') request.truncate = truncate;
    requests.push(request);
  }
  return { requests, base64: format === 'base64', warnings };
}

function textsOf(input: unknown): string[] {
  const inputs = typeof input === 'string' ? [input] : input;
  if (Array.isArray(inputs) && inputs.length > 0 && inputs.every((item) => typeof item === 'string')) return inputs as string[];
  if (Array.isArray(inputs) && inputs.length > 0 && inputs.some((item) => typeof item === 'number' || Array.isArray(item))) {
    throw new InvalidRequestError("Token arrays cannot be embedded on Cohere deployments: Cohere takes text only. Send 'input' as a string or an array of strings.", { param: 'input' });
  }
  throw new InvalidRequestError("'input' must be a non-empty string or a non-empty array of strings.", { param: 'input' });
}

export interface OpenAIEmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** One Cohere answer's float vectors and billed tokens; `null` when the answer is not an embed response with float embeddings. */
export function embedResponseOf(body: unknown, expectedCount: number): { vectors: number[][]; tokens: number } | null {
  if (!isRecord(body) || !isRecord(body.embeddings)) return null;
  const vectors = body.embeddings.float;
  if (!Array.isArray(vectors) || vectors.length !== expectedCount) return null;
  if (!vectors.every((vector) => Array.isArray(vector) && vector.every((value) => typeof value === 'number'))) return null;
  const meta = isRecord(body.meta) ? body.meta : {};
  const billed = isRecord(meta.billed_units) ? countOrUndefined(meta.billed_units.input_tokens) : undefined;
  const counted = isRecord(meta.tokens) ? countOrUndefined(meta.tokens.input_tokens) : undefined;
  return { vectors: vectors as number[][], tokens: billed ?? counted ?? 0 };
}

/** The OpenAI list for the answers of one translation's requests, in order. */
export function embeddingListOf(answers: readonly { vectors: number[][]; tokens: number }[], options: { model: string; base64: boolean }): OpenAIEmbeddingList {
  const data: OpenAIEmbeddingList['data'] = [];
  let tokens = 0;
  for (const answer of answers) {
    tokens += answer.tokens;
    for (const vector of answer.vectors) data.push({ object: 'embedding', index: data.length, embedding: options.base64 ? float32Base64(vector) : vector });
  }
  return { object: 'list', data, model: options.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
