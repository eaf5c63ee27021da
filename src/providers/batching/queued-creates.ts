/**
 * A native batch create the provider would not take yet (issue 11, "upstream throttling
 * absorbed"). Cloud batch APIs cap the jobs a project runs at once and the creates it makes per
 * minute, and refuse one over the cap with HTTP 429: Google's `RESOURCE_EXHAUSTED` (Vertex AI
 * batch prediction jobs, Gemini `batchGenerateContent`; https://cloud.google.com/apis/design/errors),
 * Bedrock's `ThrottlingException` / `ServiceQuotaExceededException` on CreateModelInvocationJob
 * (both 429 in Portico, `bedrock/errors.ts`). That is no reason to fail the batch: its part stays
 * staged, the batch stays `validating`, and the create is tried again by the poller's later looks.
 *
 * The part is reported as a provider batch of its own under a queued id that says where its
 * input is staged and since when it waits: `queued-<unix seconds>-<base64url of the location>`,
 * with no `,` (the staged executor's separator of part ids) and nothing a provider's batch id has.
 * The id stays the same for the part's life (Portico keeps provider ids as first answered).
 *
 * Policy (pure, `createRetryDelayMs`, `queuedOutcome`): tries 1 s apart, doubling to 60 s; a part
 * still refused when its window (OpenAI's `24h`) ends is `expired`, as OpenAI ends a batch that did
 * not run within its window, with the provider's last refusal in the batch's `errors`. The tries
 * are remembered per client (`QueuedCreates`), in memory: a restarted instance tries at once.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { BatchErrorItem, BatchStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../spec/provider.ts';

const QUEUED_ID = /^queued-(\d+)-([A-Za-z0-9_-]+)$/;

/** How long a queued part may wait for its create: OpenAI's `24h`, the one window these batches accept. */
export const QUEUED_WINDOW_SECONDS = 86_400;

export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 60_000;

export interface QueuedCreate {
  /** Where the part's input is staged (`gs://...`, `files/...`, `s3://...`). */
  location: string;
  /** When the first create was refused (unix seconds). */
  queuedAt: number;
}

export function queuedCreateId(queued: QueuedCreate): string {
  return `queued-${queued.queuedAt}-${Buffer.from(queued.location, 'utf8').toString('base64url')}`;
}

/** The queued part a provider batch id names; `null` for a provider's own batch id. */
export function parseQueuedCreateId(id: string): QueuedCreate | null {
  const match = QUEUED_ID.exec(id);
  if (match === null) return null;
  return { queuedAt: Number(match[1]), location: Buffer.from(match[2]!, 'base64url').toString('utf8') };
}

/** A create refused for now: the provider's quota of jobs (or of requests) is used up (429). */
export function isCreateRefusal(error: unknown): boolean {
  return error instanceof GatewayError && error.httpStatus === 429;
}

/** The wait after the `refusals`-th refused create (1 based): 1 s, 2 s, 4 s, ... at most 60 s. */
export function createRetryDelayMs(refusals: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, FIRST_RETRY_DELAY_MS * 2 ** Math.max(0, Math.min(refusals - 1, 16)));
}

/** Whether a queued part's window has ended (it is then expired, never created). */
export function queuedWindowEnded(queued: QueuedCreate, nowSeconds: number, windowSeconds = QUEUED_WINDOW_SECONDS): boolean {
  return nowSeconds >= queued.queuedAt + windowSeconds;
}

/** What the batch's `errors` say when a part expired still refused. */
export function refusedUntilExpiry(upstreamName: string, lastRefusal: string | undefined): BatchErrorItem {
  return {
    code: 'batch_create_refused',
    message: `${upstreamName} refused the batch create (429) until its completion window ended${lastRefusal === undefined ? '.' : `: ${lastRefusal}`}`,
    param: null,
    line: null,
  };
}

/** The queued part as a provider batch: waiting (`validating`), or ended without a provider batch. */
export function queuedBatch(
  queued: QueuedCreate,
  status: Extract<BatchStatus, 'validating' | 'cancelled' | 'expired'>,
  now: number,
  errors: BatchErrorItem[] | null = null,
): ProviderBatch {
  return {
    id: queuedCreateId(queued),
    status,
    rawStatus: status === 'validating' ? 'QUEUED_FOR_CREATE' : status === 'cancelled' ? 'CANCELLED_BEFORE_CREATE' : 'EXPIRED_BEFORE_CREATE',
    outputFileId: null,
    errorFileId: null,
    createdAt: queued.queuedAt,
    inProgressAt: null,
    expiresAt: queued.queuedAt + QUEUED_WINDOW_SECONDS,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: status === 'expired' ? now : null,
    cancellingAt: status === 'cancelled' ? now : null,
    cancelledAt: status === 'cancelled' ? now : null,
    requestCounts: { total: 0, completed: 0, failed: 0 },
    usage: null,
    errors,
  };
}

/**
 * The refused creates a client remembers, by staged location: when each queued part may be tried
 * again, and the provider's last word. Bounded: a part forgotten is tried at once on its next look.
 */
export class QueuedCreates {
  readonly #tries = new Map<string, { refusals: number; nextTryAt: number; lastRefusal: string }>();
  readonly #now: () => number;
  static readonly MAX_REMEMBERED = 10_000;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Whether the part's create may be tried now (its backoff has passed, or it is not remembered). */
  due(queued: QueuedCreate): boolean {
    const tries = this.#tries.get(queued.location);
    return tries === undefined || this.#now() >= tries.nextTryAt;
  }

  /** Records a refused create: the next try waits 1 s, then 2 s, 4 s, ... 60 s. */
  refused(queued: QueuedCreate, error: unknown): void {
    const id = queued.location;
    const refusals = (this.#tries.get(id)?.refusals ?? 0) + 1;
    if (!this.#tries.has(id) && this.#tries.size >= QueuedCreates.MAX_REMEMBERED) this.#tries.delete(this.#tries.keys().next().value!);
    this.#tries.set(id, { refusals, nextTryAt: this.#now() + createRetryDelayMs(refusals), lastRefusal: error instanceof Error ? error.message : String(error) });
  }

  lastRefusal(queued: QueuedCreate): string | undefined {
    return this.#tries.get(queued.location)?.lastRefusal;
  }

  /** The part was created, cancelled or expired: nothing more to try. */
  settled(queued: QueuedCreate): void {
    this.#tries.delete(queued.location);
  }
}

/** How a provider looks at and creates one queued part. */
export interface QueuedCreateSteps<Created> {
  /** The provider batch a create made already (another instance's, or one whose answer was lost); absent where creates are idempotent. */
  find?(): Promise<Created | null>;
  /** Whether the part was cancelled before its create. */
  cancelled(): Promise<boolean>;
  create(): Promise<Created>;
}

export type QueuedSettlement<Created> =
  | { created: Created; status?: undefined }
  | { created?: undefined; status: 'validating' | 'cancelled' }
  | { created?: undefined; status: 'expired'; errors: BatchErrorItem[] };

/**
 * Where a queued part stands: its provider batch once there is one (created now when `create` is
 * asked, its backoff has passed, and the provider takes it), else waiting, cancelled before its
 * create, or expired still refused.
 */
export async function settleQueuedCreate<Created>(
  queued: QueuedCreate,
  steps: QueuedCreateSteps<Created>,
  context: { tries: QueuedCreates; upstreamName: string; create: boolean; nowSeconds: number },
): Promise<QueuedSettlement<Created>> {
  const found = (await steps.find?.()) ?? null;
  if (found !== null) {
    context.tries.settled(queued);
    return { created: found };
  }
  if (await steps.cancelled()) {
    context.tries.settled(queued);
    return { status: 'cancelled' };
  }
  if (queuedWindowEnded(queued, context.nowSeconds)) return { status: 'expired', errors: [refusedUntilExpiry(context.upstreamName, context.tries.lastRefusal(queued))] };
  if (!context.create || !context.tries.due(queued)) return { status: 'validating' };
  try {
    const created = await steps.create();
    context.tries.settled(queued);
    return { created };
  } catch (error) {
    if (!isCreateRefusal(error)) throw error;
    context.tries.refused(queued, error);
    return { status: 'validating' };
  }
}
