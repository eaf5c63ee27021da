/**
 * How a batch runs is chosen by what the deployment can do, never by provider name:
 * a provider with a file-based batch API (`native_file`), one with an inline batch API
 * (`native_inline`), one that stages the lines itself (`native_staged`), or Portico's own engine
 * (`emulated`). Each executor starts, refreshes,
 * cancels and yields the results of its batches; `batch-sync.ts` turns that into the one
 * stored state.
 */
import { GatewayError } from '../../spec/errors.ts';
import type { CallOptions, Deployment, ProviderBatch, ProviderClient, TranslationWarning } from '../../spec/provider.ts';
import type { BatchExecution, BatchRecord } from '../../storage/batch-store.ts';
import type { FileRecord } from '../../storage/file-store.ts';
import type { BatchCreateRequest } from './batch-request.ts';
import type { ResultLine } from './result-lines.ts';

export interface BatchStartInput {
  batchId: string;
  request: BatchCreateRequest;
  file: FileRecord;
  /** The batch's `expires_at` (unix seconds): its `created_at` plus its completion window. */
  expiresAt: number;
  deployment: Deployment;
  client: ProviderClient;
  call: CallOptions;
}

export interface StartedBatch {
  /** The provider's id(s) of the batch; null for the engine. */
  providerBatchId: string | null;
  /** The first state reported, when there is one. */
  progress: ProviderBatch | null;
  /** What the provider's translation of the lines dropped or clamped (kept in the batch's metadata). */
  warnings?: readonly TranslationWarning[];
  /** What each part keeps between looks (`BatchRecord.partStates`), when any part keeps something. */
  partStates?: (string | null)[] | null;
}

/** Where a finished batch's result lines come from. */
export interface BatchResults {
  output: AsyncIterable<ResultLine> | null;
  error: AsyncIterable<ResultLine> | null;
  /** Provider copies of the result files, recorded so deleting our file removes them too. */
  providerOutputFileId?: string | null;
  providerErrorFileId?: string | null;
}

export interface BatchExecutor {
  readonly execution: BatchExecution;
  /**
   * Executions of batches stored under an older name that this executor follows to their end
   * (`native_inline`: Anthropic's, Gemini's and Vertex AI's batches before they moved to staged
   * batches, with the same provider ids and surrogates).
   */
  readonly formerExecutions?: readonly BatchExecution[];
  /** Whether this executor can run batches on the deployment (of `size`, when known). */
  handles(deployment: Deployment, client: ProviderClient, size?: BatchSize): boolean;
  /**
   * Creates the batch (its row already records the intent, under `input.batchId`). A create that
   * may or may not have reached the provider is never retried blindly: executors that can look
   * for it implement `findStarted`; the others throw `BatchStartUnconfirmedError` for it.
   */
  start(input: BatchStartInput): Promise<StartedBatch>;
  /**
   * The provider batch created for `batch` (found by the marker `start` sent with it), or null
   * when the provider has none. Throws when the provider cannot be asked now, and
   * `BatchStartUnconfirmedError` when it never can (no marker was sent).
   */
  findStarted?(batch: Pick<BatchRecord, 'id' | 'deploymentId' | 'createdAt' | 'metadata'>, call: CallOptions): Promise<StartedBatch | null>;
  /** The batch's state now. */
  refresh(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch>;
  /** Asks for cancellation; answers the state after the request. */
  cancel(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch>;
  /** The result lines of a batch that reached a terminal state (`progress`). */
  results(batch: BatchRecord, progress: ProviderBatch, call: CallOptions): Promise<BatchResults>;
}

/** What an executor may need to know of the batch to say whether it runs it. */
export interface BatchSize {
  /** Request lines of the input file; `null` when not counted. */
  lineCount: number | null;
}

/**
 * The fewest requests the deployment's native batch API takes, when this batch has fewer
 * (Bedrock's jobs need 100 records): such a batch runs on Portico's engine instead.
 */
export function nativeMinimumNotMet(client: ProviderClient, size: BatchSize | undefined): number | null {
  const minimum = client.batches?.kind === 'staged' ? client.batches.minRequestsPerBatch : undefined;
  if (minimum === undefined || size?.lineCount == null) return null;
  return size.lineCount < minimum ? minimum : null;
}

/**
 * Whether a failed create may still have reached the provider, so that creating again could
 * start a second batch: a timeout, a broken connection, a 5xx, or a call cut off by its client.
 * A 4xx (429 included) was refused: nothing was created.
 */
export function createOutcomeUnknown(error: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted) return true;
  return error instanceof GatewayError && (error.httpStatus >= 500 || (error.isRetryable && error.httpStatus !== 429));
}
