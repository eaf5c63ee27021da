/**
 * Voyage AI (https://docs.voyageai.com/reference/embeddings-api, /reranker-api) as an
 * OpenAI-compatible preset (`openai-compatible/presets.ts`, `voyage/`): its embeddings are OpenAI's
 * but for a parameter's name (`output_dimension` for `dimensions`) and a usage with only
 * `total_tokens`; its rerank takes `top_k` for Cohere's `top_n` and answers `data` items with the
 * document as a string, translated here to and from LiteLLM's rerank (Cohere's shape,
 * `spec/rerank.ts`), as LiteLLM's `voyage/` rerank does. Pure.
 */
import type { RerankResponse } from '../../spec/rerank.ts';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** OpenAI embedding parameters Voyage names otherwise. */
export const VOYAGE_EMBEDDING_PARAM_NAMES: Readonly<Record<string, string>> = Object.freeze({ dimensions: 'output_dimension' });

/** An embeddings answer with OpenAI's usage (`prompt_tokens`, which spend and limits count), Voyage giving `total_tokens` only. */
export function voyageEmbeddingsAnswer(answer: unknown): unknown {
  if (!isRecord(answer) || !isRecord(answer.usage) || answer.usage.prompt_tokens !== undefined) return answer;
  const total = Number(answer.usage.total_tokens ?? 0);
  return { ...answer, usage: { prompt_tokens: total, total_tokens: total } };
}

/** Voyage's rerank request of LiteLLM's (Cohere's): documents as strings, `top_n` as `top_k`. */
export function voyageRerankRequest(body: Json, model: string): Json {
  const documents = Array.isArray(body.documents) ? body.documents.map((document) => (typeof document === 'string' ? document : isRecord(document) && typeof document.text === 'string' ? document.text : JSON.stringify(document))) : [];
  return {
    query: body.query,
    documents,
    model,
    ...(typeof body.top_n === 'number' && { top_k: body.top_n }),
    ...(typeof body.return_documents === 'boolean' && { return_documents: body.return_documents }),
  };
}

/** LiteLLM's (Cohere's) rerank answer of Voyage's; its tokens as `meta.tokens` and `usage`. */
export function voyageRerankAnswer(answer: unknown, id: string): RerankResponse & { usage: Json } {
  const data = isRecord(answer) && Array.isArray(answer.data) ? answer.data : [];
  const tokens = isRecord(answer) && isRecord(answer.usage) ? Number(answer.usage.total_tokens ?? 0) : 0;
  return {
    id,
    results: data.filter(isRecord).map((item) => ({
      index: Number(item.index),
      relevance_score: Number(item.relevance_score),
      ...(typeof item.document === 'string' && { document: { text: item.document } }),
    })),
    meta: { tokens: { input_tokens: tokens } },
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}
