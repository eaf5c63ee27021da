/**
 * Simulator of Voyage AI's API (`https://api.voyageai.com/v1`) for Portico's tests: a REMOTE
 * service double written from Voyage's public reference
 * (https://docs.voyageai.com/reference/embeddings-api, https://docs.voyageai.com/reference/reranker-api),
 * not from Portico. Proven by Voyage's official TypeScript SDK (`voyageai`) in voyage-simulator.test.ts.
 *
 * - `POST /v1/embeddings` `{input, model, input_type?, truncation?, output_dimension?,
 *   encoding_format?: null | "base64"}` -> `{object: "list", data: [{object: "embedding",
 *   embedding, index}], model, usage: {total_tokens}}` (float32 little-endian, base64, when asked);
 *   `dimensions` is no Voyage parameter: a 400;
 * - `POST /v1/rerank` `{query, documents: string[], model, top_k?, return_documents?, truncation?}`
 *   -> `{object: "list", data: [{index, relevance_score, document?}], model, usage: {total_tokens}}`,
 *   most relevant first (the fake relevance: words shared with the query);
 * - auth: `Authorization: Bearer <key>`; errors are `{"detail": "..."}` with their status.
 */
import { countTokens, embeddingVector, vectorToBase64 } from './common/fake-model.ts';
import { bearerToken, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';

export const VOYAGE_SIMULATOR_API_KEY = 'pa-voyage-simulator-0123456789abcdef';
const DIMENSIONS = 1024;
const KNOWN_FIELDS = { embeddings: ['input', 'model', 'input_type', 'truncation', 'output_dimension', 'output_dtype', 'encoding_format'], rerank: ['query', 'documents', 'model', 'top_k', 'return_documents', 'truncation'] };

export interface VoyageSimulator extends BaseSimulator {
  /** `http://127.0.0.1:PORT/v1`: the SDK's `baseUrl`, LiteLLM's `api_base`. */
  url: string;
}

type Json = Record<string, unknown>;

function detail(status: number, message: string): SimReply {
  return { status, json: { detail: message } };
}

/** The fields Voyage does not know (its API refuses them). */
function unknownFields(body: Json, known: readonly string[]): string[] {
  return Object.keys(body).filter((name) => !known.includes(name));
}

function embeddings(req: SimRequest): SimReply {
  const body = req.json as Json;
  const extra = unknownFields(body, KNOWN_FIELDS.embeddings);
  if (extra.length > 0) return detail(400, `Request body contains unrecognized fields: ${extra.join(', ')}`);
  const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input : undefined;
  if (inputs === undefined || inputs.length === 0 || inputs.some((input) => typeof input !== 'string')) return detail(400, 'Input must be a string or a non-empty list of strings.');
  if (typeof body.model !== 'string') return detail(400, 'Missing required field: model.');
  const dimensions = typeof body.output_dimension === 'number' ? body.output_dimension : DIMENSIONS;
  if (body.encoding_format !== undefined && body.encoding_format !== null && body.encoding_format !== 'base64') return detail(400, "encoding_format must be null or 'base64'.");
  const data = (inputs as string[]).map((input, index) => {
    const vector = embeddingVector(input, dimensions);
    return { object: 'embedding', embedding: body.encoding_format === 'base64' ? vectorToBase64(vector) : vector, index };
  });
  return { status: 200, json: { object: 'list', data, model: body.model, usage: { total_tokens: (inputs as string[]).reduce((sum, input) => sum + countTokens(input), 0) } } };
}

function rerank(req: SimRequest): SimReply {
  const body = req.json as Json;
  const extra = unknownFields(body, KNOWN_FIELDS.rerank);
  if (extra.length > 0) return detail(400, `Request body contains unrecognized fields: ${extra.join(', ')}`);
  if (typeof body.query !== 'string' || !Array.isArray(body.documents) || body.documents.some((document) => typeof document !== 'string')) {
    return detail(400, 'query must be a string and documents a list of strings.');
  }
  const words = new Set(body.query.toLowerCase().split(/\W+/).filter(Boolean));
  const documents = body.documents as string[];
  const scored = documents.map((document, index) => {
    const shared = document.toLowerCase().split(/\W+/).filter((word) => words.has(word)).length;
    return { index, relevance_score: Math.min(1, 0.1 + shared / Math.max(1, words.size)), ...(body.return_documents === true && { document }) };
  });
  scored.sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index);
  const top = typeof body.top_k === 'number' ? scored.slice(0, body.top_k) : scored;
  const tokens = countTokens(body.query) * documents.length + documents.reduce((sum, document) => sum + countTokens(document), 0);
  return { status: 200, json: { object: 'list', data: top, model: body.model, usage: { total_tokens: tokens } } };
}

export async function startVoyageSimulator(options: { port?: number } = {}): Promise<VoyageSimulator> {
  const server = await startSimulatorServer({
    port: options.port,
    routes: [
      { method: 'POST', path: /^\/v1\/embeddings$/, handle: embeddings },
      { method: 'POST', path: /^\/v1\/rerank$/, handle: rerank },
    ],
    notFound: () => detail(404, 'Not Found'),
    authenticate: (req) => (bearerToken(req) === VOYAGE_SIMULATOR_API_KEY ? null : detail(401, 'Provided API key is invalid.')),
    failureBody: (status) => ({ detail: status === 429 ? 'Rate limit exceeded.' : 'Internal server error.' }),
    responseHeaders: () => ({}),
  });
  return {
    url: `${server.origin}/v1`,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    // Voyage has no batch API here: nothing to advance.
    advanceBatches: async () => undefined,
    close: () => server.close(),
  };
}
