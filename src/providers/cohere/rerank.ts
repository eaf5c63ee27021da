/**
 * LiteLLM's rerank (`spec/rerank.ts`) <-> Cohere `POST /v2/rerank`. Pure.
 * (https://docs.cohere.com/reference/rerank, `V2RerankRequest` / `V2RerankResponse` in the
 * `cohere-ai` SDK)
 *
 * LiteLLM's clients send rerank as Cohere's v1 took it: documents as strings or objects,
 * `rank_fields`, `return_documents`, `max_chunks_per_doc`. Cohere's v2 documents strings only and
 * none of those three (its reference and SDK dropped them, and it answers no documents:
 * https://github.com/cohere-ai/notebooks/issues/202), so Portico does their work itself:
 * - a string document goes as it is; an object goes as its `text`, or, with `rank_fields` (or
 *   without a string `text`), as `field: value` lines of those fields (all of them without
 *   `rank_fields`): the YAML Cohere advises for structured data ("structured data should be
 *   formatted as YAML strings", V2RerankRequest.documents);
 * - `return_documents: true` is answered here: each result gets its document as the client sent
 *   it (`{text}` for a string, the object itself for an object), as v1 answered it;
 * - `max_chunks_per_doc` (v1 only; v2 has `max_tokens_per_doc`) and keys Cohere does not take
 *   are dropped, each with a warning;
 * - `top_n`, `max_tokens_per_doc` and `priority` go as they are.
 * The answer is Cohere's (its `id`, `results`, `meta`), billed as its `meta.billed_units.search_units`.
 */
import { echoValue } from '../../spec/echo-value.ts';
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import type { RerankResponse, RerankResult } from '../../spec/rerank.ts';
import { isRecord } from './json.ts';
import type { CohereRerankRequest, CohereRerankResponse } from './wire-types.ts';

/** Keys read here; anything else is dropped with a warning. */
const HANDLED_KEYS = new Set(['model', 'query', 'documents', 'top_n', 'max_tokens_per_doc', 'priority', 'rank_fields', 'return_documents']);

export interface RerankTranslation {
  request: CohereRerankRequest;
  /** With `return_documents: true`: each document as the answer gives it back, by index; else undefined. */
  returned?: Record<string, unknown>[];
  warnings: TranslationWarning[];
}

export function translateRerankRequest(body: Record<string, unknown>, model: string): RerankTranslation {
  if (typeof body.query !== 'string') throw new InvalidRequestError("'query' must be a string.", { param: 'query' });
  if (!Array.isArray(body.documents)) throw new InvalidRequestError("'documents' must be an array of strings or objects.", { param: 'documents' });
  const rankFields = optionalStringList(body.rank_fields, 'rank_fields');
  const returnDocuments = body.return_documents;
  if (returnDocuments != null && typeof returnDocuments !== 'boolean') {
    throw new InvalidRequestError(`'return_documents' must be a boolean; got '${echoValue(returnDocuments)}'.`, { param: 'return_documents' });
  }
  const documents = (body.documents as unknown[]).map((document, index) => documentText(document, index, rankFields));
  const request: CohereRerankRequest = { model, query: body.query, documents };
  const topN = optionalPositiveInteger(body.top_n, 'top_n');
  if (topN !== undefined) request.top_n = topN;
  const maxTokens = optionalPositiveInteger(body.max_tokens_per_doc, 'max_tokens_per_doc');
  if (maxTokens !== undefined) request.max_tokens_per_doc = maxTokens;
  if (typeof body.priority === 'number') request.priority = body.priority;

  const warnings: TranslationWarning[] = [];
  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || value == null) continue;
    const reason = key === 'max_chunks_per_doc' ? "is Cohere's v1 rerank parameter, which v2 does not take (it has max_tokens_per_doc)" : 'is not a rerank parameter Cohere takes';
    warnings.push({ param: key, message: `'${key}' ${reason} and was dropped.` });
  }
  const returned = returnDocuments === true ? (body.documents as (string | Record<string, unknown>)[]).map((document) => (typeof document === 'string' ? { text: document } : document)) : undefined;
  return { request, ...(returned !== undefined && { returned }), warnings };
}

/** The string Cohere ranks for one document. */
function documentText(document: unknown, index: number, rankFields: readonly string[] | undefined): string {
  if (typeof document === 'string') return document;
  if (!isRecord(document)) throw new InvalidRequestError(`'documents[${index}]' must be a string or an object.`, { param: `documents[${index}]` });
  if (rankFields === undefined && typeof document.text === 'string') return document.text;
  return fieldLines(document, rankFields ?? Object.keys(document));
}

/** `field: value` lines, one per field the document has; a value that is not a one-line string is written as JSON. */
function fieldLines(document: Record<string, unknown>, fields: readonly string[]): string {
  const lines: string[] = [];
  for (const field of fields) {
    const value = document[field];
    if (value == null || !Object.hasOwn(document, field)) continue;
    lines.push(`${field}: ${typeof value === 'string' && !/[\r\n]/.test(value) ? value : JSON.stringify(value)}`);
  }
  return lines.join('\n');
}

function optionalStringList(value: unknown, param: string): string[] | undefined {
  if (value == null) return undefined;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw new InvalidRequestError(`'${param}' must be an array of strings.`, { param });
}

function optionalPositiveInteger(value: unknown, param: string): number | undefined {
  if (value == null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return value;
  throw new InvalidRequestError(`'${param}' must be a positive integer; got '${echoValue(value)}'.`, { param });
}

/** Cohere's answer, when it is a rerank response (results with an index and a score); else null. */
export function rerankResponseOf(body: unknown): CohereRerankResponse | null {
  if (!isRecord(body) || !Array.isArray(body.results)) return null;
  const wellFormed = body.results.every((result) => isRecord(result) && Number.isInteger(result.index) && typeof result.relevance_score === 'number');
  return wellFormed ? (body as CohereRerankResponse) : null;
}

/** The answer in Cohere's shape, as LiteLLM returns it: Cohere's own, with each result's document when asked for. */
export function translateRerankResponse(response: CohereRerankResponse, returned: readonly Record<string, unknown>[] | undefined): RerankResponse {
  const results: RerankResult[] = response.results.map((result) => {
    const document = returned?.[result.index];
    return document === undefined ? result : { ...result, document };
  });
  return { ...response, results } as RerankResponse;
}
