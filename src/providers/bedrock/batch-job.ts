/**
 * A Bedrock model invocation job (`GetModelInvocationJob`'s answer) -> Portico's `ProviderBatch`
 * in OpenAI's vocabulary. Pure. (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetModelInvocationJob.html,
 * `ModelInvocationJobStatus` in the service model, `docs/specs/bedrock.md` §Batch inference)
 *
 * Submitted, Validating, Scheduled -> validating; InProgress -> in_progress; Completed,
 * PartiallyCompleted -> completed (the failed records are in the output's error lines);
 * Failed -> failed; Stopping -> cancelling; Stopped -> cancelled; Expired -> expired (the job
 * ran past its `timeoutDurationInHours`); an unknown word is still running.
 */
import type { BatchErrorItem, BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';

export interface ModelInvocationJob {
  jobArn: string;
  jobName?: string;
  modelId?: string;
  status?: string;
  message?: string;
  submitTime?: string;
  lastModifiedTime?: string;
  endTime?: string;
  jobExpirationTime?: string;
  timeoutDurationInHours?: number;
  inputDataConfig?: { s3InputDataConfig?: { s3Uri?: string; s3InputFormat?: string } };
  outputDataConfig?: { s3OutputDataConfig?: { s3Uri?: string; s3EncryptionKeyId?: string } };
  totalRecordCount?: number;
  processedRecordCount?: number;
  successRecordCount?: number;
  errorRecordCount?: number;
}

const STATES: Readonly<Record<string, BatchStatus>> = {
  Submitted: 'validating',
  Validating: 'validating',
  Scheduled: 'validating',
  InProgress: 'in_progress',
  Completed: 'completed',
  PartiallyCompleted: 'completed',
  Failed: 'failed',
  Stopping: 'cancelling',
  Stopped: 'cancelled',
  Expired: 'expired',
};

export function mapJobStatus(status: string | undefined): BatchStatus {
  return status !== undefined && Object.hasOwn(STATES, status) ? STATES[status] : 'in_progress';
}

/** `arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefgh1234` -> `abcdefgh1234`. */
export function jobIdOf(jobArn: string): string {
  return jobArn.slice(jobArn.lastIndexOf('/') + 1);
}

export function isTerminal(status: BatchStatus): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled' || status === 'expired';
}

export function toProviderBatch(job: ModelInvocationJob): ProviderBatch {
  const status = mapJobStatus(job.status);
  const createdAt = seconds(job.submitTime);
  const endedAt = seconds(job.endTime) ?? (isTerminal(status) ? seconds(job.lastModifiedTime) : null);
  const total = count(job.totalRecordCount);
  const succeeded = count(job.successRecordCount);
  const failed = count(job.errorRecordCount);
  const errors: BatchErrorItem[] | null =
    status === 'failed' ? [{ code: 'batch_failed', message: job.message ?? 'The Bedrock model invocation job failed.', param: null, line: null }] : null;
  return {
    id: jobIdOf(job.jobArn),
    status,
    rawStatus: job.status ?? 'Unknown',
    // The output is in the job's S3 prefix: the gateway materialises it.
    outputFileId: null,
    errorFileId: null,
    createdAt,
    inProgressAt: status === 'validating' ? null : createdAt,
    expiresAt: seconds(job.jobExpirationTime),
    finalizingAt: endedAt,
    completedAt: status === 'completed' ? endedAt : null,
    failedAt: status === 'failed' ? endedAt : null,
    expiredAt: status === 'expired' ? endedAt : null,
    cancellingAt: status === 'cancelling' || status === 'cancelled' ? (endedAt ?? seconds(job.lastModifiedTime)) : null,
    cancelledAt: status === 'cancelled' ? endedAt : null,
    requestCounts: { total: Math.max(total, succeeded + failed), completed: succeeded, failed },
    usage: null,
    errors,
  };
}

function seconds(time: string | undefined): number | null {
  if (time === undefined) return null;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
