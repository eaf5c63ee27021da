/**
 * Simulator of Mistral's Files and Batch API (api.mistral.ai/v1) for Portico's tests, written
 * from Mistral's public reference (https://docs.mistral.ai/capabilities/batch/,
 * https://docs.mistral.ai/api/endpoint/batch, /endpoint/files) and its SDK's models
 * (`@mistralai/mistralai`: BatchJobOut, UploadFileOut, ...), not from Portico. Chat completions
 * are the shared fake model's.
 *
 * ```ts
 * const sim = await startMistralSimulator({ batchStepMs: 20 });
 * const client = new Mistral({ apiKey: MISTRAL_SIMULATOR_API_KEY, serverURL: sim.origin });
 * ```
 *
 * Served under `/v1`:
 * - `POST /files` (multipart `file`, `purpose`: `fine-tune | batch | ocr`), `GET /files`
 *   (`{data, object: "list", total}`), `GET|DELETE /files/{id}`, `GET /files/{id}/content`.
 *   Files add `sample_type`, `source`, `num_lines` to OpenAI's fields.
 * - `POST /batch/jobs` (`input_files`, `endpoint`, `model`, `metadata?`, `timeout_hours?`),
 *   `GET /batch/jobs` (`{data, object: "list", total}`, newest first), `GET /batch/jobs/{id}`,
 *   `POST /batch/jobs/{id}/cancel`.
 * - `POST /chat/completions`.
 *
 * Jobs: QUEUED -> RUNNING -> SUCCESS, one step per `advanceBatches()` (or every `batchStepMs`); the
 * last step runs every line of every input file (`{custom_id, body}`; the job's `model` is used).
 * Output lines `{id, custom_id, response: {status_code: 200, body}, error: null}` in the output
 * file, failed lines `{id, custom_id, response: {status_code, body: <error>}, error: null}` in the
 * error file (none when no line failed). A cancel makes the job CANCELLATION_REQUESTED; the next
 * step makes it CANCELLED. Errors are Mistral's flat `{object: "error", message, type, param, code}`.
 */
import { randomHex, uuid } from './common/ids.ts';
import { parseMultipart } from './common/multipart.ts';
import { bearerToken, everyStep, startSimulatorServer, type BaseSimulator, type SimReply, type SimRequest } from './common/simulator-server.ts';
import { chatCompletion, chatCompletionsRoute, type InferenceContext } from './openai/chat.ts';

export const MISTRAL_SIMULATOR_API_KEY = 'sim-mistral-test-key-0000';

export interface MistralSimulatorOptions {
  apiKey?: string;
  /** Advance jobs automatically every `batchStepMs` ms (default: only `advanceBatches()`). */
  batchStepMs?: number;
}

export interface MistralFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  sample_type: string;
  num_lines: number;
  mimetype: string;
  source: 'upload' | 'mistral';
  content: Buffer;
}

export interface MistralJob {
  id: string;
  object: 'batch';
  input_files: string[];
  metadata: Record<string, unknown> | null;
  endpoint: string;
  model: string;
  agent_id: null;
  output_file: string | null;
  error_file: string | null;
  errors: Array<{ message: string; count: number }>;
  status: 'QUEUED' | 'RUNNING' | 'SUCCESS' | 'FAILED' | 'TIMEOUT_EXCEEDED' | 'CANCELLATION_REQUESTED' | 'CANCELLED';
  created_at: number;
  total_requests: number;
  completed_requests: number;
  succeeded_requests: number;
  failed_requests: number;
  started_at: number | null;
  completed_at: number | null;
}

export interface MistralSimulator extends BaseSimulator {
  /** `http://127.0.0.1:PORT/v1` */
  url: string;
  /** `http://127.0.0.1:PORT`, the SDK's `serverURL`. */
  origin: string;
  files: Map<string, MistralFile>;
  jobs: Map<string, MistralJob>;
}

const PURPOSES = new Set(['fine-tune', 'batch', 'ocr']);
const ENDPOINTS = new Set(['/v1/chat/completions', '/v1/embeddings', '/v1/fim/completions', '/v1/moderations', '/v1/chat/moderations', '/v1/ocr', '/v1/classifications', '/v1/conversations', '/v1/audio/transcriptions']);

type Json = Record<string, unknown>;

const now = () => Math.floor(Date.now() / 1000);

function mistralError(status: number, message: string, type = 'invalid_request_error'): SimReply {
  return { status, json: { object: 'error', message, type, param: null, code: null } };
}

function lineCount(content: Buffer): number {
  return content.toString('utf8').split('\n').filter((line) => line.trim() !== '').length;
}

export async function startMistralSimulator(options: MistralSimulatorOptions = {}): Promise<MistralSimulator> {
  const apiKey = options.apiKey ?? MISTRAL_SIMULATOR_API_KEY;
  const files = new Map<string, MistralFile>();
  const jobs = new Map<string, MistralJob>();
  const ctx: InferenceContext = { modelError: () => null };

  function addFile(filename: string, purpose: string, content: Buffer, sampleType: string, source: MistralFile['source']): MistralFile {
    const file: MistralFile = { id: uuid(), object: 'file', bytes: content.length, created_at: now(), filename, purpose, sample_type: sampleType, num_lines: lineCount(content), mimetype: 'application/jsonl', source, content };
    files.set(file.id, file);
    return file;
  }

  const fileWire = ({ content: _content, ...wire }: MistralFile) => wire;

  function upload(req: SimRequest): SimReply {
    const form = parseMultipart(req.body, req.headers['content-type']);
    if (!form) return mistralError(400, 'Expected multipart/form-data.');
    const part = form.files.find((f) => f.field === 'file');
    if (!part) return mistralError(422, 'Field required: file');
    const purpose = form.fields.purpose ?? 'fine-tune';
    if (!PURPOSES.has(purpose)) return mistralError(422, `Input should be 'fine-tune', 'batch' or 'ocr': ${purpose}`);
    const sampleType = purpose === 'batch' ? 'batch_request' : 'instruct';
    return { status: 200, json: fileWire(addFile(part.filename, purpose, part.data, sampleType, 'upload')) };
  }

  function createJob(req: SimRequest): SimReply {
    const body = (req.json ?? {}) as Json;
    const inputFiles = body.input_files;
    if (!Array.isArray(inputFiles) || inputFiles.length === 0 || !inputFiles.every((id) => typeof id === 'string')) return mistralError(422, 'input_files: a non-empty list of file ids is required');
    if (typeof body.endpoint !== 'string' || !ENDPOINTS.has(body.endpoint)) return mistralError(422, `endpoint: unsupported ${String(body.endpoint)}`);
    if (typeof body.model !== 'string' || body.model === '') return mistralError(422, 'model or agent_id is required');
    for (const id of inputFiles as string[]) {
      const file = files.get(id);
      if (!file) return mistralError(404, `File ${id} not found`);
      if (file.purpose !== 'batch') return mistralError(400, `File ${id} is not a batch file`);
    }
    const metadata = body.metadata;
    if (metadata !== undefined && metadata !== null && (typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string'))) return mistralError(422, 'metadata: values must be strings');
    const total = (inputFiles as string[]).reduce((n, id) => n + lineCount(files.get(id)!.content), 0);
    const job: MistralJob = {
      id: uuid(),
      object: 'batch',
      input_files: inputFiles as string[],
      metadata: (metadata as Record<string, unknown> | undefined) ?? null,
      endpoint: body.endpoint,
      model: body.model,
      agent_id: null,
      output_file: null,
      error_file: null,
      errors: [],
      status: 'QUEUED',
      created_at: now(),
      total_requests: total,
      completed_requests: 0,
      succeeded_requests: 0,
      failed_requests: 0,
      started_at: null,
      completed_at: null,
    };
    jobs.set(job.id, job);
    return { status: 200, json: job };
  }

  function run(job: MistralJob): void {
    const output: string[] = [];
    const failed: string[] = [];
    for (const id of job.input_files) {
      for (const text of (files.get(id)?.content.toString('utf8') ?? '').split('\n')) {
        if (text.trim() === '') continue;
        let line: Json;
        try {
          line = JSON.parse(text) as Json;
        } catch {
          failed.push(JSON.stringify({ id: `batch-${randomHex(8)}`, custom_id: null, response: { status_code: 400, body: { object: 'error', message: 'Invalid JSON line' } }, error: null }));
          continue;
        }
        const body = (typeof line.body === 'object' && line.body !== null ? line.body : {}) as Json;
        const result = chatCompletion({ ...body, model: job.model }, ctx);
        const row = { id: `batch-${randomHex(8)}`, custom_id: line.custom_id ?? null, response: { status_code: result.status, body: result.body }, error: null };
        (result.status === 200 ? output : failed).push(JSON.stringify(row));
      }
    }
    job.succeeded_requests = output.length;
    job.failed_requests = failed.length;
    job.completed_requests = output.length + failed.length;
    if (failed.length > 0) job.errors = [{ message: 'Some requests failed', count: failed.length }];
    job.output_file = addFile(`${job.id}.jsonl`, 'batch', Buffer.from(output.map((l) => `${l}\n`).join('')), 'batch_result', 'mistral').id;
    if (failed.length > 0) job.error_file = addFile(`${job.id}_error.jsonl`, 'batch', Buffer.from(failed.map((l) => `${l}\n`).join('')), 'batch_error', 'mistral').id;
    job.status = 'SUCCESS';
    job.completed_at = now();
  }

  async function advanceBatches(): Promise<void> {
    for (const job of jobs.values()) {
      if (job.status === 'QUEUED') {
        job.status = 'RUNNING';
        job.started_at = now();
      } else if (job.status === 'RUNNING') run(job);
      else if (job.status === 'CANCELLATION_REQUESTED') {
        job.status = 'CANCELLED';
        job.completed_at = now();
      }
    }
  }

  const listOf = <T>(data: T[]) => ({ data, object: 'list', total: data.length });

  const server = await startSimulatorServer({
    routes: [
      { method: 'POST', path: /^\/v1\/files$/, handle: upload },
      { method: 'GET', path: /^\/v1\/files$/, handle: () => ({ status: 200, json: listOf([...files.values()].reverse().map(fileWire)) }) },
      {
        method: 'GET',
        path: /^\/v1\/files\/([^/]+)$/,
        handle: (_req, [id]) => {
          const file = files.get(id);
          return file ? { status: 200, json: fileWire(file) } : mistralError(404, 'File not found');
        },
      },
      {
        method: 'GET',
        path: /^\/v1\/files\/([^/]+)\/content$/,
        handle: (_req, [id]) => {
          const file = files.get(id);
          return file ? { status: 200, raw: file.content, headers: { 'content-type': 'application/octet-stream' } } : mistralError(404, 'File not found');
        },
      },
      {
        method: 'DELETE',
        path: /^\/v1\/files\/([^/]+)$/,
        handle: (_req, [id]) => (files.delete(id) ? { status: 200, json: { id, object: 'file', deleted: true } } : mistralError(404, 'File not found')),
      },
      { method: 'POST', path: /^\/v1\/batch\/jobs$/, handle: createJob },
      { method: 'GET', path: /^\/v1\/batch\/jobs$/, handle: () => ({ status: 200, json: listOf([...jobs.values()].reverse()) }) },
      {
        method: 'GET',
        path: /^\/v1\/batch\/jobs\/([^/]+)$/,
        handle: (_req, [id]) => {
          const job = jobs.get(id);
          return job ? { status: 200, json: job } : mistralError(404, 'Batch job not found');
        },
      },
      {
        method: 'POST',
        path: /^\/v1\/batch\/jobs\/([^/]+)\/cancel$/,
        handle: (_req, [id]) => {
          const job = jobs.get(id);
          if (!job) return mistralError(404, 'Batch job not found');
          if (job.status === 'QUEUED' || job.status === 'RUNNING') job.status = 'CANCELLATION_REQUESTED';
          return { status: 200, json: job };
        },
      },
      chatCompletionsRoute(ctx),
    ],
    notFound: () => mistralError(404, 'Not found'),
    authenticate: (req) => {
      return bearerToken(req) === apiKey ? null : { status: 401, json: { message: 'Unauthorized', request_id: randomHex(32) } };
    },
    failureBody: (status) => ({ object: 'error', message: `Simulated failure ${status}`, type: status >= 500 ? 'internal_server_error' : 'invalid_request_error', param: null, code: String(status) }),
    responseHeaders: () => ({ 'x-request-id': randomHex(32) }),
  });
  const stopStepping = everyStep(options.batchStepMs, advanceBatches);

  return {
    url: `${server.origin}/v1`,
    origin: server.origin,
    requests: server.requests,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    advanceBatches,
    files,
    jobs,
    async close() {
      stopStepping();
      await server.close();
    },
  };
}
