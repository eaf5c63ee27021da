/**
 * Simulator of the OpenAI API (api.openai.com/v1) for Portico's tests: a REMOTE service double,
 * faithful to OpenAI's public spec and recorded behaviour (docs/specs/WIRE.md §1), not
 * to Portico.
 *
 * ```ts
 * const sim = await startOpenAISimulator({ models: ['gpt-4o-mini'] });
 * const client = new OpenAI({ apiKey: OPENAI_SIMULATOR_API_KEY, baseURL: sim.url }); // sim.url = http://127.0.0.1:PORT/v1
 * ...
 * await sim.advanceBatches(); // validating -> in_progress -> finalizing -> completed, one step per call
 * await sim.close();
 * ```
 *
 * Exports: `startOpenAISimulator(options?)`, `OPENAI_SIMULATOR_API_KEY`, types `OpenAISimulator`,
 * `OpenAISimulatorOptions`, `SimulatorRequestLog`, `FailNextOptions`, `BaseSimulator`,
 * `SimulatedFile`, `SimulatedBatch`, and the fake model's markers `FAIL_MARKER`, `TOOL_TRIGGER`.
 *
 * Served: `POST /v1/chat/completions` (+ `stream`, `stream_options.include_usage`),
 * `POST /v1/embeddings` (float or base64), `POST /v1/responses` (+ `stream`, `background`, and the
 * stored responses: `GET`/`DELETE /v1/responses/{id}`, `input_items`, `cancel`),
 * `POST /v1/completions` (+ `stream`, `stream_options.include_usage`), `POST /v1/moderations`,
 * `POST /v1/images/generations`, `POST /v1/audio/speech` (+ `stream_format: "sse"`),
 * `POST /v1/audio/transcriptions` (+ `stream`), `POST /v1/audio/translations` (the fake audio
 * model: openai/audio.ts), `GET /v1/models`, the Files API and the Batch API.
 *
 * The model (common/fake-model.ts): answers echo the last user text; a user text `FAIL` fails
 * the request with 400 (`FAIL:<status>` with that status), which is how a batch line is sent to
 * the error file; with tools, a user text containing `use tool` makes a tool call.
 *
 * Models: any model is accepted unless `models` is given. With `models`, a synchronous call for
 * another model answers 404 `model_not_found`; in a batch, such a line fails the whole batch at
 * validation (`model_not_found` in `errors.data`, as the real service does) or, with
 * `unknownModelInBatch: 'error_line'`, goes to the error file as that 404.
 *
 * Batches: one model per input file (`model_mismatch` otherwise); output lines are written in
 * REVERSED input order; a batch whose every line failed completes with `output_file_id: null`;
 * `error_file_id` is null when no line failed. `expireBatch(id)` ends a live batch as `expired`.
 */
import { startSimulatorServer } from './common/simulator-server.ts';
import type { BaseSimulator, SimReply, SimRequest, SimRoute } from './common/simulator-server.ts';
import { randomBase62, randomHex } from './common/ids.ts';
import { FileStore, fileWire } from './openai/file-store.ts';
import type { SimulatedFile } from './openai/file-store.ts';
import { BatchEngine } from './openai/batch-engine.ts';
import type { BatchFlavor, SimulatedBatch } from './openai/batch-engine.ts';
import { modelMismatchErrors } from './openai/batch-lines.ts';
import type { BatchLine } from './openai/batch-lines.ts';
import { cursorListEnvelope, filesRoutes } from './openai/files-api.ts';
import { batchesRoutes } from './openai/batches-api.ts';
import { defaultOpenAIFailureBody, openaiErrorBody } from './openai/errors.ts';
import type { OpenAIErrorFields } from './openai/errors.ts';
import type { InferenceContext } from './openai/chat.ts';
import { executeEndpoint } from './openai/inference.ts';
import type { BatchableEndpoint } from './openai/inference.ts';
import { chatReply, completionsReply, embeddingsReply, imageGenerationsReply, moderationsReply, modelsReply } from './openai/inference-replies.ts';
import { StoredResponses } from './openai/stored-responses.ts';
import { speechReply, transcriptionsReply, translationsReply } from './openai/audio.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog, SlowNextOptions } from './common/simulator-server.ts';
export type { SimulatedFile } from './openai/file-store.ts';
export type { SimulatedBatch } from './openai/batch-engine.ts';
export { FAIL_MARKER, TOOL_TRIGGER } from './common/fake-model.ts';

export const OPENAI_SIMULATOR_API_KEY = 'sk-simulator-openai-test-key-0000';

export interface OpenAISimulatorOptions {
  /** Key expected in `Authorization: Bearer`; default `OPENAI_SIMULATOR_API_KEY`. */
  apiKey?: string;
  /** Advance batches automatically every `batchStepMs` ms (default: only `advanceBatches()`). */
  batchStepMs?: number;
  port?: number;
  /** Models served; default: any model. */
  models?: string[];
  /** A batch line naming a model outside `models`: fail the batch (default, like the real API) or error-file the line. */
  unknownModelInBatch?: 'fail_batch' | 'error_line';
  /** Limit for `purpose=batch` uploads (default 200 MB, the Batch API's). */
  maxBatchFileBytes?: number;
  /**
   * Where the API is served (default `/v1`): another OpenAI-compatible service's real base path,
   * e.g. Groq's `/openai/v1` or DeepInfra's `/v1/openai`. Batch lines still name `/v1/...` URLs.
   */
  basePath?: string;
  /**
   * Where the key is read: `authorization` (`Bearer`, OpenAI's; the default) or `api-key`, as Azure
   * AI Foundry's model inference API takes it on `*.services.ai.azure.com`
   * (https://learn.microsoft.com/en-us/rest/api/aifoundry/model-inference/).
   */
  keyHeader?: 'authorization' | 'api-key';
}

export interface OpenAISimulator extends BaseSimulator {
  /** `http://127.0.0.1:PORT/v1` (or the `basePath`), the SDK's `baseURL`. */
  url: string;
  /** `http://127.0.0.1:PORT` */
  origin: string;
  /** Every file that exists upstream (uploads and batch outputs), by id. */
  files: Map<string, SimulatedFile>;
  /** Every batch, by id, exactly as `GET /v1/batches/{id}` answers it. */
  batches: Map<string, SimulatedBatch>;
  /** End a live batch as `expired` now (unexecuted lines go to the error file as `batch_expired`). */
  expireBatch(id: string): void;
  /** The ids of the responses this account stores now (openai/stored-responses.ts). */
  storedResponseIds(): string[];
}

const UPLOAD_PURPOSES = ['fine-tune', 'assistants', 'batch', 'user_data', 'vision', 'evals'] as const;
const THIRTY_DAYS = 2_592_000;
const ENDPOINT_LABELS: Record<BatchableEndpoint, string> = {
  '/chat/completions': 'Chat Completions',
  '/embeddings': 'Embeddings',
  '/responses': 'Responses',
  '/completions': 'Completions',
  '/moderations': 'Moderations',
  '/images/generations': 'Images',
};
const DEFAULT_MODELS = ['gpt-4o-mini', 'gpt-4o', 'gpt-4.1', 'text-embedding-3-small', 'text-embedding-3-large'];

export async function startOpenAISimulator(options: OpenAISimulatorOptions = {}): Promise<OpenAISimulator> {
  const apiKey = options.apiKey ?? OPENAI_SIMULATOR_API_KEY;
  const basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
  const base = basePath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const models = options.models ? new Set(options.models) : null;
  const store = new FileStore();
  const error = (status: number, fields: OpenAIErrorFields): SimReply => ({ status, json: openaiErrorBody(status, fields) });

  const ctx: InferenceContext = {
    modelError: (model) =>
      !models || models.has(model)
        ? null
        : {
            status: 404,
            body: openaiErrorBody(404, {
              message: `The model \`${model}\` does not exist or you do not have access to it.`,
              code: 'model_not_found',
            }) as unknown as Record<string, unknown>,
          },
  };

  const flavor: BatchFlavor = {
    newBatchId: () => `batch_${randomHex(32)}`,
    newFileId: () => `file-${randomBase62(22)}`,
    newLineId: () => `batch_req_${randomHex(32)}`,
    newRequestId: () => `req_${randomHex(32)}`,
    reportsModelAndUsage: true,
    alwaysWritesBothFiles: false,
    defaultOutputTtl: THIRTY_DAYS,
    lineRules: (endpoint) => ({
      urlMatches: (url) => url === `/v1${endpoint}`,
      urlMismatchCode: 'invalid_url',
      endpointLabel: ENDPOINT_LABELS[endpoint],
      requiresMessages: endpoint === '/chat/completions',
      maxLines: 50_000,
      modelErrors: (lines: BatchLine[]) => {
        if (models && options.unknownModelInBatch !== 'error_line') {
          const unknown = lines.filter((l) => !models.has(String(l.body.model)));
          if (unknown.length > 0) {
            return unknown.map((l) => ({
              code: 'model_not_found',
              message: `The provided model '${String(l.body.model)}' is not supported by the Batch API.`,
              param: 'body.model',
              line: l.line,
            }));
          }
        }
        return modelMismatchErrors(
          lines,
          (first, other) => `The model '${other}' does not match the model '${first}' of the first request. A batch input file can only include requests to a single model.`,
        );
      },
    }),
    preValidation: () => [],
    runLine: (endpoint, body) => executeEndpoint(endpoint, body, ctx),
    missingFileError: (fileId) => ({
      code: 'invalid_request',
      message: `Cannot find file ${fileId}, or organization org-simulator does not have access to it.`,
      param: 'file_id',
      line: null,
    }),
  };
  const engine = new BatchEngine(store, flavor);
  const storedResponses = new StoredResponses(ctx);

  const routes: SimRoute[] = [
    { method: 'POST', path: new RegExp(`^${base}/chat/completions$`), handle: (req) => chatReply(req, ctx) },
    { method: 'POST', path: new RegExp(`^${base}/embeddings$`), handle: (req) => embeddingsReply(req, ctx) },
    ...storedResponses.routes(base),
    { method: 'POST', path: new RegExp(`^${base}/completions$`), handle: (req) => completionsReply(req, ctx) },
    { method: 'POST', path: new RegExp(`^${base}/moderations$`), handle: (req) => moderationsReply(req, ctx) },
    { method: 'POST', path: new RegExp(`^${base}/images/generations$`), handle: (req) => imageGenerationsReply(req, ctx) },
    { method: 'POST', path: new RegExp(`^${base}/audio/speech$`), handle: (req) => speechReply(req, ctx) },
    { method: 'POST', path: new RegExp(`^${base}/audio/transcriptions$`), handle: (req) => transcriptionsReply(req, ctx) },
    { method: 'POST', path: new RegExp(`^${base}/audio/translations$`), handle: (req) => translationsReply(req, ctx) },
    { method: 'GET', path: new RegExp(`^${base}/models$`), handle: () => modelsReply(options.models ?? DEFAULT_MODELS, 'system') },
    ...filesRoutes({
      prefix: basePath,
      store,
      error,
      notFound: (id) => error(404, { message: `No such File object: ${id}`, param: 'id' }),
      newFileId: () => flavor.newFileId('upload'),
      uploadPurposes: UPLOAD_PURPOSES,
      expiresAfter: { min: 3600, max: THIRTY_DAYS },
      maxBatchFileBytes: options.maxBatchFileBytes ?? 200 * 1024 * 1024,
      maxFileBytes: 512 * 1024 * 1024,
      defaultBatchFileTtl: THIRTY_DAYS,
      initialStatus: () => 'processed',
      uploadAnswer: () => ({ status: 200 }),
      render: fileWire,
      listEnvelope: cursorListEnvelope,
      paginates: true,
    }),
    ...batchesRoutes({
      prefix: basePath,
      engine,
      error,
      notFound: (id) => error(404, { message: `No batch found with id '${id}'.` }),
      endpoints: {
        '/v1/chat/completions': '/chat/completions',
        '/v1/completions': '/completions',
        '/v1/embeddings': '/embeddings',
        '/v1/responses': '/responses',
        '/v1/moderations': '/moderations',
        '/v1/images/generations': '/images/generations',
      },
      endpointsMessage: "'/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/moderations', and '/v1/images/generations'",
      checksCompletionWindow: true,
      outputExpiresAfter: { min: 3600, max: THIRTY_DAYS },
      createAnswer: () => ({ status: 200 }),
      render: (batch) => structuredClone(batch) as unknown as Record<string, unknown>,
      listEnvelope: cursorListEnvelope,
    }),
  ];

  const server = await startSimulatorServer({
    port: options.port,
    routes,
    notFound: (req) => error(404, { message: `Invalid URL (${req.method} ${req.path})` }),
    authenticate: (req) => (options.keyHeader === 'api-key' ? authenticateApiKeyHeader(req, apiKey) : authenticate(req, apiKey)),
    failureBody: defaultOpenAIFailureBody,
    responseHeaders: () => ({
      'x-request-id': `req_${randomHex(32)}`,
      'openai-version': '2020-10-01',
      'openai-organization': 'org-simulator',
      'openai-processing-ms': '1',
    }),
  });

  const timer = options.batchStepMs ? setInterval(() => engine.advance(), options.batchStepMs) : null;
  timer?.unref();

  return {
    url: `${server.origin}${basePath}`,
    origin: server.origin,
    requests: server.requests,
    files: store.files,
    batches: engine.batches,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    async advanceBatches() {
      engine.advance();
    },
    expireBatch: (id) => engine.expire(id),
    storedResponseIds: () => storedResponses.ids,
    async close() {
      if (timer) clearInterval(timer);
      await server.close();
    },
  };
}

/** Azure's `api-key` header; Azure's 401 answer when it is missing or wrong. */
function authenticateApiKeyHeader(req: SimRequest, apiKey: string): SimReply | null {
  if (String(req.headers['api-key'] ?? '') === apiKey) return null;
  return {
    status: 401,
    json: { error: { code: '401', message: 'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.' } },
  };
}

/** `Authorization: Bearer <key>`; the 401 bodies are the real API's. */
function authenticate(req: SimRequest, apiKey: string): SimReply | null {
  const header = String(req.headers.authorization ?? '');
  const m = /^Bearer\s+(.+)$/i.exec(header);
  if (!m) {
    return {
      status: 401,
      json: openaiErrorBody(401, {
        message:
          "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
      }),
    };
  }
  if (m[1].trim() !== apiKey) {
    const key = m[1].trim();
    const masked = key.length > 8 ? `${key.slice(0, 3)}${'*'.repeat(Math.max(4, key.length - 7))}${key.slice(-4)}` : key;
    return {
      status: 401,
      json: openaiErrorBody(401, {
        message: `Incorrect API key provided: ${masked}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        code: 'invalid_api_key',
      }),
    };
  }
  return null;
}
