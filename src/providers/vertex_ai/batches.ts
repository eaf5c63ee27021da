/**
 * Vertex AI batch prediction jobs as Portico's `InlineBatchesCapability`: the lines arrive as
 * OpenAI `BatchRequestInput`s with Portico's surrogate `custom_id`s; this module stages them as a
 * JSONL object in the configured GCS bucket (`batch-input.ts`), creates the job
 * (`batchPredictionJobs.create`, input `gcsSource`, output `gcsDestination` next to it), and reads
 * the results from the job's output directory (`batch-output.ts`).
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage,
 * https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.batchPredictionJobs)
 *
 * Objects are named `<prefix>portico-batches/<uuid>/input.jsonl` and `.../output/...`. An input
 * whose job was refused is deleted; the rest stay in the bucket for its lifecycle rules.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, InvalidRequestError } from '../../spec/errors.ts';
import type { BatchCreateInput, BatchLineSource, CallOptions, InlineBatchResult, InlineBatchesCapability, ProviderBatch } from '../../spec/provider.ts';
import { unixSecondsOf } from '../gemini/batch-status.ts';
import { isRecord } from '../gemini/json.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { MAX_INPUT_BYTES, MAX_REQUESTS_PER_JOB, stageBatchInput } from './batch-input.ts';
import { mapJobState, toProviderBatch, type VertexBatchPredictionJob } from './batch-job.ts';
import { isResultFile, keysOfInputFile, parseOutputFile } from './batch-output.ts';
import { deleteObject, downloadObject, gcsUri, listObjects, parseGcsUri, uploadObject } from './cloud-storage.ts';
import { readVertexJson, sendVertexRequest, type VertexEndpoint } from './http-client.ts';

export interface VertexBatchesOptions {
  /** The Google model id (`gemini-2.5-flash`). */
  model: string;
  /** `/v1/projects/{p}/locations/{l}` */
  locationPath: string;
  staging: { bucket: string; prefix: string };
  /** The Cloud Storage JSON API, with the same token. */
  storage: VertexEndpoint;
}

export function createVertexBatches(endpoint: VertexEndpoint, options: VertexBatchesOptions): InlineBatchesCapability {
  const jobsPath = `${options.locationPath}/batchPredictionJobs`;
  const jobPath = (id: string) => `${jobsPath}/${encodeURIComponent(id)}`;

  async function jobCall(method: 'GET' | 'POST', target: string, what: string, call: CallOptions | undefined, body?: string): Promise<VertexBatchPredictionJob> {
    const response = await sendVertexRequest(endpoint, { method, target, what, body, signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    return jobOf(await readVertexJson(response, endpoint, what), endpoint.deploymentId);
  }
  const retrieve = (id: string, call?: CallOptions) => jobCall('GET', jobPath(id), 'batch retrieve', call);

  return {
    kind: 'inline',
    maxRequestsPerBatch: MAX_REQUESTS_PER_JOB,
    maxBytesPerBatch: MAX_INPUT_BYTES,

    async create(input: BatchCreateInput & { lines: BatchLineSource }, call?: CallOptions): Promise<ProviderBatch> {
      if (input.completionWindow !== '24h') {
        throw new InvalidRequestError(`Vertex AI batches run within a day or so; only '24h' is accepted, not '${input.completionWindow}'.`, { param: 'completion_window' });
      }
      const staged = await stageBatchInput({ endpoint: input.endpoint, lines: input.lines });
      const folder = `${options.staging.prefix}portico-batches/${randomUUID()}`;
      const inputName = `${folder}/input.jsonl`;
      await uploadObject(options.storage, { bucket: options.staging.bucket, name: inputName, contentType: 'application/jsonl', bytes: staged.bytes, chunks: staged.chunks, signal: call?.signal, requestId: call?.requestId });
      const job = {
        displayName: `portico-batch-${folder.slice(folder.lastIndexOf('/') + 1)}`,
        model: `publishers/google/models/${options.model}`,
        inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [gcsUri(options.staging.bucket, inputName)] } },
        outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: gcsUri(options.staging.bucket, `${folder}/output`) } },
      };
      try {
        const created = await jobCall('POST', jobsPath, 'batch create', call, JSON.stringify(job));
        return { ...toProviderBatch(created), warnings: staged.warnings };
      } catch (error) {
        // Nothing half-made is left behind: the input of a job that was refused goes too.
        await deleteObject(options.storage, options.staging.bucket, inputName).catch(() => undefined);
        throw error;
      }
    },

    async retrieve(providerBatchId: string, call?: CallOptions): Promise<ProviderBatch> {
      return toProviderBatch(await retrieve(providerBatchId, call));
    },

    async cancel(providerBatchId: string, call?: CallOptions): Promise<ProviderBatch> {
      const response = await sendVertexRequest(endpoint, { method: 'POST', target: `${jobPath(providerBatchId)}:cancel`, what: 'batch cancel', body: '{}', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
      await response.body.dump();
      const batch = toProviderBatch(await retrieve(providerBatchId, call));
      // Cancel answers `{}` and works asynchronously: a job that has not caught up yet is cancelling.
      return batch.status === 'validating' || batch.status === 'in_progress' ? { ...batch, status: 'cancelling' } : batch;
    },

    async *results(providerBatchId: string, call?: CallOptions): AsyncGenerator<InlineBatchResult> {
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
          for await (const result of parseOutputFile(body, translation)) {
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
      for await (const key of keysOfInputFile(body)) if (!answered.has(key)) yield { customId: key, outcome };
    },
  };
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
