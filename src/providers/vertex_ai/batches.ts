/**
 * Vertex AI batch prediction jobs as Portico's `StagedBatchesCapability`: the lines arrive as
 * OpenAI `BatchRequestInput`s with Portico's surrogate `custom_id`s; `stage` cuts them into parts
 * under a job's limits and uploads each as a JSONL object to the configured GCS bucket
 * (`batch-input.ts`); `create` starts one job per part (`batchPredictionJobs.create`, input
 * `gcsSource`, output `gcsDestination` next to it); results are read from the job's output
 * directory (`batch-output.ts`). The same for Google's Gemini models and Anthropic's Claude
 * models: the model family (`batch-family.ts`) writes the input lines and reads the output rows.
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/batch,
 * https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.batchPredictionJobs)
 *
 * Objects are named `<prefix>portico-batches/<batch id>-<part>-<random>/input.jsonl` and
 * `.../output/...`. An input whose job was refused (or never created) is deleted (`discard`); the
 * rest stay in the bucket for its lifecycle rules. A create refused for the project's quota of
 * running jobs (429 RESOURCE_EXHAUSTED) is not a refusal: the part waits under a queued id and its
 * job is created on a later look, once a slot is free (`../batching/queued-creates.ts`); jobs are found again by
 * their display name, which names the part.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidRequestError } from '../../spec/errors.ts';
import { batchOutputLineOf } from '../../spec/batch-result-lines.ts';
import type { BatchErrorItem, BatchOutputLine } from '../../spec/openai-objects.ts';
import type { BatchCreateInput, BatchLineSource, BatchStagingContext, CallOptions, InlineBatchResult, ProviderBatch, StagedBatchPart, StagedBatchesCapability, TranslationWarning } from '../../spec/provider.ts';
import { cutIntoParts, linesOfRange } from '../batching/line-parts.ts';
import { unixSecondsOf } from '../gemini/batch-status.ts';
import { isRecord } from '../gemini/json.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { MAX_INPUT_BYTES, MAX_REQUESTS_PER_JOB, stageBatchInput } from './batch-input.ts';
import type { VertexBatchFamily } from './batch-family.ts';
import { jobIdOf, mapJobState, toProviderBatch, type VertexBatchPredictionJob } from './batch-job.ts';
import { isResultFile, keysOfInputFile, parseOutputFile } from './batch-output.ts';
import { deleteObject, downloadObject, gcsUri, listObjects, parseGcsUri, uploadObject } from './cloud-storage.ts';
import { readVertexJson, sendVertexRequest, type VertexEndpoint } from './http-client.ts';
import { isCreateRefusal, parseQueuedCreateId, QueuedCreates, queuedBatch, settleQueuedCreate, type QueuedCreate } from '../batching/queued-creates.ts';

export interface VertexBatchesOptions {
  /** The model id as Vertex names it (`gemini-2.5-flash`, `claude-sonnet-4@20250514`). */
  model: string;
  /** How the model's family writes input lines and reads output rows. */
  family: VertexBatchFamily;
  /** `/v1/projects/{p}/locations/{l}` */
  locationPath: string;
  staging: { bucket: string; prefix: string };
  /** The Cloud Storage JSON API, with the same token. */
  storage: VertexEndpoint;
}

/** A part's JSONL grows a little in translation: parts are cut at this share of the input limit. */
const BYTE_MARGIN = 0.75;

/** The object, in the part's folder, that says the part was cancelled before its job was created. */
export const CANCELLED_MARKER = 'cancelled-before-job';

export const QUEUED_WARNING: TranslationWarning = Object.freeze({
  param: 'input_file_id',
  message: "Vertex AI refused the batch prediction job create for its quota of concurrent batch prediction jobs (429 RESOURCE_EXHAUSTED): the job is created once a running one ends.",
});

export function createVertexBatches(endpoint: VertexEndpoint, options: VertexBatchesOptions): StagedBatchesCapability {
  const jobsPath = `${options.locationPath}/batchPredictionJobs`;
  const jobPath = (id: string) => `${jobsPath}/${encodeURIComponent(id)}`;

  async function jobCall(method: 'GET' | 'POST', target: string, what: string, call: CallOptions | undefined, body?: string): Promise<VertexBatchPredictionJob> {
    const response = await sendVertexRequest(endpoint, { method, target, what, body, signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    return jobOf(await readVertexJson(response, endpoint, what), endpoint.deploymentId);
  }
  const retrieve = (id: string, call?: CallOptions) => jobCall('GET', jobPath(id), 'batch retrieve', call);
  const tries = new QueuedCreates();

  async function discardPart(part: StagedBatchPart, call?: CallOptions): Promise<void> {
    const staged = parseGcsUri(part.location);
    if (staged !== null) await deleteObject(options.storage, staged.bucket, staged.name, { signal: call?.signal, requestId: call?.requestId });
  }

  return {
    kind: 'staged',

    async stage(lines: BatchLineSource, context: BatchStagingContext, call?: CallOptions): Promise<StagedBatchPart[]> {
      checkCompletionWindow(context.completionWindow);
      const ranges = await cutIntoParts(lines, { maxRequests: MAX_REQUESTS_PER_JOB, maxBytes: MAX_INPUT_BYTES * BYTE_MARGIN });
      const parts: StagedBatchPart[] = [];
      try {
        for (const [index, range] of ranges.entries()) {
          const staged = await stageBatchInput(options.family, { endpoint: context.endpoint, lines: linesOfRange(lines, range) });
          const name = `${options.staging.prefix}portico-batches/${context.batchId}-${index}-${randomUUID().slice(0, 8)}/input.jsonl`;
          await uploadObject(options.storage, { bucket: options.staging.bucket, name, contentType: 'application/jsonl', bytes: staged.bytes, chunks: staged.chunks, signal: call?.signal, requestId: call?.requestId });
          parts.push({ location: gcsUri(options.staging.bucket, name), ...range, warnings: staged.warnings });
        }
      } catch (error) {
        // Nothing half-staged is left behind.
        await Promise.allSettled(parts.map((part) => discardPart(part)));
        throw error;
      }
      return parts;
    },

    async create(part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource }, call?: CallOptions): Promise<ProviderBatch> {
      checkCompletionWindow(input.completionWindow);
      try {
        return toProviderBatch(await createJob(part.location, call));
      } catch (error) {
        // Over the project's quota of running jobs: the part waits, staged, and its job is created later (`queued-creates.ts`).
        if (!isCreateRefusal(error)) throw error;
        const waiting = { location: part.location, queuedAt: nowSeconds() };
        const queued = queuedBatch(waiting, 'validating', nowSeconds());
        tries.refused(waiting, error);
        return { ...queued, warnings: [QUEUED_WARNING] };
      }
    },

    discard: discardPart,

    async retrieve(providerBatchId: string, call?: CallOptions): Promise<ProviderBatch> {
      const queued = parseQueuedCreateId(providerBatchId);
      if (queued === null) return toProviderBatch(await retrieve(providerBatchId, call));
      const settled = await settleQueued(queued, call, { create: true });
      if (settled.job !== undefined) return toProviderBatch(settled.job);
      return queuedBatch(queued, settled.status, nowSeconds(), settled.errors ?? null);
    },

    async cancel(providerBatchId: string, call?: CallOptions): Promise<ProviderBatch> {
      const queued = parseQueuedCreateId(providerBatchId);
      if (queued === null) return cancelJob(providerBatchId, call);
      const job = await findJob(queued.location, call);
      if (job !== null) return cancelJob(jobIdOf(job), call);
      // No job yet: mark the part so that no later look creates it.
      const staged = stagedInput(queued.location);
      const marker = `${staged.folder}/${CANCELLED_MARKER}`;
      const bytes = new TextEncoder().encode('Cancelled before its batch prediction job was created.\n');
      await uploadObject(options.storage, { bucket: staged.bucket, name: marker, contentType: 'text/plain', bytes: bytes.length, chunks: async function* () { yield bytes; }, signal: call?.signal, requestId: call?.requestId });
      // A create under way elsewhere checks the marker after its create; this looks for its job after the marker: one of them cancels it.
      const late = await findJob(queued.location, call);
      return late === null ? queuedBatch(queued, 'cancelled', nowSeconds()) : cancelJob(jobIdOf(late), call);
    },

    async *results(providerBatchId: string, call?: CallOptions): AsyncGenerator<BatchOutputLine> {
      for await (const result of resultsOf(providerBatchId, call)) yield batchOutputLineOf(result);
    },
  };

  function jobSpecOf(location: string): { displayName: string; body: string } {
    const staged = stagedInput(location);
    const displayName = `portico-batch-${staged.folder.slice(staged.folder.lastIndexOf('/') + 1)}`;
    const job = {
      displayName,
      model: `publishers/${options.family.publisher}/models/${options.model}`,
      inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [location] } },
      outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: gcsUri(staged.bucket, `${staged.folder}/output`) } },
    };
    return { displayName, body: JSON.stringify(job) };
  }

  function createJob(location: string, call: CallOptions | undefined): Promise<VertexBatchPredictionJob> {
    return jobCall('POST', jobsPath, 'batch create', call, jobSpecOf(location).body);
  }

  /** The job of a staged part, found by its display name (`batchPredictionJobs.list`'s `filter`); null when none was created. */
  async function findJob(location: string, call: CallOptions | undefined): Promise<VertexBatchPredictionJob | null> {
    const { displayName } = jobSpecOf(location);
    const query = new URLSearchParams({ filter: `display_name="${displayName}"`, pageSize: '10' });
    const response = await sendVertexRequest(endpoint, { method: 'GET', target: `${jobsPath}?${query}`, what: 'batch list', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    const page = await readVertexJson(response, endpoint, 'batch list');
    const jobs = isRecord(page) && Array.isArray(page.batchPredictionJobs) ? page.batchPredictionJobs : [];
    const found = jobs.find((job) => isRecord(job) && job.displayName === displayName);
    return found === undefined ? null : jobOf(found, endpoint.deploymentId);
  }

  /**
   * Where a queued part stands: its job when there is one (created now if `create`, its backoff
   * has passed and a slot is free), else waiting, cancelled before its job, or expired waiting.
   */
  async function settleQueued(queued: QueuedCreate, call: CallOptions | undefined, mode: { create: boolean }): Promise<{ job: VertexBatchPredictionJob; status?: undefined; errors?: undefined } | { job?: undefined; status: 'validating' | 'cancelled' | 'expired'; errors?: BatchErrorItem[] }> {
    let createdNow = false;
    const settled = await settleQueuedCreate(
      queued,
      {
        find: () => findJob(queued.location, call),
        cancelled: () => cancelMarked(queued.location, call),
        create: async () => {
          const job = await createJob(queued.location, call);
          createdNow = true;
          return job;
        },
      },
      { tries, upstreamName: 'Vertex AI', create: mode.create, nowSeconds: nowSeconds() },
    );
    if (settled.created === undefined) return { status: settled.status, errors: settled.status === 'expired' ? settled.errors : undefined };
    const created = settled.created;
    // A cancel that found no job while this create was under way marked the part: the new job is cancelled too.
    if (!createdNow || !(await cancelMarked(queued.location, call))) return { job: created };
    await cancelJob(jobIdOf(created), call);
    return { job: await retrieve(jobIdOf(created), call) };
  }

  async function cancelMarked(location: string, call: CallOptions | undefined): Promise<boolean> {
    const staged = stagedInput(location);
    const marker = `${staged.folder}/${CANCELLED_MARKER}`;
    for await (const object of listObjects(options.storage, staged.bucket, marker, { signal: call?.signal, requestId: call?.requestId })) {
      if (object.name === marker) return true;
    }
    return false;
  }

  async function cancelJob(jobId: string, call: CallOptions | undefined): Promise<ProviderBatch> {
    const response = await sendVertexRequest(endpoint, { method: 'POST', target: `${jobPath(jobId)}:cancel`, what: 'batch cancel', body: '{}', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    await response.body.dump();
    const batch = toProviderBatch(await retrieve(jobId, call));
    // Cancel answers `{}` and works asynchronously: a job that has not caught up yet is cancelling.
    return batch.status === 'validating' || batch.status === 'in_progress' ? { ...batch, status: 'cancelling' } : batch;
  }

  /** A queued part's results: its job's, or one cancelled / expired line per request of its input when it never had a job. */
  async function* resultsOf(providerBatchId: string, call?: CallOptions): AsyncGenerator<InlineBatchResult> {
    const queued = parseQueuedCreateId(providerBatchId);
    if (queued === null) {
      yield* jobResultsOf(providerBatchId, call);
      return;
    }
    const settled = await settleQueued(queued, call, { create: false });
    if (settled.job !== undefined) {
      yield* jobResultsOf(jobIdOf(settled.job), call);
      return;
    }
    if (settled.status === 'validating') throw new ConflictError(`The Vertex AI batch part staged at ${queued.location} has not ended; its results are not available yet.`);
    const outcome = settled.status === 'cancelled' ? ({ type: 'cancelled' } as const) : ({ type: 'expired' } as const);
    const staged = stagedInput(queued.location);
    const body = await downloadObject(options.storage, staged.bucket, staged.name, { signal: call?.signal, requestId: call?.requestId });
    for await (const key of keysOfInputFile(options.family, body)) yield { customId: key, outcome };
  }

  /** The job's results by outcome; every request of a cancelled or expired job answered. */
  async function* jobResultsOf(providerBatchId: string, call?: CallOptions): AsyncGenerator<InlineBatchResult> {
    const job = await retrieve(providerBatchId, call);
    const status = mapJobState(job.state);
    if (status !== 'completed' && status !== 'failed' && status !== 'cancelled' && status !== 'expired') {
      throw new ConflictError(`Vertex AI batch prediction job ${providerBatchId} has not ended; its results are not available yet.`);
    }
    const translation = { created: unixSecondsOf(job.endTime) ?? Math.floor(Date.now() / 1000), fallbackModel: options.model };
    const objectOptions = { signal: call?.signal, requestId: call?.requestId };
    const answered = new Set<string>();
    const directory = outputDirectoryOf(job);
    if (directory !== null) {
      for await (const object of listObjects(options.storage, directory.bucket, directory.name === '' ? '' : `${directory.name.replace(/\/+$/, '')}/`, objectOptions)) {
        if (!isResultFile(object.name)) continue;
        const body = await downloadObject(options.storage, directory.bucket, object.name, objectOptions);
        for await (const result of parseOutputFile(options.family, body, translation)) {
          if (answered.has(result.customId)) continue;
          answered.add(result.customId);
          yield result;
        }
      }
    }
    // A cancelled or expired job answers for the requests it ran, if any; the others end
    // cancelled / expired, one line each, as OpenAI's error file has them.
    if (status !== 'cancelled' && status !== 'expired') return;
    const outcome = status === 'cancelled' ? ({ type: 'cancelled' } as const) : ({ type: 'expired' } as const);
    const inputUri = job.inputConfig?.gcsSource?.uris?.[0];
    const source = inputUri === undefined ? null : parseGcsUri(inputUri);
    if (source === null) return;
    const body = await downloadObject(options.storage, source.bucket, source.name, objectOptions);
    for await (const key of keysOfInputFile(options.family, body)) if (!answered.has(key)) yield { customId: key, outcome };
  }
}

/** A staged part's input object and its folder (`.../portico-batches/<batch>-<part>-<random>`). */
function stagedInput(location: string): { bucket: string; name: string; folder: string } {
  const staged = parseGcsUri(location);
  if (staged === null) throw new Error(`Vertex AI batch part staged at '${location}', not a gs:// URI`);
  return { ...staged, folder: staged.name.replace(/\/input\.jsonl$/, '') };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function checkCompletionWindow(completionWindow: string): void {
  if (completionWindow !== '24h') {
    throw new InvalidRequestError(`Vertex AI batches run within a day or so; only '24h' is accepted, not '${completionWindow}'.`, { param: 'completion_window' });
  }
}

/** Where the job wrote its output: `outputInfo.gcsOutputDirectory` once it has one. */
function outputDirectoryOf(job: VertexBatchPredictionJob): { bucket: string; name: string } | null {
  const directory = job.outputInfo?.gcsOutputDirectory;
  return typeof directory === 'string' ? parseGcsUri(directory) : null;
}

function jobOf(body: unknown, deploymentId: string): VertexBatchPredictionJob {
  if (!isRecord(body) || typeof body.name !== 'string' || !/batchPredictionJobs\/[^/]+$/.test(body.name)) {
    throw badUpstreamResponse('Vertex AI answered with something that is not a batch prediction job.', { deploymentId, isRetryable: false });
  }
  return body as unknown as VertexBatchPredictionJob;
}
