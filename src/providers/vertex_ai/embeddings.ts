/**
 * OpenAI `POST /v1/embeddings` <-> Vertex AI text embeddings (`publishers/google/models/{model}:predict`,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api,
 * `docs/specs/vertex-ai.md` §Embeddings). Pure.
 *
 * Each input string is one instance `{content}`; `dimensions` -> `parameters.outputDimensionality`.
 * Token-array inputs have no equivalent (400). Usage is the sum of each prediction's
 * `statistics.token_count`. `encoding_format: base64` encodes the floats as OpenAI does.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import type { OpenAIEmbeddingList } from '../gemini/embeddings.ts';
import { countOf, isRecord } from '../gemini/json.ts';
import { float32Base64 } from '../../spec/embedding-vectors.ts';

export interface VertexPredictEmbeddingsRequest {
  instances: { content: string }[];
  parameters?: { outputDimensionality?: number };
}

export function translateEmbeddingsRequest(body: Record<string, unknown>): { request: VertexPredictEmbeddingsRequest; base64: boolean; warnings: TranslationWarning[] } {
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input) => typeof input === 'string')) {
    throw new InvalidRequestError("'input' must be a string or a non-empty array of strings on Vertex AI deployments (token arrays are not supported).", { param: 'input' });
  }
  const dimensions = body.dimensions;
  if (dimensions != null && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
    throw new InvalidRequestError("'dimensions' must be a positive integer.", { param: 'dimensions' });
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", { param: 'encoding_format' });
  const warnings: TranslationWarning[] = [];
  if (body.user != null) warnings.push({ param: 'user', message: "'user' is not supported by Vertex AI and was dropped." });
  const request: VertexPredictEmbeddingsRequest = {
    instances: (inputs as string[]).map((content) => ({ content })),
    ...(typeof dimensions === 'number' && { parameters: { outputDimensionality: dimensions } }),
  };
  return { request, base64: format === 'base64', warnings };
}

/** `null` when the answer is not a text-embeddings prediction. */
export function translateEmbeddingsResponse(body: unknown, options: { model: string; base64: boolean }): OpenAIEmbeddingList | null {
  if (!isRecord(body) || !Array.isArray(body.predictions)) return null;
  const data: OpenAIEmbeddingList['data'] = [];
  let tokens = 0;
  for (const [index, prediction] of body.predictions.entries()) {
    const embeddings = isRecord(prediction) && isRecord(prediction.embeddings) ? prediction.embeddings : undefined;
    const values = embeddings?.values;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'number')) return null;
    tokens += isRecord(embeddings?.statistics) ? countOf(embeddings.statistics.token_count) : 0;
    data.push({ object: 'embedding', index, embedding: options.base64 ? float32Base64(values as number[]) : (values as number[]) });
  }
  return { object: 'list', data, model: options.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
