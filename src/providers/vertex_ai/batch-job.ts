/**
 * A Vertex AI `BatchPredictionJob` -> Portico's `ProviderBatch` in OpenAI's vocabulary. Pure.
 * (https://cloud.google.com/vertex-ai/docs/reference/rest/v1/projects.locations.batchPredictionJobs,
 * `JobState` at https://cloud.google.com/vertex-ai/docs/reference/rest/v1/JobState; `docs/specs/vertex-ai.md`)
 *
 * QUEUED, PENDING -> validating; RUNNING, UPDATING, PAUSED -> in_progress; SUCCEEDED,
 * PARTIALLY_SUCCEEDED -> completed; FAILED -> failed; CANCELLING -> cancelling; CANCELLED ->
 * cancelled; EXPIRED -> expired; an unknown word is still running.
 */
import type { BatchErrorItem, BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';
import { unixSecondsOf } from '../gemini/batch-status.ts';
import { countOf } from '../gemini/json.ts';
import type { GoogleStatus } from '../gemini/wire-types.ts';

export interface VertexBatchPredictionJob {
  name: string;
  displayName?: string;
  model?: string;
  state?: string;
  inputConfig?: { instancesFormat?: string; gcsSource?: { uris?: string[] } };
  outputConfig?: { predictionsFormat?: string; gcsDestination?: { outputUriPrefix?: string } };
  outputInfo?: { gcsOutputDirectory?: string };
  error?: GoogleStatus;
  completionStats?: { successfulCount?: string | number; failedCount?: string | number; incompleteCount?: string | number };
  createTime?: string;
  startTime?: string;
  endTime?: string;
  updateTime?: string;
  labels?: Record<string, string>;
}

const STATES: Readonly<Record<string, BatchStatus>> = {
  QUEUED: 'validating',
  PENDING: 'validating',
  RUNNING: 'in_progress',
  UPDATING: 'in_progress',
  PAUSED: 'in_progress',
  SUCCEEDED: 'completed',
  PARTIALLY_SUCCEEDED: 'completed',
  FAILED: 'failed',
  CANCELLING: 'cancelling',
  CANCELLED: 'cancelled',
  EXPIRED: 'expired',
};

export function mapJobState(state: string | undefined): BatchStatus {
  const word = (state ?? '').replace(/^JOB_STATE_/, '');
  return Object.hasOwn(STATES, word) ? STATES[word] : 'in_progress';
}

/** `projects/1/locations/l/batchPredictionJobs/456` -> `456`. */
export function jobIdOf(job: Pick<VertexBatchPredictionJob, 'name'>): string {
  return job.name.slice(job.name.lastIndexOf('/') + 1);
}

export function isTerminal(status: BatchStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'expired';
}

export function toProviderBatch(job: VertexBatchPredictionJob): ProviderBatch {
  const status = mapJobState(job.state);
  const createdAt = unixSecondsOf(job.createTime);
  const startedAt = unixSecondsOf(job.startTime);
  const endedAt = unixSecondsOf(job.endTime) ?? (isTerminal(status) ? unixSecondsOf(job.updateTime) : null);
  const stats = job.completionStats ?? {};
  const succeeded = countOf(stats.successfulCount);
  const failed = countOf(stats.failedCount);
  const incomplete = countOf(stats.incompleteCount);
  const errors: BatchErrorItem[] | null = job.error
    ? [{ code: (job.error.status ?? 'batch_failed').toLowerCase(), message: job.error.message ?? 'The Vertex AI batch prediction job failed.', param: null, line: null }]
    : null;
  return {
    id: jobIdOf(job),
    status,
    rawStatus: job.state ?? 'JOB_STATE_UNSPECIFIED',
    // The output is in the job's GCS directory: the gateway materialises it.
    outputFileId: null,
    errorFileId: null,
    createdAt,
    inProgressAt: status === 'validating' ? null : (startedAt ?? createdAt),
    expiresAt: null,
    finalizingAt: endedAt,
    completedAt: status === 'completed' ? endedAt : null,
    failedAt: status === 'failed' ? endedAt : null,
    expiredAt: status === 'expired' ? endedAt : null,
    cancellingAt: status === 'cancelling' || status === 'cancelled' ? (endedAt ?? unixSecondsOf(job.updateTime)) : null,
    cancelledAt: status === 'cancelled' ? endedAt : null,
    requestCounts: { total: succeeded + failed + incomplete, completed: succeeded, failed },
    usage: null,
    errors,
  };
}
