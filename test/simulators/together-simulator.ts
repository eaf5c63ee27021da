/**
 * Simulator of Together AI's Files and Batch API (api.together.xyz/v1) for Portico's tests,
 * written from Together's public reference (https://docs.together.ai/reference/batch-create,
 * /reference/upload-file, /docs/inference/batch/manage) and its Node SDK (`together-ai`), not
 * from Portico. Chat completions are OpenAI's (the shared fake model).
 *
 * ```ts
 * const sim = await startTogetherSimulator({ batchStepMs: 20 });
 * const client = new Together({ apiKey: TOGETHER_SIMULATOR_API_KEY, baseURL: sim.url });
 * ```
 *
 * Served under `/v1`:
 * - `POST /files/upload` (multipart: `purpose`, `file_name`, `file_type`, `file`), the reference's
 *   upload. (Not the SDK's two-step presigned upload, `POST /files` then `PUT`: together-ai 0.52's
 *   upload cannot run on Node 24, whose fetch refuses its stream body without `duplex`.)
 * - `GET /files` (`{data}`, no paging), `GET|DELETE /files/{id}`, `GET /files/{id}/content`.
 * - `POST /batches` (`input_file_id`, `endpoint`, `completion_window?`, `priority?`, `model_id?`)
 *   answers 201 `{job}`; `GET /batches/{id}`, `POST /batches/{id}/cancel` answer the batch;
 *   `GET /batches` answers a bare array, newest first.
 *
 * Batches: input lines are `{custom_id, body}` (other keys ignored), the input file's purpose must
 * be `batch-api`. VALIDATING -> IN_PROGRESS -> COMPLETED, one step per `advanceBatches()` (or every
 * `batchStepMs`); the last step runs every line. Output lines `{id, custom_id, response:
 * {status_code, body}}` in a `batch-generated` file, failed lines `{custom_id, error: {message}}` in
 * the error file (absent when none failed). A file with no valid line fails at validation
 * (FAILED, `error`). Cancel works while VALIDATING or IN_PROGRESS. Times are ISO 8601 strings.
 */
import { parseMultipart } from './common/multipart.ts';
import { randomHex, uuid } from './common/ids.ts';
import { bearerToken, everyStep, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';
import { chatCompletion, chatCompletionsRoute, type InferenceContext } from './openai/chat.ts';
import { defaultOpenAIFailureBody, openaiErrorBody } from './openai/errors.ts';

export const TOGETHER_SIMULATOR_API_KEY = 'sim-together-test-key-0000';

export interface TogetherSimulatorOptions {
  apiKey?: string;
  /** Advance batches automatically every `batchStepMs` ms (default: only `advanceBatches()`). */
  batchStepMs?: number;
}

export interface TogetherFile {
  id: string;
  object: 'file';
  created_at: number;
  filename: string;
  bytes: number;
  purpose: string;
  Processed: boolean;
  FileType: string;
  content: Buffer;
}

export interface TogetherBatch {
  id: string;
  user_id: string;
  input_file_id: string;
  file_size_bytes: number;
  status: 'VALIDATING' | 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | 'EXPIRED' | 'CANCELLED';
  job_deadline: string;
  created_at: string;
  endpoint: string;
  progress: number;
  model_id: string;
  output_file_id?: string;
  error_file_id?: string;
  error?: string;
  completed_at?: string;
}

export interface TogetherSimulator extends BaseSimulator {
  /** `http://127.0.0.1:PORT/v1`, the SDK's `baseURL`. */
  url: string;
  files: Map<string, TogetherFile>;
  batches: Map<string, TogetherBatch>;
}

const PURPOSES = new Set(['fine-tune', 'eval', 'eval-sample', 'eval-output', 'eval-summary', 'batch-generated', 'batch-api']);
const ENDPOINTS = new Set(['/v1/chat/completions', '/v1/audio/transcriptions', '/v1/audio/translations']);
const DAY_MS = 86_400_000;

type Json = Record<string, unknown>;

const iso = (ms = Date.now()) => new Date(ms).toISOString();
const error = (status: number, message: string): SimReply => ({ status, json: openaiErrorBody(status, { message }) });

export async function startTogetherSimulator(options: TogetherSimulatorOptions = {}): Promise<TogetherSimulator> {
  const apiKey = options.apiKey ?? TOGETHER_SIMULATOR_API_KEY;
  const files = new Map<string, TogetherFile>();
  const batches = new Map<string, TogetherBatch>();
  const ctx: InferenceContext = { modelError: () => null };

  function addFile(filename: string, purpose: string, content: Buffer, fileType = 'jsonl'): TogetherFile {
    const file: TogetherFile = { id: `file-${uuid()}`, object: 'file', created_at: Math.floor(Date.now() / 1000), filename, bytes: content.length, purpose, Processed: true, FileType: fileType, content };
    files.set(file.id, file);
    return file;
  }

  const fileWire = ({ content: _content, ...wire }: TogetherFile) => wire;

  function upload(req: SimRequest): SimReply {
    const form = parseMultipart(req.body, req.headers['content-type']);
    if (!form) return error(400, 'Expected multipart/form-data.');
    const part = form.files.find((f) => f.field === 'file');
    const purpose = form.fields.purpose;
    const filename = form.fields.file_name;
    if (!part) return error(400, 'file is required');
    if (!purpose || !PURPOSES.has(purpose)) return error(400, `Invalid purpose: ${purpose ?? ''}`);
    if (!filename) return error(400, 'file_name is required');
    return { status: 200, json: fileWire(addFile(filename, purpose, part.data, form.fields.file_type ?? 'jsonl')) };
  }

  function createBatch(req: SimRequest): SimReply {
    const body = (req.json ?? {}) as Json;
    const fileId = body.input_file_id;
    if (typeof fileId !== 'string') return error(400, 'input_file_id is required');
    if (typeof body.endpoint !== 'string' || !ENDPOINTS.has(body.endpoint)) return error(400, `Invalid endpoint: ${String(body.endpoint)}`);
    const input = files.get(fileId);
    if (!input) return error(404, `File ${fileId} not found`);
    if (input.purpose !== 'batch-api') return error(400, `File ${fileId} has purpose ${input.purpose}; batch-api is required`);
    const now = Date.now();
    const batch: TogetherBatch = {
      id: uuid(),
      user_id: 'user_simulated',
      input_file_id: fileId,
      file_size_bytes: input.bytes,
      status: 'VALIDATING',
      job_deadline: iso(now + DAY_MS),
      created_at: iso(now),
      endpoint: body.endpoint,
      progress: 0,
      model_id: typeof body.model_id === 'string' ? body.model_id : '',
    };
    batches.set(batch.id, batch);
    return { status: 201, json: { job: batch } };
  }

  /** Runs every line of a batch and writes its output and error files. */
  function run(batch: TogetherBatch): void {
    const input = files.get(batch.input_file_id);
    const output: string[] = [];
    const failed: string[] = [];
    for (const text of (input?.content.toString('utf8') ?? '').split('\n')) {
      if (text.trim() === '') continue;
      let line: Json;
      try {
        line = JSON.parse(text) as Json;
      } catch {
        continue;
      }
      const customId = line.custom_id;
      if (typeof customId !== 'string') continue;
      if (typeof line.body !== 'object' || line.body === null) {
        failed.push(JSON.stringify({ custom_id: customId, error: { message: 'body is required' } }));
        continue;
      }
      const result = chatCompletion(line.body as Json, ctx);
      if (result.status === 200) output.push(JSON.stringify({ id: `req-${randomHex(16)}`, custom_id: customId, response: { status_code: 200, body: result.body } }));
      else failed.push(JSON.stringify({ custom_id: customId, error: { message: String((result.body.error as Json | undefined)?.message ?? 'request failed') } }));
    }
    if (output.length === 0 && failed.length === 0) {
      batch.status = 'FAILED';
      batch.error = 'The input file has no valid request line.';
    } else {
      batch.status = 'COMPLETED';
      batch.progress = 100;
      batch.output_file_id = addFile(`${batch.id}_output.jsonl`, 'batch-generated', Buffer.from(output.map((l) => `${l}\n`).join(''))).id;
      if (failed.length > 0) batch.error_file_id = addFile(`${batch.id}_error.jsonl`, 'batch-generated', Buffer.from(failed.map((l) => `${l}\n`).join(''))).id;
    }
    batch.completed_at = iso();
  }

  async function advanceBatches(): Promise<void> {
    for (const batch of batches.values()) {
      if (batch.status === 'VALIDATING') batch.status = 'IN_PROGRESS';
      else if (batch.status === 'IN_PROGRESS') run(batch);
    }
  }

  const server = await startSimulatorServer({
    routes: [
      { method: 'POST', path: /^\/v1\/files\/upload$/, handle: upload },
      { method: 'GET', path: /^\/v1\/files$/, handle: () => ({ status: 200, json: { data: [...files.values()].map(fileWire) } }) },
      {
        method: 'GET',
        path: /^\/v1\/files\/([^/]+)$/,
        handle: (_req, [id]) => {
          const file = files.get(id);
          return file ? { status: 200, json: fileWire(file) } : error(404, `File ${id} not found`);
        },
      },
      {
        method: 'GET',
        path: /^\/v1\/files\/([^/]+)\/content$/,
        handle: (_req, [id]) => {
          const file = files.get(id);
          return file ? { status: 200, raw: file.content, headers: { 'content-type': 'application/octet-stream' } } : error(404, `File ${id} not found`);
        },
      },
      {
        method: 'DELETE',
        path: /^\/v1\/files\/([^/]+)$/,
        handle: (_req, [id]) => (files.delete(id) ? { status: 200, json: { id, deleted: true } } : error(404, `File ${id} not found`)),
      },
      { method: 'POST', path: /^\/v1\/batches$/, handle: createBatch },
      { method: 'GET', path: /^\/v1\/batches$/, handle: () => ({ status: 200, json: [...batches.values()].reverse() }) },
      {
        method: 'GET',
        path: /^\/v1\/batches\/([^/]+)$/,
        handle: (_req, [id]) => {
          const batch = batches.get(id);
          return batch ? { status: 200, json: batch } : error(404, `Batch ${id} not found`);
        },
      },
      {
        method: 'POST',
        path: /^\/v1\/batches\/([^/]+)\/cancel$/,
        handle: (_req, [id]) => {
          const batch = batches.get(id);
          if (!batch) return error(404, `Batch ${id} not found`);
          if (batch.status !== 'VALIDATING' && batch.status !== 'IN_PROGRESS') return error(400, `Batch ${id} is ${batch.status} and cannot be cancelled`);
          batch.status = 'CANCELLED';
          batch.completed_at = iso();
          return { status: 200, json: batch };
        },
      },
      chatCompletionsRoute(ctx),
    ],
    notFound: () => error(404, 'Not found'),
    authenticate: (req) => {
      return bearerToken(req) === apiKey ? null : error(401, 'Invalid API key provided.');
    },
    failureBody: (status) => defaultOpenAIFailureBody(status),
    responseHeaders: () => ({ 'x-request-id': randomHex(24) }),
  });
  const stopStepping = everyStep(options.batchStepMs, advanceBatches);

  return {
    url: `${server.origin}/v1`,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    advanceBatches,
    files,
    batches,
    async close() {
      stopStepping();
      await server.close();
    },
  };
}
