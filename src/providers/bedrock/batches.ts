/**
 * Bedrock batch inference (model invocation jobs) as Portico's `StagedBatchesCapability`: the
 * lines arrive as OpenAI `BatchRequestInput`s with Portico's surrogate `custom_id`s; `stage`
 * writes them as `{recordId, modelInput}` JSONL parts in the configured S3 bucket
 * (`batch-input.ts`), `create` starts one job per part on the control plane (`CreateModelInvocationJob`, `POST /model-invocation-job`,
 * with the service role `aws_batch_role_arn`), follows it (`GetModelInvocationJob`), stops it
 * (`StopModelInvocationJob`) and reads its `.jsonl.out` (`batch-output.ts`).
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference.html, `docs/specs/bedrock.md` §Batch inference)
 *
 * Objects are `<prefix>portico-batches/<batch id>/part-<first line>.jsonl`, each job's output under
 * `.../part-<first line>-output/`. Jobs need at least `MIN_RECORDS_PER_JOB` records
 * (`minRequestsPerBatch`: smaller batches run on Portico's engine). Claude's records are its
 * native InvokeModel body (Anthropic's); every other chat model's a Converse request, in a job of
 * `modelInvocationType: Converse`.
 *
 * A create refused with ThrottlingException or ServiceQuotaExceededException (the account's
 * quota of jobs, or of creates) is not a failure: the part waits, staged, under a queued id and is
 * created on a later look, with backoff (`../batching/queued-creates.ts`). Creates carry the same
 * `clientRequestToken` on every try, so Bedrock never makes a part's job twice. A waiting part is
 * cancelled by an object next to its input (`<part>.cancelled`) that keeps later looks from creating it;
 * a create that succeeds looks for that marker afterwards and stops the job it made, and a cancel
 * looks for the part's job (by its name) after writing the marker, so a create under way on another
 * instance during the cancel never leaves a job running.
 */
import { ConflictError, InvalidRequestError } from '../../spec/errors.ts';
import type { BatchOutputLine } from '../../spec/openai-objects.ts';
import { batchOutputLineOf } from '../../spec/batch-result-lines.ts';
import type { BatchCreateInput, BatchLineSource, BatchStagingContext, CallOptions, InlineBatchResult, ProviderBatch, StagedBatchesCapability, StagedBatchPart, StagedPartContext, TranslationWarning } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { firstRefusal, isCreateRefusal, parseQueuedCreateId, queuedCreateLooks, settleQueuedCreate, type QueuedCreate, type QueuedCreateSteps } from '../batching/queued-creates.ts';
import { checkBatchInput, MIN_RECORDS_PER_JOB, partInput, partRanges } from './batch-input.ts';
import { isTerminal, jobIdOf, mapJobStatus, toProviderBatch, type ModelInvocationJob } from './batch-job.ts';
import { parseOutputFile } from './batch-output.ts';
import type { AwsCredentialCache } from './credentials.ts';
import { isRecord } from './errors.ts';
import { readBedrockJson, sendBedrockRequest, type BedrockEndpoint } from './http-client.ts';
import { createObjectStaging, parseS3Uri, s3Uri } from './s3-staging.ts';
import type { BedrockBatchSettings, BedrockSettings } from './settings.ts';

export interface BedrockBatchesOptions {
  settings: BedrockSettings;
  modelId: string;
  batch: BedrockBatchSettings;
  runtime: BedrockEndpoint;
  credentials: AwsCredentialCache;
  defaultMaxTokens?: number;
  modifyParams: boolean;
  /** `invoke`: Claude's native body in an InvokeModel job; `converse`: a Converse job (every other chat model). */
  format: 'invoke' | 'converse';
}

/** OpenAI's windows Bedrock can honour: a job's `timeoutDurationInHours` is 24 to 168. */
const WINDOW_HOURS: Readonly<Record<string, number>> = { '24h': 24 };

export const QUEUED_WARNING: TranslationWarning = Object.freeze({
  param: 'input_file_id',
  message: 'Amazon Bedrock refused the batch job create for its quota (ThrottlingException / ServiceQuotaExceededException): the batch waits in validating and the job is created once Bedrock takes it.',
});

export function createBedrockBatches(options: BedrockBatchesOptions): StagedBatchesCapability {
  const control: BedrockEndpoint = { ...options.runtime, origin: options.settings.controlEndpoint, upstreamName: 'Amazon Bedrock' };
  const staging = createObjectStaging(options.batch, options.credentials, options.runtime.deploymentId);
  const modelId = options.modelId;
  const translation = { format: options.format, defaultMaxTokens: options.defaultMaxTokens, modifyParams: options.modifyParams };
  const jobPath = (id: string) => `/model-invocation-job/${encodeURIComponent(id)}`;

  /** The job's name and idempotency token for a staged part: letters, digits and hyphens, the same on every try. */
  function jobNamesOf(location: string): { jobName: string; clientRequestToken: string } {
    const name = `${stagedKey(location).replace(/^.*portico-batches\//, '').replace(/\.jsonl$/, '').replace(/[^a-zA-Z0-9]+/g, '-')}`.slice(0, 120);
    return { jobName: `portico-${name}`.slice(0, 63).replace(/-+$/, ''), clientRequestToken: name.replace(/-/g, '').slice(0, 256) };
  }

  /** Starts the job of a staged part; the same request, idempotency token included, on every try. */
  async function createJob(location: string, hours: number, call: CallOptions | undefined): Promise<ModelInvocationJob> {
    const staged = parseS3Uri(location);
    if (staged === null) throw new Error(`a Bedrock batch part is not staged in S3: ${location}`);
    const job = {
      ...jobNamesOf(location),
      roleArn: options.batch.roleArn,
      modelId,
      timeoutDurationInHours: hours,
      modelInvocationType: options.format === 'converse' ? 'Converse' : 'InvokeModel',
      inputDataConfig: { s3InputDataConfig: { s3Uri: location, s3InputFormat: 'JSONL' } },
      outputDataConfig: {
        s3OutputDataConfig: {
          s3Uri: s3Uri(staged.bucket, `${staged.key.replace(/\.jsonl$/, '')}-output/`),
          ...(options.batch.kmsKeyId !== undefined && { s3EncryptionKeyId: options.batch.kmsKeyId }),
        },
      },
    };
    const response = await sendBedrockRequest(control, { method: 'POST', target: '/model-invocation-job', what: 'batch create', body: JSON.stringify(job), signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    const created = await readBedrockJson(response, control, 'batch create');
    if (!isRecord(created) || typeof created.jobArn !== 'string') throw badUpstreamResponse('Amazon Bedrock answered the batch create without a job ARN.', { deploymentId: control.deploymentId, isRetryable: false });
    const jobArn = created.jobArn;
    return retrieveJob(jobIdOf(jobArn), call).catch(() => ({ jobArn, status: 'Submitted' }));
  }

  /** The job of a staged part, found by its name (`ListModelInvocationJobs`' `nameContains`); null when none was created. */
  async function findJob(location: string, call: CallOptions | undefined): Promise<ModelInvocationJob | null> {
    const { jobName } = jobNamesOf(location);
    const query = new URLSearchParams({ nameContains: jobName, maxResults: '100' });
    const response = await sendBedrockRequest(control, { method: 'GET', target: `/model-invocation-jobs?${query}`, what: 'batch list', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    const page = await readBedrockJson(response, control, 'batch list');
    const jobs = isRecord(page) && Array.isArray(page.invocationJobSummaries) ? page.invocationJobSummaries : [];
    // `nameContains` matches a part of the name: the job is the one of exactly this name.
    const found = jobs.find((job) => isRecord(job) && job.jobName === jobName);
    return found === undefined ? null : jobOf(found, control.deploymentId);
  }

  /** Asks Bedrock to stop the job; answers the job as it is afterwards (Stopping first, Stopped later). */
  async function stopJob(id: string, call: CallOptions | undefined): Promise<ModelInvocationJob> {
    const response = await sendBedrockRequest(control, { method: 'POST', target: `${jobPath(id)}/stop`, what: 'batch cancel', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    await response.body.dump();
    return retrieveJob(id, call);
  }

  /** How a queued part is looked at, created and cancelled: a part with a cancel marker next to its input is never created. */
  function queuedSteps(queued: QueuedCreate, call: CallOptions | undefined): QueuedCreateSteps<ModelInvocationJob> {
    return {
      find: (known) => (known !== undefined ? retrieveJob(known, call) : findJob(queued.location, call)),
      idOf: (job) => jobIdOf(job.jobArn),
      cancelled: () => exists(cancelMarkerKey(queued), call),
      markCancelled: async () => {
        const marker = new TextEncoder().encode('Cancelled before its model invocation job was created.\n');
        await staging.put({ key: cancelMarkerKey(queued), bytes: marker.length, chunks: async function* () { yield marker; }, signal: call?.signal });
      },
      create: () => createJob(queued.location, WINDOW_HOURS['24h']!, call),
      cancelCreated: (job) => (isTerminal(mapJobStatus(job.status)) ? Promise.resolve(job) : stopJob(jobIdOf(job.jobArn), call)),
    };
  }

  async function exists(key: string, call: CallOptions | undefined): Promise<boolean> {
    try {
      for await (const _chunk of await staging.get(key, call?.signal)) void _chunk;
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async function retrieveJob(id: string, call?: CallOptions): Promise<ModelInvocationJob> {
    const response = await sendBedrockRequest(control, { method: 'GET', target: jobPath(id), what: 'batch retrieve', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    return jobOf(await readBedrockJson(response, control, 'batch retrieve'), control.deploymentId);
  }

  /**
   * A part's results: the records its job answered. Those a stopped or expired job never ran (and a
   * queued part never created) are answered by the staged executor from Portico's input.
   */
  async function* resultsOf(providerBatchId: string, call: CallOptions | undefined, part: StagedPartContext | undefined): AsyncGenerator<InlineBatchResult> {
    const queued = parseQueuedCreateId(providerBatchId);
    if (queued !== null) {
      const settled = await settleQueuedCreate(queued, queuedSteps(queued, call), { part, upstreamName: 'Amazon Bedrock', create: false });
      if (settled.created !== undefined) yield* resultsOf(jobIdOf(settled.created.jobArn), call, part);
      else if (settled.status === 'validating') throw new ConflictError(`The Bedrock batch part staged at ${queued.location} has no job yet; its results are not available yet.`);
      return;
    }
    const job = await retrieveJob(providerBatchId, call);
    const status = mapJobStatus(job.status);
    if (!isTerminal(status)) throw new ConflictError(`Bedrock batch job ${providerBatchId} has not ended; its results are not available yet.`);
    const jobId = jobIdOf(job.jobArn);
    const input = parseS3Uri(job.inputDataConfig?.s3InputDataConfig?.s3Uri ?? '');
    const output = parseS3Uri(job.outputDataConfig?.s3OutputDataConfig?.s3Uri ?? '');
    if (input === null || output === null) return;
    const ended = Date.parse(job.endTime ?? '');
    const outputTranslation = { created: Number.isNaN(ended) ? Math.floor(Date.now() / 1000) : Math.floor(ended / 1000), model: modelId, jobId };
    const inputName = input.key.slice(input.key.lastIndexOf('/') + 1);
    const outputKey = `${output.key.replace(/\/+$/, '')}/${jobId}/${inputName}.out`;
    const body = await staging.get(outputKey, call?.signal).catch((error: unknown) => {
      // A job stopped, expired or failed before it wrote anything has no output file.
      if (status !== 'completed' && isNotFound(error)) return null;
      throw error;
    });
    if (body === null) return;
    const answered = new Set<string>();
    for await (const result of parseOutputFile(body, outputTranslation)) {
      // A record found twice in the output is answered once.
      if (answered.has(result.customId)) continue;
      answered.add(result.customId);
      yield result;
    }
  }

  return {
    kind: 'staged',
    minRequestsPerBatch: MIN_RECORDS_PER_JOB,

    /**
     * Checks every line, cuts the batch into jobs (at most 50,000 records each, cut evenly), and
     * uploads each part's JSONL to `<prefix>portico-batches/<batch id>/part-<first line>.jsonl`. A
     * failure deletes the parts already uploaded.
     */
    async stage(lines: BatchLineSource, context: BatchStagingContext, call?: CallOptions): Promise<StagedBatchPart[]> {
      const { records } = await checkBatchInput({ endpoint: context.endpoint, lines }, translation);
      const folder = `${options.batch.prefix}portico-batches/${context.batchId}`;
      const parts: StagedBatchPart[] = [];
      try {
        for (const range of partRanges(records)) {
          const part = await partInput(lines, range, translation);
          const key = `${folder}/part-${range.start}.jsonl`;
          await staging.put({ key, bytes: part.bytes, chunks: part.chunks, signal: call?.signal });
          parts.push({ location: s3Uri(options.batch.bucket, key), start: range.start, end: range.end, warnings: part.warnings });
        }
      } catch (error) {
        await Promise.allSettled(parts.map((part) => discardPart(part)));
        throw error;
      }
      return parts;
    },

    async create(part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource; expiresAt: number }, call?: CallOptions): Promise<ProviderBatch> {
      const hours = WINDOW_HOURS[input.completionWindow];
      if (hours === undefined) throw new InvalidRequestError(`Bedrock batch jobs run within 24 hours here; only '24h' is accepted, not '${input.completionWindow}'.`, { param: 'completion_window' });
      try {
        const job = await createJob(part.location, hours, call);
        return { ...toProviderBatch(job), warnings: part.warnings };
      } catch (error) {
        if (!isCreateRefusal(error)) throw error;
        // Refused for the quota: the part waits, staged, and its job is created later (`queued-creates.ts`).
        return { ...firstRefusal(part.location, error, input.expiresAt), warnings: [...(part.warnings ?? []), QUEUED_WARNING] };
      }
    },

    ...queuedCreateLooks({ upstreamName: 'Amazon Bedrock', steps: queuedSteps, toBatch: toProviderBatch, retrieve: retrieveJob, cancel: stopJob }),

    async *results(providerBatchId: string, call?: CallOptions, part?: StagedPartContext): AsyncGenerator<BatchOutputLine> {
      for await (const result of resultsOf(providerBatchId, call, part)) yield batchOutputLineOf(result);
    },

    discard: (part) => discardPart(part),
  };

  async function discardPart(part: StagedBatchPart): Promise<void> {
    const staged = parseS3Uri(part.location);
    if (staged !== null) await staging.delete(staged.key);
  }
}

function stagedKey(location: string): string {
  const staged = parseS3Uri(location);
  if (staged === null) throw new Error(`a Bedrock batch part is not staged in S3: ${location}`);
  return staged.key;
}

/** The object that says a queued part was cancelled before its job was created. */
function cancelMarkerKey(queued: QueuedCreate): string {
  return `${stagedKey(queued.location)}.cancelled`;
}

function isNotFound(error: unknown): boolean {
  return isRecord(error) && (error as { httpStatus?: unknown }).httpStatus === 404;
}

function jobOf(body: unknown, deploymentId: string): ModelInvocationJob {
  if (!isRecord(body) || typeof body.jobArn !== 'string') {
    throw badUpstreamResponse('Amazon Bedrock answered with something that is not a model invocation job.', { deploymentId, isRetryable: false });
  }
  return body as unknown as ModelInvocationJob;
}
