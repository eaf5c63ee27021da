/**
 * Vertex AI batch prediction jobs for Google's Gemini models and Anthropic's Claude models
 * (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.batchPredictionJobs,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/batch;
 * docs/specs/vertex-ai.md §Batch prediction): create / get / list / cancel under
 * `/v1/projects/{p}/locations/{l}/batchPredictionJobs`, the job's `model` either
 * `publishers/google/models/{m}` or `publishers/anthropic/models/{m}`.
 *
 * A job reads its JSONL input from the simulated Cloud Storage and writes `predictions.jsonl`
 * into a new directory under its output prefix, one row per input line, as the model's
 * publisher has it: Gemini's (`{"request": GenerateContentRequest}` lines ->
 * `{"status": "", "processed_time", "request", "response"}`, or a failure in `status`) or
 * Claude's (vertex/claude-batch-rows.ts). A job ENDS ON THE SECOND `advance()`: PENDING -> RUNNING -> SUCCEEDED (or FAILED when
 * its input cannot be read). Cancel is asynchronous: CANCELLING, then CANCELLED on the next
 * `advance()`. `expire(id)` ends a live job EXPIRED. No output is written for a job that did not run.
 *
 * The quota of concurrent jobs (`jobQuota`, unlimited unless set): Vertex AI caps the batch
 * prediction jobs a project runs at once (Claude's partner models: 4 per project; Gemini has its
 * own) and refuses a create over it with Google's quota error, HTTP 429
 * `{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED", "message"}}`
 * (https://cloud.google.com/vertex-ai/docs/quotas, https://cloud.google.com/apis/design/errors).
 * Live jobs (not yet ended) count against it. A list takes AIP-160's `filter` on `display_name`
 * (`display_name="name"`), as the REST reference documents for `batchPredictionJobs.list`.
 */
import { randomInt } from 'node:crypto';
import type { SimReply, SimRequest, SimRoute } from '../common/simulator-server.ts';
import { googleError } from '../gemini/errors.ts';
import type { MessageContext } from '../anthropic/messages.ts';
import { generate, isRecord, type GenerateContext } from '../gemini/generate.ts';
import { reasonPhrase, type BatchRow } from './batch-rows.ts';
import { claudeBatchRow } from './claude-batch-rows.ts';
import type { CloudStorage } from './cloud-storage.ts';

type Json = Record<string, unknown>;

export interface SimulatedJob {
  project: string;
  location: string;
  id: string;
  resource: Json;
}

const TERMINAL = new Set(['JOB_STATE_SUCCEEDED', 'JOB_STATE_FAILED', 'JOB_STATE_CANCELLED', 'JOB_STATE_EXPIRED', 'JOB_STATE_PARTIALLY_SUCCEEDED']);

export class BatchJobStore {
  readonly jobs = new Map<string, SimulatedJob>();
  /** The most live jobs a project may have at once; creates over it are answered 429. */
  jobQuota: number | undefined;
  /** Creates refused for the quota (`jobQuota`, or `refusing`). */
  quotaRefusals = 0;
  /** The next creates to refuse with 429 RESOURCE_EXHAUSTED whatever runs (another caller's use of the project's quota). */
  refusing = 0;
  readonly #storage: CloudStorage;
  readonly #models: { gemini: GenerateContext; claude: MessageContext };

  constructor(storage: CloudStorage, models: { gemini: GenerateContext; claude: MessageContext }) {
    this.#storage = storage;
    this.#models = models;
  }

  routes(checkProject: (project: string) => SimReply | null): SimRoute[] {
    const base = '^\\/v1\\/projects\\/([^/]+)\\/locations\\/([^/]+)\\/batchPredictionJobs';
    return [
      { method: 'POST', path: new RegExp(`${base}$`), handle: (req, [p, l]) => checkProject(p) ?? this.#create(req, p, l) },
      { method: 'GET', path: new RegExp(`${base}$`), handle: (req, [p, l]) => checkProject(p) ?? this.#list(req, p, l) },
      { method: 'GET', path: new RegExp(`${base}\\/([0-9]+)$`), handle: (_req, [p, l, id]) => checkProject(p) ?? this.#get(p, l, id) },
      { method: 'POST', path: new RegExp(`${base}\\/([0-9]+):cancel$`), handle: (_req, [p, l, id]) => checkProject(p) ?? this.#cancel(p, l, id) },
    ];
  }

  advance(): void {
    for (const job of this.jobs.values()) {
      const state = job.resource.state;
      if (state === 'JOB_STATE_PENDING') this.#update(job, { state: 'JOB_STATE_RUNNING', startTime: now() });
      else if (state === 'JOB_STATE_RUNNING') this.#run(job);
      else if (state === 'JOB_STATE_CANCELLING') this.#update(job, { state: 'JOB_STATE_CANCELLED', endTime: now(), error: { code: 1, message: 'CANCELED' } });
    }
  }

  expire(id: string): void {
    const job = [...this.jobs.values()].find((j) => j.id === id);
    if (job === undefined || TERMINAL.has(String(job.resource.state))) return;
    this.#update(job, { state: 'JOB_STATE_EXPIRED', endTime: now() });
  }

  #key(project: string, location: string, id: string): string {
    return `${project}/${location}/${id}`;
  }

  #update(job: SimulatedJob, changes: Json): void {
    Object.assign(job.resource, changes, { updateTime: now() });
  }

  #create(req: SimRequest, project: string, location: string): SimReply {
    const body = req.json;
    if (req.jsonError || !isRecord(body)) return googleError(400, 'Invalid JSON payload received.');
    if (typeof body.displayName !== 'string' || body.displayName === '') return googleError(400, 'List of found errors:\t1.Field: batch_prediction_job.display_name; Message: Required field is not set.');
    if (typeof body.model !== 'string' || !/^(projects\/[^/]+\/locations\/[^/]+\/)?publishers\/(google|anthropic)\/models\/[^/]+$/.test(body.model)) {
      return googleError(400, `Invalid model name: ${String(body.model)}`);
    }
    const input = isRecord(body.inputConfig) ? body.inputConfig : {};
    const uris = isRecord(input.gcsSource) && Array.isArray(input.gcsSource.uris) ? input.gcsSource.uris : [];
    if (input.instancesFormat !== 'jsonl' || uris.length !== 1 || typeof uris[0] !== 'string' || !uris[0].startsWith('gs://')) {
      return googleError(400, 'Batch prediction takes one JSONL gcsSource uri (instancesFormat "jsonl").');
    }
    const output = isRecord(body.outputConfig) ? body.outputConfig : {};
    const prefix = isRecord(output.gcsDestination) ? output.gcsDestination.outputUriPrefix : undefined;
    if (output.predictionsFormat !== 'jsonl' || typeof prefix !== 'string' || !prefix.startsWith('gs://')) {
      return googleError(400, 'Batch prediction to Cloud Storage takes predictionsFormat "jsonl" and a gs:// outputUriPrefix.');
    }
    const live = [...this.jobs.values()].filter((j) => j.project === project && !TERMINAL.has(String(j.resource.state))).length;
    if (this.refusing > 0) {
      this.refusing -= 1;
      this.quotaRefusals += 1;
      return googleError(429, `Quota exceeded for aiplatform.googleapis.com/concurrent_batch_prediction_jobs with base model: ${String(body.model).split('/').at(-1)}. Please try again later.`);
    }
    if (this.jobQuota !== undefined && live >= this.jobQuota) {
      this.quotaRefusals += 1;
      return googleError(429, `Quota exceeded for aiplatform.googleapis.com/concurrent_batch_prediction_jobs with base model: ${String(body.model).split('/').at(-1)}. The project has ${live} running batch prediction jobs; the limit is ${this.jobQuota}.`);
    }
    const id = String(randomInt(1, 2 ** 47)) + String(randomInt(100000, 999999));
    const created = now();
    const resource: Json = {
      name: `projects/${project}/locations/${location}/batchPredictionJobs/${id}`,
      displayName: body.displayName,
      model: body.model,
      inputConfig: body.inputConfig,
      outputConfig: body.outputConfig,
      state: 'JOB_STATE_PENDING',
      createTime: created,
      updateTime: created,
      ...(isRecord(body.labels) && { labels: body.labels }),
    };
    const job: SimulatedJob = { project, location, id, resource };
    this.jobs.set(this.#key(project, location, id), job);
    return { status: 200, json: resource };
  }

  #get(project: string, location: string, id: string): SimReply {
    const job = this.jobs.get(this.#key(project, location, id));
    if (job === undefined) return googleError(404, `The BatchPredictionJob does not exist.`);
    return { status: 200, json: job.resource };
  }

  #list(req: SimRequest, project: string, location: string): SimReply {
    let named: string | undefined;
    if (req.query.filter !== undefined && req.query.filter !== '') {
      const match = /^\s*display_?[nN]ame\s*=\s*"([^"]*)"\s*$/.exec(req.query.filter);
      if (match === null) return googleError(400, `Unsupported filter: ${req.query.filter}`);
      named = match[1];
    }
    const all = [...this.jobs.values()].filter((j) => j.project === project && j.location === location && (named === undefined || j.resource.displayName === named)).reverse();
    const size = Math.min(Number(req.query.pageSize ?? 100) || 100, 100);
    const start = req.query.pageToken ? Number(Buffer.from(req.query.pageToken, 'base64url').toString('utf8')) : 0;
    const body: Json = { batchPredictionJobs: all.slice(start, start + size).map((j) => j.resource) };
    if (start + size < all.length) body.nextPageToken = Buffer.from(String(start + size)).toString('base64url');
    return { status: 200, json: body };
  }

  #cancel(project: string, location: string, id: string): SimReply {
    const job = this.jobs.get(this.#key(project, location, id));
    if (job === undefined) return googleError(404, 'The BatchPredictionJob does not exist.');
    if (TERMINAL.has(String(job.resource.state))) return googleError(400, `The BatchPredictionJob is in state ${String(job.resource.state)} and cannot be cancelled.`);
    this.#update(job, { state: 'JOB_STATE_CANCELLING' });
    return { status: 200, json: {} };
  }

  #run(job: SimulatedJob): void {
    const model = String(job.resource.model).split('/').at(-1)!;
    const uri = String(((job.resource.inputConfig as Json).gcsSource as Json & { uris: string[] }).uris[0]);
    const source = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri);
    const input = source === null ? undefined : this.#storage.get(source[1], source[2]);
    if (input === undefined) {
      this.#update(job, { state: 'JOB_STATE_FAILED', endTime: now(), error: { code: 5, message: `Failed to read the input file ${uri}: not found.` } });
      return;
    }
    const claude = /\/publishers\/anthropic\/models\//.test(`/${String(job.resource.model)}`);
    const lines: string[] = [];
    let succeeded = 0;
    let failed = 0;
    for (const text of input.bytes.toString('utf8').split('\n')) {
      if (text.trim() === '') continue;
      const row = claude ? claudeBatchRow(text, model, this.#models.claude) : this.#geminiRow(text, model);
      if (row.succeeded) succeeded += 1;
      else failed += 1;
      lines.push(JSON.stringify(row.row));
    }
    const prefix = /^gs:\/\/([^/]+)\/?(.*)$/.exec(String(((job.resource.outputConfig as Json).gcsDestination as Json).outputUriPrefix))!;
    const directory = `${prefix[2].replace(/\/+$/, '')}/prediction-model-${new Date().toISOString()}`;
    this.#storage.put(prefix[1], `${directory}/predictions.jsonl`, Buffer.from(lines.map((l) => `${l}\n`).join('')), 'application/jsonl');
    this.#update(job, {
      state: 'JOB_STATE_SUCCEEDED',
      endTime: now(),
      outputInfo: { gcsOutputDirectory: `gs://${prefix[1]}/${directory}` },
      completionStats: { successfulCount: String(succeeded), failedCount: String(failed), incompleteCount: '0' },
    });
  }

  /** `{"request": GenerateContentRequest}` -> `{status, processed_time, request, response}`, or the failure in `status`. */
  #geminiRow(text: string, model: string): BatchRow {
    let line: unknown;
    try {
      line = JSON.parse(text);
    } catch {
      return { succeeded: false, row: { status: 'Bad Request: the line is not JSON.', processed_time: now(), request: text } };
    }
    const request = isRecord(line) && isRecord(line.request) ? line.request : {};
    const outcome = generate(model, request, this.#models.gemini);
    if ('response' in outcome) return { succeeded: true, row: { status: '', processed_time: now(), request, response: outcome.response } };
    return { succeeded: false, row: { status: `${reasonPhrase(Number(outcome.error.code))}: ${JSON.stringify({ error: outcome.error })}`, processed_time: now(), request } };
  }
}

function now(): string {
  return new Date().toISOString();
}
