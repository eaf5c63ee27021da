/**
 * Mistral's Files and Batch API as a variation of the OpenAI config: OpenAI's client and file
 * executor run on it with these differences (https://docs.mistral.ai/capabilities/batch/,
 * https://docs.mistral.ai/api/endpoint/batch, the `@mistralai/mistralai` SDK's models):
 *
 * - batches live under `/batch/jobs`; a create takes `input_files` (a list), `endpoint`, `model`
 *   (one per job), `metadata` and `timeout_hours` instead of `completion_window`;
 * - input lines are `{custom_id, body}`: the job names the model, so `body.model` is left out;
 * - a job says `QUEUED | RUNNING | SUCCESS | FAILED | TIMEOUT_EXCEEDED | CANCELLATION_REQUESTED |
 *   CANCELLED`, counts `total_requests`, `succeeded_requests`, `failed_requests`, and names its
 *   results `output_file` / `error_file`; errors are `{message, count}`.
 *
 * Output and error lines carry our `custom_id` with OpenAI's `response: {status_code, body}`, so
 * they are read like OpenAI's (`managed/batches/result-lines.ts`).
 */
import { z } from 'zod';
import type { BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';
import { type OpenAIApiConfig, type OpenAIOperation, pathId } from '../openai/api-config.ts';
import { parseWire } from '../openai/normalize.ts';

const MISTRAL_STATUSES: Readonly<Record<string, BatchStatus>> = {
  QUEUED: 'validating',
  RUNNING: 'in_progress',
  SUCCESS: 'completed',
  FAILED: 'failed',
  TIMEOUT_EXCEEDED: 'expired',
  CANCELLATION_REQUESTED: 'cancelling',
  CANCELLED: 'cancelled',
};

const count = z.number().nullish();
const seconds = z.number().nullish();

const mistralJobSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  output_file: z.string().nullish(),
  error_file: z.string().nullish(),
  created_at: seconds,
  started_at: seconds,
  completed_at: seconds,
  total_requests: count,
  succeeded_requests: count,
  failed_requests: count,
  errors: z.array(z.looseObject({ message: z.string().nullish(), count: count })).nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
});

/** Mistral's `timeout_hours` for OpenAI's `completion_window` (`24h`); Mistral's default (24) otherwise. */
export function timeoutHoursOf(completionWindow: unknown): number | undefined {
  const hours = typeof completionWindow === 'string' ? /^(\d+)h$/.exec(completionWindow)?.[1] : undefined;
  return hours === undefined ? undefined : Number(hours);
}

export function normalizeMistralJob(raw: unknown, label: string): ProviderBatch {
  const job = parseWire(mistralJobSchema, raw, label, 'a batch request');
  const status = MISTRAL_STATUSES[job.status] ?? 'in_progress';
  // One end time: the time of whichever end the job reached.
  const at = (wanted: BatchStatus) => (status === wanted ? (job.completed_at ?? null) : null);
  return {
    id: job.id,
    status,
    rawStatus: job.status,
    outputFileId: job.output_file || null,
    errorFileId: job.error_file || null,
    createdAt: job.created_at ?? null,
    inProgressAt: job.started_at ?? null,
    expiresAt: null,
    finalizingAt: null,
    completedAt: at('completed'),
    failedAt: at('failed'),
    expiredAt: at('expired'),
    cancellingAt: null,
    cancelledAt: at('cancelled'),
    requestCounts: { total: job.total_requests ?? 0, completed: job.succeeded_requests ?? 0, failed: job.failed_requests ?? 0 },
    usage: null,
    // A job's `errors` also sum up failed lines of a job that succeeded; only a failed job's are the batch's.
    errors:
      status === 'failed' && job.errors && job.errors.length > 0
        ? job.errors.map((error) => ({ code: 'batch_failed', message: error.message ?? '', param: null, line: null }))
        : null,
    metadata: job.metadata
      ? Object.fromEntries(Object.entries(job.metadata).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
      : null,
  };
}

/** Where the batch operations live on Mistral; the others are OpenAI's. */
function mistralPath(operation: OpenAIOperation): string | undefined {
  switch (operation.kind) {
    case 'batches':
      return '/batch/jobs';
    case 'batch':
      return `/batch/jobs/${pathId(operation.batchId)}`;
    case 'batchCancel':
      return `/batch/jobs/${pathId(operation.batchId)}/cancel`;
    default:
      return undefined;
  }
}

export function mistralApiConfig(base: OpenAIApiConfig): OpenAIApiConfig {
  const label = base.label;
  // The base's URL of `/batches` tells where the API root is (`.../v1`).
  const root = base.url({ kind: 'batches' }).replace(/\/batches$/, '');
  return Object.freeze({
    ...base,
    url: (operation: OpenAIOperation) => {
      const path = mistralPath(operation);
      return path === undefined ? base.url(operation) : `${root}${path}`;
    },
    supportsFiles: true,
    supportsBatches: true,
    normalizeBatch: (raw) => normalizeMistralJob(raw, label),
    batchCreateBody: (body) => {
      const timeoutHours = timeoutHoursOf(body.completion_window);
      return {
        input_files: [body.input_file_id],
        endpoint: body.endpoint,
        model: base.upstreamModel,
        ...(body.metadata !== undefined && { metadata: body.metadata }),
        ...(timeoutHours !== undefined && { timeout_hours: timeoutHours }),
      };
    },
    batchInputLine: (line) => {
      const { model: _model, ...body } = line.body;
      return { custom_id: line.custom_id, body };
    },
  } satisfies OpenAIApiConfig);
}
