/**
 * Simulator of the Gemini API (generativelanguage.googleapis.com, v1beta) for Portico's tests: a
 * REMOTE service double written from Google's public REST reference and batch guide (copied in
 * docs/specs/gemini-api.md), not from Portico. Proven by the official `@google/genai` SDK in
 * gemini-simulator.test.ts.
 *
 * ```ts
 * const sim = await startGeminiSimulator();
 * // sim.url = http://127.0.0.1:PORT (API root; clients append /v1beta/...)
 * new GoogleGenAI({ apiKey: GEMINI_SIMULATOR_API_KEY, httpOptions: { baseUrl: sim.url } });
 * ```
 *
 * Auth: `x-goog-api-key` (or `?key=`); a missing key is 403 PERMISSION_DENIED, a wrong one 400
 * INVALID_ARGUMENT with reason API_KEY_INVALID, as Google answers. Upload session URLs carry
 * their own authority (`upload_id`). Errors: `{"error": {"code", "message", "status"}}`.
 *
 * - `models/{m}:generateContent`, `:streamGenerateContent` (`?alt=sse`: one event per chunk;
 *   without it a JSON array), `:batchEmbedContents` (gemini/generate.ts: echo model, `FAIL`,
 *   `use tool`, `UNSAFE`, `think`, implicit caching of a repeated system instruction);
 * - Files API: resumable upload, get, list, delete, download (gemini/files.ts);
 * - batch mode: create (inline or file), get, list, cancel, delete; a batch ends on the SECOND
 *   `advanceBatches()`; `expireBatch(name)`; `refuseBatchCreates(n)`: the next n creates answered
 *   429 RESOURCE_EXHAUSTED, as over the project's batch quota (gemini/batches.ts);
 * - throttling: `failNext({status: 429})` answers RESOURCE_EXHAUSTED with a RetryInfo, as does
 *   `rateLimitPerMinute` once that many model calls were made in a minute.
 */
import { randomBase62 } from './common/ids.ts';
import { everyStep, sseFrame, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';
import { GeminiBatchStore, type SimulatedBatch } from './gemini/batches.ts';
import { googleError, googleErrorBody, invalidApiKey } from './gemini/errors.ts';
import { GeminiFileStore, type StoredFile } from './gemini/files.ts';
import { embed, generate, isRecord, streamChunks, type GenerateContext } from './gemini/generate.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export type { SimulatedBatch } from './gemini/batches.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';

export const GEMINI_SIMULATOR_API_KEY = 'AIzaSy-gemini-simulator-key-0000000000';

export interface GeminiSimulatorOptions {
  apiKey?: string;
  port?: number;
  /** Models served; default any. Others answer 404 NOT_FOUND. */
  models?: string[];
  /** Advance batches every this many milliseconds. */
  batchStepMs?: number;
  /** Model calls (generate, stream, embed) allowed per minute before 429 RESOURCE_EXHAUSTED. */
  rateLimitPerMinute?: number;
}

export interface GeminiSimulator extends BaseSimulator {
  batches: Map<string, SimulatedBatch>;
  files: Map<string, StoredFile>;
  /** Ends a live batch EXPIRED (`batches/...`). */
  expireBatch(name: string): void;
  /** Answers the next `count` batch creates 429 RESOURCE_EXHAUSTED (no batch made). */
  refuseBatchCreates(count: number): void;
  /** Batch creates refused so far. */
  readonly batchCreateRefusals: number;
}

export async function startGeminiSimulator(options: GeminiSimulatorOptions = {}): Promise<GeminiSimulator> {
  const apiKey = options.apiKey ?? GEMINI_SIMULATOR_API_KEY;
  const models = options.models ? new Set(options.models) : null;
  const ctx: GenerateContext = {
    modelError: (model) => (!models || models.has(model) ? null : `models/${model} is not found for API version v1beta, or is not supported for generateContent.`),
    promptCache: new Set(),
  };
  const files = new GeminiFileStore();
  const batches = new GeminiBatchStore(files, ctx);
  const calls: number[] = [];
  const throttled = (): SimReply | null => {
    if (options.rateLimitPerMinute === undefined) return null;
    const now = Date.now();
    while (calls.length > 0 && calls[0] < now - 60_000) calls.shift();
    if (calls.length >= options.rateLimitPerMinute) return googleError(429, 'Resource has been exhausted (e.g. check quota).');
    calls.push(now);
    return null;
  };

  const server = await startSimulatorServer({
    port: options.port,
    routes: [
      { method: 'POST', path: /^\/v1beta\/models\/([^/:]+):generateContent$/, handle: (req, [model]) => throttled() ?? generateRoute(req, model, ctx) },
      { method: 'POST', path: /^\/v1beta\/models\/([^/:]+):streamGenerateContent$/, handle: (req, [model]) => throttled() ?? streamRoute(req, model, ctx) },
      { method: 'POST', path: /^\/v1beta\/models\/([^/:]+):batchEmbedContents$/, handle: (req, [model]) => throttled() ?? embedRoute(req, model, ctx) },
      ...files.routes(),
      ...batches.routes(),
    ],
    notFound: (req) => googleError(404, `Method not found: ${req.method} ${req.path}`),
    authenticate: (req) => {
      if (req.query.upload_id !== undefined) return null;
      const key = req.headers['x-goog-api-key'] ?? req.query.key;
      if (key === undefined) return googleError(403, 'Method doesn\'t allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.');
      return key === apiKey ? null : invalidApiKey();
    },
    failureBody: (status) => googleErrorBody(status),
    responseHeaders: () => ({ 'x-goog-request-id': randomBase62(16), server: 'scaffolding on HTTPServer2' }),
  });
  files.setOrigin(server.origin);
  const stopSteps = everyStep(options.batchStepMs, () => batches.advance());

  return {
    url: server.origin,
    requests: server.requests,
    batches: batches.batches,
    files: files.files,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    async advanceBatches() {
      batches.advance();
    },
    expireBatch: (name) => batches.expire(name),
    refuseBatchCreates: (count) => {
      batches.refusing = count;
    },
    get batchCreateRefusals() {
      return batches.createRefusals;
    },
    async close() {
      stopSteps();
      await server.close();
    },
  };
}

/** The request's JSON object, or Google's 400 for a body that is not one. */
function parsedBody(req: SimRequest): { body: Record<string, unknown> } | { invalid: SimReply } {
  return req.jsonError || !isRecord(req.json) ? { invalid: googleError(400, 'Invalid JSON payload received.') } : { body: req.json };
}

function errorReply(error: Record<string, unknown>): SimReply {
  return { status: error.code as number, json: { error } };
}

function generateRoute(req: SimRequest, model: string, ctx: GenerateContext): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const outcome = generate(model, parsed.body, ctx);
  return 'error' in outcome ? errorReply(outcome.error) : { status: 200, json: outcome.response };
}

function streamRoute(req: SimRequest, model: string, ctx: GenerateContext): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const outcome = generate(model, parsed.body, ctx);
  if ('error' in outcome) return errorReply(outcome.error);
  const chunks = streamChunks(outcome.response);
  if (req.query.alt !== 'sse') return { status: 200, json: chunks };
  return { status: 200, sse: chunks.map((chunk) => sseFrame(JSON.stringify(chunk))) };
}

function embedRoute(req: SimRequest, model: string, ctx: GenerateContext): SimReply {
  const parsed = parsedBody(req);
  if ('invalid' in parsed) return parsed.invalid;
  const outcome = embed(model, parsed.body, ctx);
  return 'error' in outcome ? errorReply(outcome.error) : { status: 200, json: outcome };
}
