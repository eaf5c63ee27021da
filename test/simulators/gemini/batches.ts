/**
 * Gemini batch mode (https://ai.google.dev/api/batch-api, https://ai.google.dev/gemini-api/docs/batch-api;
 * docs/specs/gemini-api.md §Batch mode): `models/{model}:batchGenerateContent` with inline
 * requests (`inputConfig.requests.requests[]`, each `{request, metadata: {key}}`, at most 20 MB)
 * or an uploaded JSONL file (`inputConfig.fileName`, lines `{key, request}`); batches.get / list /
 * cancel / delete. Every answer is the long-running `Operation`: `{name: "batches/..", metadata:
 * GenerateContentBatch (with @type), done, response | error}`.
 *
 * Lifecycle: BATCH_STATE_PENDING -> (first `advance()`) RUNNING -> (second) SUCCEEDED, every
 * request run then: inline batches answer `inlinedResponses` in request order, file batches a
 * responses file (`responsesFile`) of `{key, response | error}` lines. `cancel` ends a batch
 * CANCELLED at once, `expire(name)` EXPIRED; neither has output ("The job will not have any
 * results to retrieve"). A file that is not JSONL of `{key?, request}` fails the batch
 * (BATCH_STATE_FAILED with the operation's `error`).
 *
 * `refuseCreates(n)`: the next n creates are refused as Google refuses one over the project's
 * batch quota, HTTP 429 `{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message"}}`
 * (https://ai.google.dev/gemini-api/docs/rate-limits), making no batch.
 */
import { randomBase62 } from '../common/ids.ts';
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { googleError } from './errors.ts';
import type { GeminiFileStore } from './files.ts';
import { generate, isRecord, type GenerateContext } from './generate.ts';

type Json = Record<string, unknown>;

const BATCH_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatch';
const OUTPUT_TYPE = 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerateContentBatchOutput';
export const INLINE_LIMIT_BYTES = 20 * 1024 * 1024;

export interface SimulatedBatch {
  name: string;
  displayName: string;
  model: string;
  state: 'BATCH_STATE_PENDING' | 'BATCH_STATE_RUNNING' | 'BATCH_STATE_SUCCEEDED' | 'BATCH_STATE_FAILED' | 'BATCH_STATE_CANCELLED' | 'BATCH_STATE_EXPIRED';
  createTime: string;
  updateTime: string;
  endTime?: string;
  inputConfig: Json;
  output?: Json;
  error?: Json;
  requests: { key?: string; request: Json }[];
  stats: { requestCount: number; successfulRequestCount: number; failedRequestCount: number; pendingRequestCount: number };
}

const TERMINAL = new Set(['BATCH_STATE_SUCCEEDED', 'BATCH_STATE_FAILED', 'BATCH_STATE_CANCELLED', 'BATCH_STATE_EXPIRED']);

export class GeminiBatchStore {
  readonly batches = new Map<string, SimulatedBatch>();
  /** Creates still to refuse with 429 RESOURCE_EXHAUSTED, and those refused so far. */
  refusing = 0;
  createRefusals = 0;
  readonly #files: GeminiFileStore;
  readonly #ctx: GenerateContext;

  constructor(files: GeminiFileStore, ctx: GenerateContext) {
    this.#files = files;
    this.#ctx = ctx;
  }

  routes(): SimRoute[] {
    return [
      { method: 'POST', path: /^\/v1beta\/models\/([^/:]+):batchGenerateContent$/, handle: (req, [model]) => this.#create(req, model) },
      { method: 'GET', path: /^\/v1beta\/batches$/, handle: (req) => this.#list(req) },
      { method: 'GET', path: /^\/v1beta\/batches\/([^/:]+)$/, handle: (_req, [id]) => this.#get(id) },
      { method: 'POST', path: /^\/v1beta\/batches\/([^/:]+):cancel$/, handle: (_req, [id]) => this.#cancel(id) },
      { method: 'DELETE', path: /^\/v1beta\/batches\/([^/:]+)$/, handle: (_req, [id]) => this.#delete(id) },
    ];
  }

  /** PENDING -> RUNNING; RUNNING -> every request run, SUCCEEDED. */
  advance(): void {
    for (const batch of this.batches.values()) {
      if (batch.state === 'BATCH_STATE_PENDING') this.#set(batch, 'BATCH_STATE_RUNNING');
      else if (batch.state === 'BATCH_STATE_RUNNING') this.#run(batch);
    }
  }

  /** Ends a live batch EXPIRED, as Google does after 48 hours pending or running. */
  expire(name: string): void {
    const batch = this.batches.get(name);
    if (batch && !TERMINAL.has(batch.state)) this.#set(batch, 'BATCH_STATE_EXPIRED');
  }

  #create(req: SimRequest, model: string): SimReply {
    if (this.refusing > 0) {
      this.refusing -= 1;
      this.createRefusals += 1;
      return googleError(429, `Resource has been exhausted (e.g. check quota). Quota exceeded for concurrent batch requests for model ${model}.`);
    }
    const modelError = this.#ctx.modelError(model);
    if (modelError) return googleError(404, modelError);
    if (req.jsonError || !isRecord(req.json) || !isRecord(req.json.batch)) return googleError(400, 'Invalid JSON payload received. Expected a batch.');
    const spec = req.json.batch;
    const input = isRecord(spec.inputConfig) ? spec.inputConfig : isRecord(spec.input_config) ? spec.input_config : undefined;
    if (!input) return googleError(400, '* BatchGenerateContentRequest.batch.input_config: input_config is required');
    const inline = isRecord(input.requests) ? input.requests.requests : undefined;
    const fileName = input.fileName ?? input.file_name;
    if ((inline === undefined) === (fileName === undefined)) return googleError(400, 'Exactly one of input_config.requests and input_config.file_name must be set.');
    let requests: SimulatedBatch['requests'];
    let failure: string | undefined;
    if (inline !== undefined) {
      if (req.bodyBytes > INLINE_LIMIT_BYTES) return googleError(400, 'Request payload size exceeds the limit: 20971520 bytes.');
      if (!Array.isArray(inline) || inline.length === 0) return googleError(400, '* input_config.requests.requests: must not be empty');
      requests = [];
      for (const [i, item] of inline.entries()) {
        if (!isRecord(item) || !isRecord(item.request)) return googleError(400, `* input_config.requests.requests[${i}].request: request is required`);
        const key = isRecord(item.metadata) && typeof item.metadata.key === 'string' ? item.metadata.key : undefined;
        requests.push({ key, request: item.request });
      }
    } else {
      const file = typeof fileName === 'string' ? this.#files.get(fileName) : undefined;
      if (!file) return googleError(404, `File ${String(fileName)} not found.`);
      ({ requests, failure } = parseInputFile(file.bytes));
    }
    const now = new Date().toISOString();
    const batch: SimulatedBatch = {
      name: `batches/${randomBase62(20).toLowerCase()}`,
      displayName: typeof spec.displayName === 'string' ? spec.displayName : typeof spec.display_name === 'string' ? spec.display_name : 'batch',
      model: `models/${model}`,
      state: 'BATCH_STATE_PENDING',
      createTime: now,
      updateTime: now,
      inputConfig: inline !== undefined ? { requests: { requests: inline } } : { fileName },
      requests,
      stats: { requestCount: requests.length, successfulRequestCount: 0, failedRequestCount: 0, pendingRequestCount: requests.length },
    };
    this.batches.set(batch.name, batch);
    if (failure !== undefined) {
      batch.error = { code: 3, message: failure, status: 'INVALID_ARGUMENT' };
      this.#set(batch, 'BATCH_STATE_FAILED');
    }
    return { status: 200, json: operation(batch) };
  }

  #run(batch: SimulatedBatch): void {
    const results = batch.requests.map(({ key, request }) => {
      const outcome = generate(batch.model.replace(/^models\//, ''), request, this.#ctx);
      if ('response' in outcome) batch.stats.successfulRequestCount += 1;
      else batch.stats.failedRequestCount += 1;
      return { key, ...outcome };
    });
    batch.stats.pendingRequestCount = 0;
    if (isRecord(batch.inputConfig.requests)) {
      batch.output = { inlinedResponses: { inlinedResponses: results.map(({ key, ...result }) => ({ ...result, ...(key !== undefined ? { metadata: { key } } : {}) })) } };
    } else {
      const jsonl = results.map((result) => JSON.stringify(result)).join('\n') + '\n';
      const file = this.#files.addGenerated(Buffer.from(jsonl), `${batch.name.replace('batches/', 'batch-')}-responses`);
      batch.output = { responsesFile: file.name };
    }
    this.#set(batch, 'BATCH_STATE_SUCCEEDED');
  }

  #set(batch: SimulatedBatch, state: SimulatedBatch['state']): void {
    batch.state = state;
    batch.updateTime = new Date().toISOString();
    if (TERMINAL.has(state)) batch.endTime = batch.updateTime;
  }

  #find(id: string): SimulatedBatch | undefined {
    return this.batches.get(`batches/${id}`);
  }

  #get(id: string): SimReply {
    const batch = this.#find(id);
    return batch ? { status: 200, json: operation(batch) } : googleError(404, `Batch batches/${id} not found.`);
  }

  #list(req: SimRequest): SimReply {
    const all = [...this.batches.values()].reverse();
    const size = Math.min(Number(req.query.pageSize ?? 50) || 50, 1000);
    const start = req.query.pageToken ? Number(req.query.pageToken) : 0;
    const page = all.slice(start, start + size);
    return { status: 200, json: { operations: page.map(operation), ...(start + size < all.length ? { nextPageToken: String(start + size) } : {}) } };
  }

  #cancel(id: string): SimReply {
    const batch = this.#find(id);
    if (!batch) return googleError(404, `Batch batches/${id} not found.`);
    if (TERMINAL.has(batch.state)) return googleError(400, `Batch batches/${id} has already ended (${batch.state}).`);
    this.#set(batch, 'BATCH_STATE_CANCELLED');
    return { status: 200, json: {} };
  }

  #delete(id: string): SimReply {
    if (!this.batches.delete(`batches/${id}`)) return googleError(404, `Batch batches/${id} not found.`);
    return { status: 200, json: {} };
  }
}

function parseInputFile(bytes: Buffer): { requests: SimulatedBatch['requests']; failure?: string } {
  const requests: SimulatedBatch['requests'] = [];
  for (const [i, text] of bytes.toString('utf8').split('\n').entries()) {
    if (text.trim() === '') continue;
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      return { requests, failure: `Line ${i + 1} of the input file is not JSON.` };
    }
    if (!isRecord(line) || !isRecord(line.request)) return { requests, failure: `Line ${i + 1} of the input file has no request.` };
    requests.push({ key: typeof line.key === 'string' ? line.key : undefined, request: line.request });
  }
  return requests.length === 0 ? { requests, failure: 'The input file holds no requests.' } : { requests };
}

/** The batch as its long-running operation. */
export function operation(batch: SimulatedBatch): Json {
  const metadata: Json = {
    '@type': BATCH_TYPE,
    name: batch.name,
    displayName: batch.displayName,
    model: batch.model,
    inputConfig: batch.inputConfig,
    createTime: batch.createTime,
    updateTime: batch.updateTime,
    ...(batch.endTime ? { endTime: batch.endTime } : {}),
    // int64 counts: Google's JSON mapping writes them as strings.
    batchStats: Object.fromEntries(Object.entries(batch.stats).map(([k, v]) => [k, String(v)])),
    state: batch.state,
    ...(batch.output ? { output: batch.output } : {}),
  };
  const done = TERMINAL.has(batch.state);
  return {
    name: batch.name,
    metadata,
    ...(done ? { done: true } : {}),
    ...(batch.error ? { error: batch.error } : {}),
    ...(batch.output ? { response: { '@type': OUTPUT_TYPE, ...batch.output } } : {}),
  };
}
