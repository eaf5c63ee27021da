/**
 * Simulator of Anthropic's API (api.anthropic.com) for Portico's tests: a REMOTE service double,
 * faithful to Anthropic's public API reference and spec copy (WIRE.md §3;
 * test/fixtures/anthropic/), not to Portico.
 *
 * ```ts
 * const sim = await startAnthropicSimulator();
 * // sim.url = http://127.0.0.1:PORT (API root; clients append /v1/messages)
 * await fetch(`${sim.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': ANTHROPIC_SIMULATOR_API_KEY,
 *   'anthropic-version': '2023-06-01', 'content-type': 'application/json' }, body: ... });
 * ```
 *
 * Exports: `startAnthropicSimulator(options?)`, `ANTHROPIC_SIMULATOR_API_KEY`, `EXPIRE_MARKER`,
 * `CANCEL_MARKER`, `FAIL_MARKER`, `TOOL_TRIGGER`, types `AnthropicSimulator`,
 * `AnthropicSimulatorOptions`, `SimulatedMessageBatch`, and re-exported `SimulatorRequestLog`,
 * `FailNextOptions`, `BaseSimulator`.
 *
 * Headers: `x-api-key` (401 `authentication_error` when missing/wrong) and `anthropic-version`
 * (400 when missing) are required; answers carry `request-id`. Errors:
 * `{"type":"error","error":{"type","message"},"request_id"}`.
 *
 * `POST /v1/messages/count_tokens`: `{input_tokens}`, as the message would count them.
 *
 * `POST /v1/messages`: validated like Anthropic (anthropic/validate-params.ts); answers a Message
 * echoing the last user text, or a `tool_use` block when tools are given and the text contains
 * `use tool`; usage has cache fields; `stream: true` gives the SSE event sequence. A user text
 * `FAIL` answers 400, `FAIL:<status>` that status (e.g. 529 overloaded_error).
 *
 * Message Batches: create / retrieve / list (`after_id`, `before_id`, `limit`) / cancel / delete /
 * results (`results_url`). An Anthropic batch ENDS ON THE SECOND `advanceBatches()` (see
 * anthropic/message-batches.ts). Bad params -> `errored` results. `forceOutcome(customIds, type)`
 * or user texts `EXPIRE` / `CANCEL` make requests end `expired` / `canceled`; `expireBatch(id)`
 * ends a batch now with unprocessed requests `expired`.
 */
import { startSimulatorServer, sseFrame } from './common/simulator-server.ts';
import type { BaseSimulator, SimReply, SimRequest } from './common/simulator-server.ts';
import { randomBase62 } from './common/ids.ts';
import { anthropicError, anthropicErrorBody } from './anthropic/errors.ts';
import { validateMessageParams } from './anthropic/validate-params.ts';
import { createMessage, messageStreamEvents, promptTokens } from './anthropic/messages.ts';
import type { MessageContext } from './anthropic/messages.ts';
import { MessageBatchStore } from './anthropic/message-batches.ts';
import type { SimulatedMessageBatch } from './anthropic/message-batches.ts';
import { messageBatchesRoutes } from './anthropic/batches-api.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export type { SimulatedMessageBatch } from './anthropic/message-batches.ts';
export { EXPIRE_MARKER, CANCEL_MARKER } from './anthropic/message-batches.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';

export const ANTHROPIC_SIMULATOR_API_KEY = 'sk-ant-simulator-test-key-0000';

export interface AnthropicSimulatorOptions {
  /** Expected `x-api-key`; default `ANTHROPIC_SIMULATOR_API_KEY`. */
  apiKey?: string;
  batchStepMs?: number;
  port?: number;
  /** Models served; default any. Others answer 404 `not_found_error` "model: <name>". */
  models?: string[];
  /** Message Batch limits (defaults: 100,000 requests, 256 MB). */
  maxBatchRequests?: number;
  maxBatchBytes?: number;
}

export interface AnthropicSimulator extends BaseSimulator {
  /** `http://127.0.0.1:PORT`, the API root. */
  url: string;
  /** Every Message Batch by id, exactly as retrieve answers it. */
  batches: Map<string, SimulatedMessageBatch>;
  /** End a live batch now; unprocessed requests become `expired`. */
  expireBatch(id: string): void;
  /** Requests with these custom_ids (in any batch, processed later) end with this result type. */
  forceOutcome(customIds: string[], outcome: 'expired' | 'canceled'): void;
}

/** 32 MB: the Messages API request limit (Anthropic "Errors" docs). */
const MESSAGES_MAX_BYTES = 32 * 1024 * 1024;
const KNOWN_VERSIONS = new Set(['2023-06-01', '2023-01-01']);

export async function startAnthropicSimulator(options: AnthropicSimulatorOptions = {}): Promise<AnthropicSimulator> {
  const apiKey = options.apiKey ?? ANTHROPIC_SIMULATOR_API_KEY;
  const models = options.models ? new Set(options.models) : null;
  const maxBatchBytes = options.maxBatchBytes ?? 256 * 1024 * 1024;
  const modelError = (model: string) => (!models || models.has(model) ? null : { status: 404, message: `model: ${model}` });
  const promptCache = new Set<string>();
  const syncCtx: MessageContext = { modelError, promptCache, serviceTier: 'standard' };
  let origin = '';
  const store = new MessageBatchStore({ modelError, promptCache, serviceTier: 'batch' }, (id) => `${origin}/v1/messages/batches/${id}/results`);

  const server = await startSimulatorServer({
    port: options.port,
    maxBodyBytes: Math.max(maxBatchBytes, MESSAGES_MAX_BYTES) + 1,
    routes: [
      { method: 'POST', path: /^\/v1\/messages$/, handle: (req) => messages(req, syncCtx) },
      { method: 'POST', path: /^\/v1\/messages\/count_tokens$/, handle: (req) => countTokensReply(req, syncCtx) },
      ...messageBatchesRoutes(store, { maxRequests: options.maxBatchRequests ?? 100_000, maxBytes: maxBatchBytes }),
    ],
    notFound: (req) => anthropicError(req, 404, 'Not Found'),
    authenticate: (req) => {
      const key = req.headers['x-api-key'];
      if (key === undefined) return anthropicError(req, 401, 'x-api-key header is required');
      if (key !== apiKey) return anthropicError(req, 401, 'invalid x-api-key');
      const version = req.headers['anthropic-version'];
      if (version === undefined) return anthropicError(req, 400, 'anthropic-version: header is required');
      if (!KNOWN_VERSIONS.has(String(version))) return anthropicError(req, 400, `anthropic-version: invalid version '${String(version)}'`);
      return null;
    },
    failureBody: (status, req) => anthropicErrorBody(status, undefined, req?.responseHeaders['request-id'] ?? null),
    responseHeaders: () => ({ 'request-id': `req_01${randomBase62(22)}`, 'anthropic-organization-id': 'org-simulator' }),
  });
  origin = server.origin;

  const timer = options.batchStepMs ? setInterval(() => store.advance(), options.batchStepMs) : null;
  timer?.unref();

  return {
    url: server.origin,
    requests: server.requests,
    batches: store.batches,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    async advanceBatches() {
      store.advance();
    },
    expireBatch: (id) => store.expire(id),
    forceOutcome: (ids, outcome) => store.forceOutcome(ids, outcome),
    async close() {
      if (timer) clearInterval(timer);
      await server.close();
    },
  };
}

/**
 * `POST /v1/messages/count_tokens` (https://docs.anthropic.com/en/api/messages-count-tokens): a
 * Messages request without `max_tokens`, answered `{input_tokens}` as its message would count them.
 */
function countTokensReply(req: SimRequest, ctx: MessageContext): SimReply {
  if (req.jsonError || !req.json || typeof req.json !== 'object' || Array.isArray(req.json)) {
    return anthropicError(req, 400, 'There was an error parsing the body of your request. Please make sure it is valid JSON.');
  }
  const body = req.json as Record<string, unknown>;
  if (body.max_tokens !== undefined) return anthropicError(req, 400, 'max_tokens: Extra inputs are not permitted');
  const invalid = validateMessageParams({ ...body, max_tokens: 1 }, { batch: false });
  if (invalid) return anthropicError(req, invalid.status, invalid.message);
  const modelError = ctx.modelError(String(body.model));
  if (modelError) return anthropicError(req, modelError.status, modelError.message);
  return { status: 200, json: { input_tokens: promptTokens(body) } };
}

function messages(req: SimRequest, ctx: MessageContext): SimReply {
  if (req.bodyTooLarge || req.bodyBytes > MESSAGES_MAX_BYTES) return anthropicError(req, 413, 'Request exceeds the maximum allowed number of bytes.');
  if (req.jsonError || !req.json || typeof req.json !== 'object' || Array.isArray(req.json)) {
    return anthropicError(req, 400, 'There was an error parsing the body of your request. Please make sure it is valid JSON.');
  }
  const body = req.json as Record<string, unknown>;
  const invalid = validateMessageParams(body, { batch: false });
  if (invalid) return anthropicError(req, invalid.status, invalid.message);
  const outcome = createMessage(body, ctx);
  if ('error' in outcome) return anthropicError(req, outcome.error.status, outcome.error.message || undefined);
  if (body.stream !== true) return { status: 200, json: outcome.message };
  return { status: 200, sse: messageStreamEvents(outcome.message).map((e) => sseFrame(JSON.stringify(e.data), e.event)) };
}
