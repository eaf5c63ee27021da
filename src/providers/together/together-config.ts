/**
 * Together AI's Files and Batch API as a variation of the OpenAI config: OpenAI's client and file
 * executor run on it with these differences (https://docs.together.ai/reference/batch-create,
 * https://docs.together.ai/reference/upload-file, the `together-ai` SDK's `resources/batches.ts`):
 *
 * - uploads go to `POST /files/upload` with `purpose=batch-api` and a `file_name` field;
 * - a create takes `input_file_id`, `endpoint` and `completion_window` only (no `metadata`) and
 *   answers `{job: <batch>, warning?}`; retrieve and cancel answer the batch itself;
 * - a batch says `VALIDATING | IN_PROGRESS | COMPLETED | FAILED | EXPIRED | CANCELLED`, carries
 *   ISO 8601 times, a `progress` percentage instead of request counts, and an `error` string;
 * - the list answers a bare array, all batches at once.
 *
 * Input lines (`custom_id` + `body`), output lines (`custom_id` + `response.body`) and error lines
 * (`custom_id` + `error`) are OpenAI's, so no line is translated.
 */
import { z } from 'zod';
import type { BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';
import type { OpenAIApiConfig, OpenAIOperation } from '../openai/api-config.ts';
import { normalizeOpenAIFile, parseWire } from '../openai/normalize.ts';

/** Together's purpose word for Batch API input files. */
export const TOGETHER_BATCH_PURPOSE = 'batch-api';

const TOGETHER_STATUSES: Readonly<Record<string, BatchStatus>> = {
  VALIDATING: 'validating',
  IN_PROGRESS: 'in_progress',
  COMPLETED: 'completed',
  FAILED: 'failed',
  EXPIRED: 'expired',
  CANCELLED: 'cancelled',
};

const togetherBatchSchema = z.looseObject({
  id: z.string(),
  status: z.string(),
  input_file_id: z.string().nullish(),
  output_file_id: z.string().nullish(),
  error_file_id: z.string().nullish(),
  created_at: z.string().nullish(),
  completed_at: z.string().nullish(),
  job_deadline: z.string().nullish(),
  error: z.string().nullish(),
});

/** ISO 8601 -> Unix seconds; null for absent or unparseable (Together sends Go's zero time for "never"). */
function seconds(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : null;
}

export function normalizeTogetherBatch(raw: unknown, label: string): ProviderBatch {
  // A create answers `{job, warning}`; everything else the batch itself.
  const unwrapped = typeof raw === 'object' && raw !== null && 'job' in raw ? (raw as { job: unknown }).job : raw;
  const batch = parseWire(togetherBatchSchema, unwrapped, label, 'a batch request');
  const status = TOGETHER_STATUSES[batch.status] ?? 'in_progress';
  // Together has one end time; it is the time of whichever end the batch reached.
  const endedAt = seconds(batch.completed_at);
  const at = (wanted: BatchStatus) => (status === wanted ? endedAt : null);
  return {
    id: batch.id,
    status,
    rawStatus: batch.status,
    outputFileId: batch.output_file_id || null,
    errorFileId: batch.error_file_id || null,
    createdAt: seconds(batch.created_at),
    inProgressAt: null,
    expiresAt: seconds(batch.job_deadline),
    finalizingAt: null,
    completedAt: at('completed'),
    failedAt: at('failed'),
    expiredAt: at('expired'),
    cancellingAt: null,
    cancelledAt: at('cancelled'),
    // No counts, only a percentage: the result files are counted when the batch ends.
    requestCounts: { total: 0, completed: 0, failed: 0 },
    usage: null,
    errors: status === 'failed' && batch.error ? [{ code: 'batch_failed', message: batch.error, param: null, line: null }] : null,
    metadata: null,
  };
}

export function togetherApiConfig(base: OpenAIApiConfig): OpenAIApiConfig {
  const label = base.label;
  return Object.freeze({
    ...base,
    url: (operation: OpenAIOperation) => (operation.kind === 'fileUpload' ? base.url({ kind: 'files' }).replace(/\/files$/, '/files/upload') : base.url(operation)),
    supportsFiles: true,
    supportsBatches: true,
    uploadFields: ({ filename, purpose }) => [
      ['purpose', purpose === 'batch' ? TOGETHER_BATCH_PURPOSE : purpose],
      ['file_name', filename],
      ['file_type', 'jsonl'],
    ],
    // Together's files answer `batch-api`; Portico looks for its copies under OpenAI's word.
    normalizeFile: (raw, uploaded) => {
      const file = normalizeOpenAIFile(raw, uploaded, undefined, label);
      return file.purpose === TOGETHER_BATCH_PURPOSE ? { ...file, purpose: 'batch' } : file;
    },
    normalizeBatch: (raw) => normalizeTogetherBatch(raw, label),
    batchCreateBody: (body) => ({ input_file_id: body.input_file_id, endpoint: body.endpoint, completion_window: body.completion_window }),
    keepsBatchMetadata: false,
  } satisfies OpenAIApiConfig);
}
