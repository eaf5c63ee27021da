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
 * What the tries learnt is the part's state (`QueuedCreateState`: refusals, when to try next, the
 * provider's last words, the batch created for it), answered as `ProviderBatch.partState` and kept
 * by Portico with the batch in its database, handed back on every look (`StagedPartContext`): a
 * restarted instance, or another one, goes on with the same backoff and the same last refusal.
 *
 * Policy (pure, `createRetryDelayMs`): tries 1 s apart, doubling to 60 s; a part still refused when
 * the batch's window ends (its `expires_at`, `created_at` plus the completion window, as OpenAI
 * counts it) is `expired`, as OpenAI ends a batch that did not run within its window, with the
 * provider's last refusal in the batch's `errors`.
 *
 * Cancelling a waiting part marks it (a marker object, or its staged input deleted) so that no
 * later look creates it. A create under way elsewhere meanwhile is caught from both sides: a
 * create looks for the mark after it succeeded (and cancels what it made), and the cancel looks
 * for a created batch after it marked the part; whichever comes second sees the other.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { BatchErrorItem, BatchStatus } from '../../spec/openai-objects.ts';
import type { CallOptions, ProviderBatch, StagedPartContext } from '../../spec/provider.ts';

const QUEUED_ID = /^queued-(\d+)-([A-Za-z0-9_-]+)$/;

/** The window when Portico says none (`StagedPartContext` absent): OpenAI's `24h`, the one window these batches accept. */
export const QUEUED_WINDOW_SECONDS = 86_400;

export const FIRST_RETRY_DELAY_MS = 1_000;
export const MAX_RETRY_DELAY_MS = 60_000;

/** The provider's refusal is kept to this many characters (it ends up in the batch's `errors`). */
const MAX_REFUSAL_CHARS = 1_000;

export interface QueuedCreate {
  /** Where the part's input is staged (`gs://...`, `files/...`, `s3://...`). */
  location: string;
  /** When the first create was refused (unix seconds). */
  queuedAt: number;
}

/** What the tries of a queued part learnt, kept by Portico between looks (`ProviderBatch.partState`). */
export interface QueuedCreateState {
  /** Creates refused so far. */
  refusals: number;
  /** When the create may be tried again (unix milliseconds). */
  nextTryAt: number;
  /** The provider's last refusal, in its words. */
  lastRefusal?: string;
  /** The provider batch created for the part, once one is known (the part's id stays the queued one). */
  created?: string;
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

/** The state after one more refused create, at `nowMs`. */
function refusedState(previous: QueuedCreateState | null, error: unknown, nowMs: number): QueuedCreateState {
  const refusals = (previous?.refusals ?? 0) + 1;
  const words = error instanceof Error ? error.message : String(error);
  return { refusals, nextTryAt: nowMs + createRetryDelayMs(refusals), lastRefusal: words.slice(0, MAX_REFUSAL_CHARS) };
}

function encodeQueuedState(state: QueuedCreateState): string {
  return JSON.stringify(state);
}

/** The state a part's text holds; null for none, or for text that is not a state (it is then started afresh). */
export function parseQueuedState(text: string | null | undefined): QueuedCreateState | null {
  if (text === null || text === undefined) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { refusals, nextTryAt, lastRefusal, created } = value as Record<string, unknown>;
  if (typeof refusals !== 'number' || typeof nextTryAt !== 'number') return null;
  return { refusals, nextTryAt, ...(typeof lastRefusal === 'string' && { lastRefusal }), ...(typeof created === 'string' && { created }) };
}

/** When a queued part's window ends: the batch's `expires_at`, or a day after its first refusal when Portico gave none. */
function queuedWindowEnd(queued: QueuedCreate, part: StagedPartContext | undefined): number {
  return part?.expiresAt ?? queued.queuedAt + QUEUED_WINDOW_SECONDS;
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
  details: { expiresAt: number; errors?: BatchErrorItem[] | null; partState?: string | null },
): ProviderBatch {
  return {
    id: queuedCreateId(queued),
    status,
    rawStatus: status === 'validating' ? 'QUEUED_FOR_CREATE' : status === 'cancelled' ? 'CANCELLED_BEFORE_CREATE' : 'EXPIRED_BEFORE_CREATE',
    outputFileId: null,
    errorFileId: null,
    createdAt: queued.queuedAt,
    inProgressAt: null,
    expiresAt: details.expiresAt,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: status === 'expired' ? now : null,
    cancellingAt: status === 'cancelled' ? now : null,
    cancelledAt: status === 'cancelled' ? now : null,
    requestCounts: { total: 0, completed: 0, failed: 0 },
    usage: null,
    errors: details.errors ?? null,
    ...(details.partState !== undefined && { partState: details.partState }),
  };
}

/** A create refused at once: the part's first state, to answer as a waiting provider batch. */
export function firstRefusal(location: string, error: unknown, expiresAt: number, now: () => number = Date.now): ProviderBatch {
  const nowMs = now();
  const queued = { location, queuedAt: Math.floor(nowMs / 1000) };
  return queuedBatch(queued, 'validating', queued.queuedAt, { expiresAt, partState: encodeQueuedState(refusedState(null, error, nowMs)) });
}

/** How a provider looks at, creates and cancels one queued part. */
export interface QueuedCreateSteps<Created> {
  /**
   * The provider batch created for the part: `known` (its id, from the part's state) when given,
   * else looked for by what names the part (another instance's create, or one whose answer was
   * lost); null when there is none.
   */
  find(known: string | undefined): Promise<Created | null>;
  /** The provider's id of a created batch. */
  idOf(created: Created): string;
  /** Whether the part was marked cancelled before its create. */
  cancelled(): Promise<boolean>;
  /** Marks the part cancelled: no later look creates it. */
  markCancelled(): Promise<void>;
  create(): Promise<Created>;
  /** Cancels a batch created for the part; answers it as it is afterwards. */
  cancelCreated(created: Created): Promise<Created>;
}

export type QueuedSettlement<Created> = (
  | { created: Created; status?: undefined }
  | { created?: undefined; status: 'validating' | 'cancelled' }
  | { created?: undefined; status: 'expired'; errors: BatchErrorItem[] }
) & {
  /** The part's new state to keep; absent when it did not change. */
  state?: string;
};

export interface QueuedLook {
  /** What Portico handed over for the part (its window and kept state). */
  part: StagedPartContext | undefined;
  upstreamName: string;
  now?: () => number;
}

/**
 * Where a queued part stands: its provider batch once there is one (created now when `create` is
 * asked, its backoff has passed, and the provider takes it), else waiting, cancelled before its
 * create, or expired still refused.
 */
export async function settleQueuedCreate<Created>(queued: QueuedCreate, steps: QueuedCreateSteps<Created>, look: QueuedLook & { create: boolean }): Promise<QueuedSettlement<Created>> {
  const nowMs = (look.now ?? Date.now)();
  const state = parseQueuedState(look.part?.state);
  const found = await steps.find(state?.created);
  if (found !== null) return { created: found, ...createdState(state, steps.idOf(found), nowMs) };
  if (await steps.cancelled()) return { status: 'cancelled' };
  if (Math.floor(nowMs / 1000) >= queuedWindowEnd(queued, look.part)) return { status: 'expired', errors: [refusedUntilExpiry(look.upstreamName, state?.lastRefusal)] };
  if (!look.create || (state !== null && nowMs < state.nextTryAt)) return { status: 'validating' };
  let created: Created;
  try {
    created = await steps.create();
  } catch (error) {
    if (!isCreateRefusal(error)) throw error;
    return { status: 'validating', state: encodeQueuedState(refusedState(state, error, nowMs)) };
  }
  // A cancel that found no batch while this create was under way marked the part: what was made is cancelled too.
  if (await steps.cancelled()) created = await steps.cancelCreated(created);
  return { created, ...createdState(state, steps.idOf(created), nowMs) };
}

/**
 * Cancels a queued part: the batch created for it if there is one, else marks the part so that no
 * later look creates it, then looks once more for a batch a create elsewhere made meanwhile.
 */
export async function cancelQueuedCreate<Created>(queued: QueuedCreate, steps: QueuedCreateSteps<Created>, look: QueuedLook): Promise<QueuedSettlement<Created>> {
  const settled = await settleQueuedCreate(queued, steps, { ...look, create: false });
  if (settled.created !== undefined) return { created: await steps.cancelCreated(settled.created), ...(settled.state !== undefined && { state: settled.state }) };
  if (settled.status !== 'validating') return settled;
  await steps.markCancelled();
  const late = await steps.find(undefined);
  if (late === null) return { status: 'cancelled' };
  const state = parseQueuedState(look.part?.state);
  return { created: await steps.cancelCreated(late), ...createdState(state, steps.idOf(late), (look.now ?? Date.now)()) };
}

/** The state naming the batch created for the part; absent when it already does. */
function createdState(previous: QueuedCreateState | null, id: string, nowMs: number): { state?: string } {
  if (previous?.created === id) return {};
  return { state: encodeQueuedState({ refusals: previous?.refusals ?? 0, nextTryAt: previous?.nextTryAt ?? nowMs, created: id }) };
}

/**
 * A queued part's settlement as the provider batch Portico sees: the created batch (`toBatch`), or
 * the waiting / ended part; with the part's new state, if any, to keep.
 */
export function queuedProgress<Created>(queued: QueuedCreate, settled: QueuedSettlement<Created>, part: StagedPartContext | undefined, toBatch: (created: Created) => ProviderBatch, now: () => number = Date.now): ProviderBatch {
  const partState = settled.state === undefined ? {} : { partState: settled.state };
  if (settled.status === undefined) return { ...toBatch(settled.created), ...partState };
  return queuedBatch(queued, settled.status, Math.floor(now() / 1000), { expiresAt: queuedWindowEnd(queued, part), errors: settled.status === 'expired' ? settled.errors : null, ...partState });
}

/** A provider batch just asked to cancel: one that has not caught up yet is `cancelling`, not running. */
export function cancellingBatch(batch: ProviderBatch): ProviderBatch {
  return batch.status === 'validating' || batch.status === 'in_progress' ? { ...batch, status: 'cancelling' } : batch;
}

/** How a provider reaches its batches, for `queuedCreateLooks`. */
export interface QueuedCreateProvider<Created> {
  /** Names the provider in a waiting batch's expiry message. */
  upstreamName: string;
  /** The steps of a waiting part (`QueuedCreateSteps`). */
  steps(queued: QueuedCreate, call: CallOptions | undefined): QueuedCreateSteps<Created>;
  /** A created batch as OpenAI's. */
  toBatch(created: Created): ProviderBatch;
  /** The provider's own retrieve and cancel of a created batch, by its id. */
  retrieve(providerBatchId: string, call: CallOptions | undefined): Promise<Created>;
  cancel(providerBatchId: string, call: CallOptions | undefined): Promise<Created>;
}

/**
 * `retrieve` and `cancel` of a staged provider whose creates may be refused: a waiting part's id
 * (`queuedCreateId`) goes through the queue above (retried, found again, expired, or marked
 * cancelled), any other id straight to the provider.
 */
export function queuedCreateLooks<Created>(provider: QueuedCreateProvider<Created>): {
  retrieve(providerBatchId: string, call?: CallOptions, part?: StagedPartContext): Promise<ProviderBatch>;
  cancel(providerBatchId: string, call?: CallOptions, part?: StagedPartContext): Promise<ProviderBatch>;
} {
  const cancelling = (created: Created) => cancellingBatch(provider.toBatch(created));
  return {
    async retrieve(providerBatchId, call, part) {
      const queued = parseQueuedCreateId(providerBatchId);
      if (queued === null) return provider.toBatch(await provider.retrieve(providerBatchId, call));
      const settled = await settleQueuedCreate(queued, provider.steps(queued, call), { part, upstreamName: provider.upstreamName, create: true });
      return queuedProgress(queued, settled, part, provider.toBatch);
    },
    async cancel(providerBatchId, call, part) {
      const queued = parseQueuedCreateId(providerBatchId);
      if (queued === null) return cancelling(await provider.cancel(providerBatchId, call));
      // No batch yet: marking the part keeps every later look from creating it.
      const settled = await cancelQueuedCreate(queued, provider.steps(queued, call), { part, upstreamName: provider.upstreamName });
      return queuedProgress(queued, settled, part, cancelling);
    },
  };
}
