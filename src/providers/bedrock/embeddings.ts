/**
 * OpenAI `POST /v1/embeddings` <-> Bedrock `InvokeModel` for embedding models. Pure.
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html,
 * https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html, `docs/specs/bedrock.md` §Embeddings)
 *
 * - Amazon Titan (`amazon.titan-embed-*`): one request per input, `{inputText}` (v2 also
 *   `dimensions`) -> `{embedding, inputTextTokenCount}`;
 * - Cohere (`cohere.embed-*`): up to 96 inputs per request, `{texts, input_type}` ->
 *   `{embeddings}`; `input_type` is the request's (LiteLLM passes it through), else
 *   `search_document`. Cohere's answer counts no tokens: Bedrock's
 *   `x-amzn-bedrock-input-token-count` header does.
 * Token-array inputs have no equivalent (400). `encoding_format: base64` encodes the floats as OpenAI does.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { isRecord } from './errors.ts';
import { float32Base64 } from '../../spec/embedding-vectors.ts';

export type EmbeddingFamily = 'titan' | 'cohere';

/** Cohere's limit of texts per request on Bedrock. */
export const COHERE_MAX_TEXTS = 96;

export function embeddingFamilyOf(modelId: string): EmbeddingFamily | undefined {
  const bare = modelId.replace(/^(us|eu|apac|global|us-gov|jp|au)\./, '');
  if (/^amazon\.titan-embed-/.test(bare)) return 'titan';
  if (/^cohere\.embed-/.test(bare)) return 'cohere';
  return undefined;
}

export interface EmbeddingCalls {
  /** One InvokeModel body per call, in input order. */
  bodies: Record<string, unknown>[];
  base64: boolean;
  warnings: TranslationWarning[];
}

export function translateEmbeddingsRequest(body: Record<string, unknown>, family: EmbeddingFamily): EmbeddingCalls {
  const inputs = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(inputs) || inputs.length === 0 || !inputs.every((input) => typeof input === 'string' && input !== '')) {
    throw new InvalidRequestError("'input' must be a non-empty string or a non-empty array of them on bedrock/ deployments (token arrays are not supported).", { param: 'input' });
  }
  const texts = inputs as string[];
  const dimensions = body.dimensions;
  if (dimensions != null && (typeof dimensions !== 'number' || !Number.isInteger(dimensions) || dimensions < 1)) {
    throw new InvalidRequestError("'dimensions' must be a positive integer.", { param: 'dimensions' });
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", { param: 'encoding_format' });
  const warnings: TranslationWarning[] = [];
  if (body.user != null) warnings.push({ param: 'user', message: "'user' is not supported by Amazon Bedrock and was dropped." });
  if (family === 'titan') {
    return { bodies: texts.map((inputText) => ({ inputText, ...(typeof dimensions === 'number' && { dimensions }) })), base64: format === 'base64', warnings };
  }
  if (typeof dimensions === 'number') warnings.push({ param: 'dimensions', message: "Cohere's embedding models on Bedrock have a fixed size; 'dimensions' was dropped." });
  const inputType = typeof body.input_type === 'string' ? body.input_type : 'search_document';
  const bodies: Record<string, unknown>[] = [];
  for (let start = 0; start < texts.length; start += COHERE_MAX_TEXTS) bodies.push({ texts: texts.slice(start, start + COHERE_MAX_TEXTS), input_type: inputType });
  return { bodies, base64: format === 'base64', warnings };
}

/** One answer's vectors and its token count; `null` when it is not the family's answer. */
export function vectorsOfAnswer(answer: unknown, family: EmbeddingFamily): { vectors: number[][]; tokens: number | undefined } | null {
  if (!isRecord(answer)) return null;
  if (family === 'titan') {
    if (!isNumbers(answer.embedding)) return null;
    return { vectors: [answer.embedding], tokens: typeof answer.inputTextTokenCount === 'number' ? answer.inputTextTokenCount : undefined };
  }
  // `embeddings` is a list of vectors, or `{float: [...]}` when `embedding_types` was asked.
  const embeddings = isRecord(answer.embeddings) ? answer.embeddings.float : answer.embeddings;
  if (!Array.isArray(embeddings) || !embeddings.every(isNumbers)) return null;
  return { vectors: embeddings, tokens: undefined };
}

export interface OpenAIEmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

export function embeddingList(vectors: number[][], tokens: number, options: { model: string; base64: boolean }): OpenAIEmbeddingList {
  return {
    object: 'list',
    data: vectors.map((vector, index) => ({ object: 'embedding', index, embedding: options.base64 ? float32Base64(vector) : vector })),
    model: options.model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

function isNumbers(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'number');
}
