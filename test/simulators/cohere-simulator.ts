/**
 * Simulator of Cohere's v2 API (api.cohere.com) for Portico's tests: a REMOTE service double
 * written from Cohere's public API reference (https://docs.cohere.com/reference/chat,
 * /reference/chat-stream, /reference/embed, /reference/rerank, /reference/errors) and the wire
 * shapes of the official `cohere-ai` SDK, not from Portico. Proven by that SDK in
 * cohere-simulator.test.ts.
 *
 * ```ts
 * const sim = await startCohereSimulator();
 * // sim.url = http://127.0.0.1:PORT (API root; clients append /v2/chat, /v2/embed, /v2/rerank)
 * new CohereClientV2({ token: COHERE_SIMULATOR_API_KEY, environment: sim.url });
 * ```
 *
 * Auth: `Authorization: Bearer <key>`; missing or wrong, 401 `invalid api token`. Errors:
 * `{"id", "message"}` with Cohere's statuses (cohere/errors.ts).
 *
 * - `POST /v2/chat`: validated as Cohere does (unknown fields named, ranges, roles, tool results
 *   that answer a call: cohere/validate.ts), then the fake model (cohere/chat.ts: echo, `use tool`,
 *   `FAIL` / `FAIL:<status>`, thinking for reasoning models); `stream: true` answers the SSE events,
 *   each an `event:` line and a `data:` line with the same `type`, ending with `data: [DONE]`;
 * - `POST /v2/embed`: 96 texts at most, `input_type` required for v3+ models, `output_dimension`
 *   for embed-v4 only (cohere/embed.ts);
 * - `POST /v2/rerank`: documents as strings, ranked by how many of the query's words each has,
 *   `top_n`, one search unit per 100 documents, never the documents themselves (cohere/rerank.ts);
 *   an unknown field (`top_k`, v1's `max_chunks_per_doc`) is a 422;
 * - a model not in `options.models` (chat), not `embed-*` (embed) or not `rerank-*` (rerank)
 *   answers 404;
 * - `failNext({status: 429})` answers Cohere's trial-key rate-limit message.
 */
import { randomHex } from './common/ids.ts';
import { bearerToken, sseFrame, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';
import { chatStreamEvents, createChatResponse } from './cohere/chat.ts';
import { embed } from './cohere/embed.ts';
import { rerank } from './cohere/rerank.ts';
import { cohereError, cohereErrorBody, modelNotFound } from './cohere/errors.ts';
import { validateChatRequest, validateEmbedRequest, validateRerankRequest } from './cohere/validate.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';

export const COHERE_SIMULATOR_API_KEY = 'co-simulator-test-key-0000000000000000';

export interface CohereSimulatorOptions {
  /** Expected bearer key; default `COHERE_SIMULATOR_API_KEY`. */
  apiKey?: string;
  port?: number;
  /** Chat models served; default any. Others answer 404. */
  models?: string[];
}

export type CohereSimulator = BaseSimulator;

export async function startCohereSimulator(options: CohereSimulatorOptions = {}): Promise<CohereSimulator> {
  const apiKey = options.apiKey ?? COHERE_SIMULATOR_API_KEY;
  const chatModels = options.models ? new Set(options.models) : null;

  const server = await startSimulatorServer({
    port: options.port,
    routes: [
      { method: 'POST', path: /^\/v2\/chat$/, handle: (req) => chatRoute(req, chatModels) },
      { method: 'POST', path: /^\/v2\/embed$/, handle: (req) => embedRoute(req) },
      { method: 'POST', path: /^\/v2\/rerank$/, handle: (req) => rerankRoute(req) },
    ],
    notFound: () => cohereError(404, 'Not Found'),
    authenticate: (req) => {
      const token = bearerToken(req);
      if (token === undefined) return cohereError(401, 'no api key supplied');
      return token === apiKey ? null : cohereError(401, 'invalid api token');
    },
    failureBody: (status) => cohereErrorBody(status),
    responseHeaders: () => ({ 'x-debug-trace-id': randomHex(32) }),
  });

  return {
    url: server.origin,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    async advanceBatches() {
      // Cohere has no batch API here: nothing to advance.
    },
    close: () => server.close(),
  };
}

/** The request's JSON object, or Cohere's 400 for a body that is not one. */
function parsedBody(req: SimRequest): { body: Record<string, unknown> } | { invalid: SimReply } {
  const json = req.json;
  if (req.jsonError || typeof json !== 'object' || json === null || Array.isArray(json)) {
    return { invalid: cohereError(400, 'invalid request: unable to parse the request body as JSON') };
  }
  return { body: json as Record<string, unknown> };
}

function chatRoute(req: SimRequest, models: ReadonlySet<string> | null): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const body = parsed.body;
  const refusal = validateChatRequest(body);
  if (refusal) return cohereError(refusal.status, refusal.message);
  if (models !== null && !models.has(String(body.model))) return modelNotFound(String(body.model));
  const outcome = createChatResponse(body);
  if ('error' in outcome) return cohereError(outcome.error.status, outcome.error.message);
  if (body.stream !== true) return { status: 200, json: outcome.response };
  const frames = chatStreamEvents(outcome.response).map((event) => sseFrame(JSON.stringify(event), String(event.type)));
  // The `cohere-ai` SDK's stream ends at this terminator; Portico's reader takes a stream with or without it.
  return { status: 200, sse: [...frames, sseFrame('[DONE]')] };
}

function embedRoute(req: SimRequest): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const refusal = validateEmbedRequest(parsed.body);
  if (refusal) return cohereError(refusal.status, refusal.message);
  const model = String(parsed.body.model);
  if (!model.startsWith('embed-')) return modelNotFound(model);
  const outcome = embed(parsed.body);
  return 'error' in outcome ? cohereError(outcome.error.status, outcome.error.message) : { status: 200, json: outcome.response };
}

function rerankRoute(req: SimRequest): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const refusal = validateRerankRequest(parsed.body);
  if (refusal) return cohereError(refusal.status, refusal.message);
  const model = String(parsed.body.model);
  if (!model.startsWith('rerank-')) return modelNotFound(model);
  const outcome = rerank(parsed.body);
  return 'error' in outcome ? cohereError(outcome.error.status, outcome.error.message) : { status: 200, json: outcome.response };
}
