/**
 * LiteLLM's rerank API (https://docs.litellm.ai/docs/rerank): Cohere's request and answer
 * (https://docs.cohere.com/reference/rerank), whichever provider serves it. The request:
 * `{model, query, documents: (string | {text} | object)[], top_n?, return_documents?,
 * rank_fields?, max_chunks_per_doc?, max_tokens_per_doc?}`; the answer below. The body schema
 * the route checks is in `endpoints.ts`; each provider reads the rest.
 */

/** One ranked document: its index in the request's `documents`, most relevant first. */
export interface RerankResult {
  index: number;
  /** In [0, 1]; higher is more relevant. */
  relevance_score: number;
  /** With `return_documents: true`: the document as sent (`{text}` for a string). */
  document?: Record<string, unknown>;
}

/** The answer (LiteLLM's `RerankResponse`, Cohere's `V2RerankResponse`). */
export interface RerankResponse {
  id: string;
  results: RerankResult[];
  meta?: {
    api_version?: { version: string; is_deprecated?: boolean; is_experimental?: boolean };
    billed_units?: { search_units?: number; [unit: string]: unknown };
    tokens?: { input_tokens?: number; output_tokens?: number };
    [field: string]: unknown;
  };
}

/**
 * The searches an answer is billed as: Cohere's `meta.billed_units.search_units`, else one (a
 * server that reports none, vLLM's: LiteLLM counts one query as one search unit,
 * `BaseRerankConfig.calculate_rerank_cost`).
 */
export function billedSearchesOf(answer: unknown): number {
  const meta = fieldOf(answer, 'meta');
  const units = fieldOf(fieldOf(meta, 'billed_units'), 'search_units');
  return typeof units === 'number' && Number.isFinite(units) && units >= 0 ? units : 1;
}

function fieldOf(value: unknown, name: string): unknown {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>)[name] : undefined;
}
