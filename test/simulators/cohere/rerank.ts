/**
 * What Cohere's `/v2/rerank` answers (https://docs.cohere.com/reference/rerank, `V2RerankResponse`):
 * the documents' indexes ordered by relevance, each with a score in [0, 1], at most `top_n` of
 * them, and the billed search units in `meta`. The fake model scores a document by the share of
 * the query's distinct words it contains (case-insensitive), ties in document order; a query of
 * `FAIL` / `FAIL:<status>` fails the request. Cohere bills one search unit per query of up to 100
 * documents (https://cohere.com/pricing; its splitting of long documents into more units is not
 * simulated). The body must be valid (`validate.ts`).
 */
import { uuid } from '../common/ids.ts';
import { requestedFailureStatus } from '../common/fake-model.ts';
import type { ChatOutcomeError } from './chat.ts';

type Json = Record<string, unknown>;

/** Documents one search unit covers. */
export const DOCUMENTS_PER_SEARCH_UNIT = 100;

function wordsOf(text: string): Set<string> {
  return new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);
}

/** The share of the query's distinct words found in the document. */
export function relevanceScore(query: string, document: string): number {
  const queryWords = wordsOf(query);
  if (queryWords.size === 0) return 0;
  const documentWords = wordsOf(document);
  let found = 0;
  for (const word of queryWords) if (documentWords.has(word)) found += 1;
  return found / queryWords.size;
}

export function rerank(body: Json): { response: Json } | { error: ChatOutcomeError } {
  const query = body.query as string;
  const failStatus = requestedFailureStatus(query);
  if (failStatus !== null) return { error: { status: failStatus } };
  const documents = body.documents as string[];
  const ranked = documents
    .map((document, index) => ({ index, relevance_score: relevanceScore(query, document) }))
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const topN = typeof body.top_n === 'number' ? body.top_n : ranked.length;
  return {
    response: {
      id: uuid(),
      results: ranked.slice(0, topN),
      meta: {
        api_version: { version: '2', is_experimental: false },
        billed_units: { search_units: Math.ceil(documents.length / DOCUMENTS_PER_SEARCH_UNIT) },
      },
    },
  };
}
