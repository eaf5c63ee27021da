/**
 * A Gemini batch (the long-running `Operation` whose `metadata` is a `GenerateContentBatch`) ->
 * Portico's `ProviderBatch` in OpenAI's vocabulary. Pure.
 * (https://ai.google.dev/api/batch-api#GenerateContentBatch, `docs/specs/gemini-api.md` §Batch mode)
 *
 * States: the REST reference names them `BATCH_STATE_*`; the batch guide and the SDKs show
 * `JOB_STATE_*` (the SDK maps one onto the other). Both are read:
 * PENDING -> validating, RUNNING -> in_progress, SUCCEEDED -> completed, FAILED -> failed,
 * CANCELLED -> cancelled, EXPIRED -> expired (Gemini expires a batch pending or running for 48
 * hours); an unknown word is still running.
 */
import type { BatchErrorItem, BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';
import { countOf, isRecord } from './json.ts';
import type { GoogleStatus } from './wire-types.ts';

/** "The job has expired because it was running or pending for more than 48 hours." */
export const GEMINI_BATCH_EXPIRY_SECONDS = 48 * 3600;

export interface GeminiBatchOperation {
  name: string;
  metadata?: GeminiBatchMetadata;
  done?: boolean;
  error?: GoogleStatus;
  response?: GeminiBatchOutput;
}

export interface GeminiBatchMetadata {
  name?: string;
  displayName?: string;
  model?: string;
  state?: string;
  createTime?: string;
  updateTime?: string;
  endTime?: string;
  batchStats?: { requestCount?: string | number; successfulRequestCount?: string | number; failedRequestCount?: string | number; pendingRequestCount?: string | number };
  inputConfig?: { fileName?: string; requests?: { requests?: { metadata?: { key?: string } }[] } };
  output?: GeminiBatchOutput;
}

export interface GeminiBatchOutput {
  responsesFile?: string;
  inlinedResponses?: { inlinedResponses?: GeminiInlinedResponse[] };
}

export interface GeminiInlinedResponse {
  response?: unknown;
  error?: GoogleStatus;
  metadata?: { key?: string };
}

const STATES: Readonly<Record<string, BatchStatus>> = {
  PENDING: 'validating',
  RUNNING: 'in_progress',
  SUCCEEDED: 'completed',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  EXPIRED: 'expired',
};

export function mapGeminiBatchState(state: string | undefined): BatchStatus {
  const word = (state ?? '').replace(/^(BATCH|JOB)_STATE_/, '');
  return Object.hasOwn(STATES, word) ? STATES[word] : 'in_progress';
}

/** The id Portico keeps for `batches/abc`: `abc`. */
export function batchIdOf(operation: GeminiBatchOperation): string {
  return operation.name.replace(/^batches\//, '');
}

/** The batch's output, where Google puts it: the operation's `response`, or the batch's `output`. */
export function batchOutputOf(operation: GeminiBatchOperation): GeminiBatchOutput | undefined {
  const output = operation.response ?? operation.metadata?.output;
  return isRecord(output) && (output.responsesFile !== undefined || output.inlinedResponses !== undefined) ? output : undefined;
}

export function toProviderBatch(operation: GeminiBatchOperation): ProviderBatch {
  const batch = operation.metadata ?? {};
  const status = mapGeminiBatchState(batch.state);
  const createdAt = unixSecondsOf(batch.createTime);
  const endedAt = unixSecondsOf(batch.endTime) ?? (isTerminal(status) ? unixSecondsOf(batch.updateTime) : null);
  const stats = batch.batchStats ?? {};
  const succeeded = countOf(stats.successfulRequestCount);
  const failed = countOf(stats.failedRequestCount);
  const errors: BatchErrorItem[] | null = operation.error
    ? [{ code: (operation.error.status ?? 'batch_failed').toLowerCase(), message: operation.error.message ?? 'The Gemini batch failed.', param: null, line: null }]
    : null;
  return {
    id: batchIdOf(operation),
    status,
    rawStatus: batch.state ?? 'BATCH_STATE_UNSPECIFIED',
    // Gemini's results are inline or in its Files API: the gateway materialises them.
    outputFileId: null,
    errorFileId: null,
    createdAt,
    inProgressAt: status === 'validating' ? null : createdAt,
    expiresAt: createdAt === null ? null : createdAt + GEMINI_BATCH_EXPIRY_SECONDS,
    finalizingAt: endedAt,
    completedAt: status === 'completed' ? endedAt : null,
    failedAt: status === 'failed' ? endedAt : null,
    expiredAt: status === 'expired' ? endedAt : null,
    cancellingAt: status === 'cancelled' ? endedAt : null,
    cancelledAt: status === 'cancelled' ? endedAt : null,
    requestCounts: { total: countOf(stats.requestCount), completed: succeeded, failed },
    usage: null,
    errors,
  };
}

function isTerminal(status: BatchStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'expired';
}

/** RFC 3339 -> unix seconds; `null` when absent or unreadable. */
export function unixSecondsOf(timestamp: string | null | undefined): number | null {
  if (typeof timestamp !== 'string') return null;
  const milliseconds = Date.parse(timestamp);
  return Number.isNaN(milliseconds) ? null : Math.floor(milliseconds / 1000);
}
