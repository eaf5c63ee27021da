/**
 * A batch prediction job Vertex AI would not take yet. A project runs a limited number of batch
 * prediction jobs at once (Claude's partner models: 4 per project; Gemini has its own), and a
 * create over that quota is refused with HTTP 429 `RESOURCE_EXHAUSTED`
 * (https://cloud.google.com/vertex-ai/docs/quotas, https://cloud.google.com/apis/design/errors).
 * That is no reason to fail the batch: its part is staged, and the job can be created once a
 * running one ends. So the part is reported as a provider batch of its own, `validating`, under a
 * queued id that says where its input is staged and since when it waits; every later look at it
 * (`retrieve`, `cancel`, `results` in `batches.ts`) first looks for its job by display name (the
 * create may have happened meanwhile, from another instance or a look whose answer was lost),
 * then tries the create again.
 *
 * The id stays the same for the part's life (Portico keeps provider ids as they were first
 * answered): `queued-<unix seconds>-<base64url of the gs:// input URI>`, with no `,` (the staged
 * executor's separator of part ids) and nothing a job id has (Vertex's are digits). A queued part
 * cancelled before its job existed is marked by an object next to its input (`CANCELLED_MARKER`),
 * so that no later look creates it; one still waiting when the completion window ends is expired.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch, TranslationWarning } from '../../spec/provider.ts';

const QUEUED_ID = /^queued-(\d+)-([A-Za-z0-9_-]+)$/;

/** How long a queued part may wait for its job: OpenAI's `24h`, the one window Vertex batches accept. */
export const QUEUED_WINDOW_SECONDS = 86_400;

/** The object, in the part's folder, that says the part was cancelled before its job was created. */
export const CANCELLED_MARKER = 'cancelled-before-job';

export interface QueuedJob {
  /** The staged input, `gs://bucket/.../input.jsonl`. */
  location: string;
  /** When the first create was refused (unix seconds). */
  queuedAt: number;
}

export function queuedJobId(job: QueuedJob): string {
  return `queued-${job.queuedAt}-${Buffer.from(job.location, 'utf8').toString('base64url')}`;
}

/** The queued part a provider batch id names; `null` for a job id. */
export function parseQueuedJobId(id: string): QueuedJob | null {
  const match = QUEUED_ID.exec(id);
  if (match === null) return null;
  return { queuedAt: Number(match[1]), location: Buffer.from(match[2]!, 'base64url').toString('utf8') };
}

/** A create refused for now: the quota of jobs (or of requests) is used up. */
export function isQuotaRefusal(error: unknown): boolean {
  return error instanceof GatewayError && error.httpStatus === 429;
}

export const QUEUED_WARNING: TranslationWarning = Object.freeze({
  param: 'input_file_id',
  message: "Vertex AI's quota of concurrent batch prediction jobs was reached (429 RESOURCE_EXHAUSTED): the job is created once a running one ends.",
});

/** The queued part as a provider batch: waiting (`validating`), or ended without a job. */
export function queuedBatch(job: QueuedJob, status: Extract<BatchStatus, 'validating' | 'cancelled' | 'expired'>, now: number): ProviderBatch {
  return {
    id: queuedJobId(job),
    status,
    rawStatus: status === 'validating' ? 'QUEUED_FOR_JOB_QUOTA' : status === 'cancelled' ? 'CANCELLED_BEFORE_JOB' : 'EXPIRED_BEFORE_JOB',
    outputFileId: null,
    errorFileId: null,
    createdAt: job.queuedAt,
    inProgressAt: null,
    expiresAt: job.queuedAt + QUEUED_WINDOW_SECONDS,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: status === 'expired' ? now : null,
    cancellingAt: status === 'cancelled' ? now : null,
    cancelledAt: status === 'cancelled' ? now : null,
    requestCounts: { total: 0, completed: 0, failed: 0 },
    usage: null,
    errors: null,
  };
}
