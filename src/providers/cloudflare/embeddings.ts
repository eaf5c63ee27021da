/**
 * OpenAI `POST /v1/embeddings` <-> a Workers AI text embedding model (`.../ai/run/@cf/baai/bge-base-en-v1.5`). Pure.
 *
 * Workers AI takes `{text: string | string[]}` (at most 100 texts) and answers
 * `{shape: [texts, dimensions], data: number[][]}`
 * (https://developers.cloudflare.com/workers-ai/models/bge-base-en-v1.5/), as LiteLLM's
 * `CloudflareEmbeddingConfig` sends and reads it. Token arrays have no equivalent (400); the
 * dimensions are the model's (`dimensions` is a 400 rather than a vector of another size);
 * `encoding_format: base64` is answered by encoding the floats as OpenAI does (little-endian
 * float32). Workers AI reports no tokens for embeddings: they are estimated from the texts
 * (LiteLLM counts the vectors instead).
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { countOf, isRecord } from './json.ts';
import { estimatedTokens } from '../../spec/text-tokens.ts';
import { float32Base64 } from '../../spec/embedding-vectors.ts';

export interface WorkersAiEmbeddingInput {
  text: string[];
}

export interface EmbeddingsTranslation {
  input: WorkersAiEmbeddingInput;
  base64: boolean;
  /** Estimated prompt tokens of the texts, for the answer's usage. */
  estimatedPromptTokens: number;
  warnings: TranslationWarning[];
}

export function translateEmbeddingsRequest(body: Record<string, unknown>): EmbeddingsTranslation {
  const texts = typeof body.input === 'string' ? [body.input] : body.input;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text) => typeof text === 'string')) {
    throw new InvalidRequestError("'input' must be a string or a non-empty array of strings on Cloudflare Workers AI deployments (token arrays are not supported).", { param: 'input' });
  }
  if (body.dimensions != null) {
    throw new InvalidRequestError("'dimensions' is not supported on Cloudflare Workers AI deployments: each embedding model answers vectors of its own size.", { param: 'dimensions' });
  }
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new InvalidRequestError("'encoding_format' must be 'float' or 'base64'.", { param: 'encoding_format' });
  const warnings: TranslationWarning[] = [];
  if (body.user != null) warnings.push({ param: 'user', message: "'user' is not supported by Cloudflare Workers AI and was dropped." });
  return {
    input: { text: texts as string[] },
    base64: format === 'base64',
    estimatedPromptTokens: (texts as string[]).reduce((sum, text) => sum + estimatedTokens(text.length), 0),
    warnings,
  };
}

export interface OpenAIEmbeddingList {
  object: 'list';
  data: { object: 'embedding'; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** `null` when the result is not an embedding model's (`data` of number vectors). */
export function translateEmbeddingsResult(result: unknown, options: { model: string; base64: boolean; estimatedPromptTokens: number }): OpenAIEmbeddingList | null {
  if (!isRecord(result) || !Array.isArray(result.data)) return null;
  const data: OpenAIEmbeddingList['data'] = [];
  for (const [index, vector] of result.data.entries()) {
    if (!Array.isArray(vector) || !vector.every((value) => typeof value === 'number')) return null;
    data.push({ object: 'embedding', index, embedding: options.base64 ? float32Base64(vector as number[]) : (vector as number[]) });
  }
  // Some models may count their input; none of the documented ones do.
  const reported = isRecord(result.usage) ? countOf(result.usage.prompt_tokens) : undefined;
  const tokens = reported !== undefined && reported > 0 ? reported : options.estimatedPromptTokens;
  return { object: 'list', data, model: options.model, usage: { prompt_tokens: tokens, total_tokens: tokens } };
}
