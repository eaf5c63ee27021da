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
import { TERMINAL_BATCH_STATUSES, type BatchOutputLine } from '../../spec/openai-objects.ts';
import type { BatchCreateInput, BatchLineSource, BatchStagingContext, CallOptions, InlineBatchResult, ProviderBatch, StagedBatchPart, StagedBatchesCapability, StagedPartContext, TranslationWarning } from '../../spec/provider.ts';
import { cutIntoParts, linesOfRange } from '../batching/line-parts.ts';
import { unixSecondsOf } from '../gemini/batch-status.ts';
import { isRecord } from '../gemini/json.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { MAX_INPUT_BYTES, MAX_REQUESTS_PER_JOB, stageBatchInput } from './batch-input.ts';
import type { VertexBatchFamily } from './batch-family.ts';
import { jobIdOf, mapJobState, toProviderBatch, type VertexBatchPredictionJob } from './batch-job.ts';
import { isResultFile, parseOutputFile } from './batch-output.ts';
import { deleteObject, downloadObject, gcsUri, listObjects, parseGcsUri, uploadObject } from './cloud-storage.ts';
import { readVertexJson, sendVertexRequest, type VertexEndpoint } from './http-client.ts';
import { firstRefusal, isCreateRefusal, parseQueuedCreateId, queuedCreateLooks, settleQueuedCreate, type QueuedCreate, type QueuedCreateSteps } from '../batching/queued-creates.ts';

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

    async create(part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource; expiresAt: number }, call?: CallOptions): Promise<ProviderBatch> {
      checkCompletionWindow(input.completionWindow);
      try {
        return toProviderBatch(await createJob(part.location, call));
      } catch (error) {
        // Over the project's quota of running jobs: the part waits, staged, and its job is created later (`queued-creates.ts`).
        if (!isCreateRefusal(error)) throw error;
        return { ...firstRefusal(part.location, error, input.expiresAt), warnings: [QUEUED_WARNING] };
      }
    },

    discard: discardPart,

    ...queuedCreateLooks({ upstreamName: 'Vertex AI', steps: queuedSteps, toBatch: toProviderBatch, retrieve: retrieve, cancel: cancelJob }),

    async *results(providerBatchId: string, call?: CallOptions, part?: StagedPartContext): AsyncGenerator<BatchOutputLine> {
      for await (const result of resultsOf(providerBatchId, call, part)) yield batchOutputLineOf(result);
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

  /** How a queued part is looked at, created and cancelled: a part whose folder holds the cancel marker is never created. */
  function queuedSteps(queued: QueuedCreate, call: CallOptions | undefined): QueuedCreateSteps<VertexBatchPredictionJob> {
    const staged = stagedInput(queued.location);
    const marker = `${staged.folder}/${CANCELLED_MARKER}`;
    const objectOptions = { signal: call?.signal, requestId: call?.requestId };
    return {
      find: (known) => (known !== undefined ? retrieve(known, call) : findJob(queued.location, call)),
      idOf: (job) => jobIdOf(job),
      cancelled: async () => {
        for await (const object of listObjects(options.storage, staged.bucket, marker, objectOptions)) if (object.name === marker) return true;
        return false;
      },
      markCancelled: async () => {
        const bytes = new TextEncoder().encode('Cancelled before its batch prediction job was created.\n');
        await uploadObject(options.storage, { bucket: staged.bucket, name: marker, contentType: 'text/plain', bytes: bytes.length, chunks: async function* () { yield bytes; }, ...objectOptions });
      },
      create: () => createJob(queued.location, call),
      cancelCreated: (job) => (TERMINAL_BATCH_STATUSES.has(mapJobState(job.state)) ? Promise.resolve(job) : cancelJob(jobIdOf(job), call)),
    };
  }

  /** Asks Vertex AI to cancel the job; answers the job as it is afterwards (cancelling works asynchronously). */
  async function cancelJob(jobId: string, call: CallOptions | undefined): Promise<VertexBatchPredictionJob> {
    const response = await sendVertexRequest(endpoint, { method: 'POST', target: `${jobPath(jobId)}:cancel`, what: 'batch cancel', body: '{}', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    await response.body.dump();
    return retrieve(jobId, call);
  }

  /**
   * A part's results: its job's, the requests it answered. Those a cancelled or expired job never
   * ran (and a queued part never created) are answered by the staged executor from Portico's input.
   */
  async function* resultsOf(providerBatchId: string, call: CallOptions | undefined, part: StagedPartContext | undefined): AsyncGenerator<InlineBatchResult> {
    const queued = parseQueuedCreateId(providerBatchId);
    if (queued === null) {
      yield* jobResultsOf(providerBatchId, call);
      return;
    }
    const settled = await settleQueuedCreate(queued, queuedSteps(queued, call), { part, upstreamName: 'Vertex AI', create: false });
    if (settled.created !== undefined) yield* jobResultsOf(jobIdOf(settled.created), call);
    else if (settled.status === 'validating') throw new ConflictError(`The Vertex AI batch part staged at ${queued.location} has not ended; its results are not available yet.`);
  }

  /** The job's results: every row its output holds, each key once. */
  async function* jobResultsOf(providerBatchId: string, call?: CallOptions): AsyncGenerator<InlineBatchResult> {
    const job = await retrieve(providerBatchId, call);
    const status = mapJobState(job.state);
    if (!TERMINAL_BATCH_STATUSES.has(status)) throw new ConflictError(`Vertex AI batch prediction job ${providerBatchId} has not ended; its results are not available yet.`);
    const translation = { created: unixSecondsOf(job.endTime) ?? Math.floor(Date.now() / 1000), fallbackModel: options.model };
    const objectOptions = { signal: call?.signal, requestId: call?.requestId };
    const answered = new Set<string>();
    const directory = outputDirectoryOf(job);
    if (directory === null) return;
    for await (const object of listObjects(options.storage, directory.bucket, directory.name === '' ? '' : `${directory.name.replace(/\/+$/, '')}/`, objectOptions)) {
      if (!isResultFile(object.name)) continue;
      const body = await downloadObject(options.storage, directory.bucket, object.name, objectOptions);
      for await (const result of parseOutputFile(options.family, body, translation)) {
        // A key found in two result files is answered once.
        if (answered.has(result.customId)) continue;
        answered.add(result.customId);
        yield result;
      }
    }
  }
}

/** A staged part's input object and its folder (`.../portico-batches/<batch>-<part>-<random>`). */
function stagedInput(location: string): { bucket: string; name: string; folder: string } {
  const staged = parseGcsUri(location);
  if (staged === null) throw new Error(`Vertex AI batch part staged at '${location}', not a gs:// URI`);
  return { ...staged, folder: staged.name.replace(/\/input\.jsonl$/, '') };
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
