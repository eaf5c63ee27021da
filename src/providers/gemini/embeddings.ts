/**
 * OpenAI `POST /v1/embeddings` <-> Gemini `models/{model}:batchEmbedContents`. Pure.
 * (https://ai.google.dev/api/embeddings#method:-models.batchembedcontents, `docs/specs/gemini-api.md`)
 *
 * Each input string is one `EmbedContentRequest`; `dimensions` -> `outputDimensionality`.
 * Token-array inputs have no Gemini equivalent (400). `encoding_format: base64` is answered by
 * encoding Gemini's floats as OpenAI does (little-endian float32). Gemini reports tokens only
 * where it sends `usageMetadata`; otherwise usage is 0.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { countOf, isRecord } from './json.ts';
import { float32Base64 } from '../../spec/embedding-vectors.ts';

export interface GeminiBatchEmbedRequest {
  requests: { model: string; content: { parts: { text: string }[] }; outputDimensionality?: number; taskType?: string }[];
}

export interface EmbeddingsTranslation {
  request: GeminiBatchEmbedRequest;
  base64: boolean;
  warnings: TranslationWarning[];
}

export function translateEmbeddingsRequest(body: Record<string, unknown>, model: string): EmbeddingsTranslation {
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input) => typeof input === 'string')) {
    throw new InvalidRequestError("'input' must be a string or a non-empty array of strings on Gemini deployments (token arrays are not supported).", { param: 'input' });
  }
  const dimensions = body.dimensions;
  if (dimensions != null && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
    throw new InvalidRequestError("'dimensions' must be a positive integer.", { param: 'dimensions' });
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", { param: 'encoding_format' });
  const warnings: TranslationWarning[] = [];
  if (body.user != null) warnings.push({ param: 'user', message: "'user' is not supported by Gemini and was dropped." });
  const modelName = `models/${model}`;
  const request: GeminiBatchEmbedRequest = {
    requests: (inputs as string[]).map((text) => ({
      model: modelName,
      content: { parts: [{ text }] },
      ...(typeof dimensions === 'number' ? { outputDimensionality: dimensions } : {}),
    })),
  };
  return { request, base64: format === 'base64', warnings };
}

export interface OpenAIEmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** `null` when the answer is not a batchEmbedContents response. */
export function translateEmbeddingsResponse(body: unknown, options: { model: string; base64: boolean }): OpenAIEmbeddingList | null {
  if (!isRecord(body) || !Array.isArray(body.embeddings)) return null;
  const data: OpenAIEmbeddingList['data'] = [];
  for (const [index, embedding] of body.embeddings.entries()) {
    const values = isRecord(embedding) ? embedding.values : undefined;
    if (!Array.isArray(values) || !values.every((value) => typeof value === 'number')) return null;
    data.push({ object: 'embedding', index, embedding: options.base64 ? float32Base64(values as number[]) : (values as number[]) });
  }
  const tokens = isRecord(body.usageMetadata) ? countOf(body.usageMetadata.promptTokenCount) : 0;
  return { object: 'list', data, model: options.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
