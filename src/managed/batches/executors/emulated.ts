/**
 * Batches on deployments without a batch API (`hosted_vllm/`, `ollama/`, `mock/`, any
 * OpenAI-compatible server) or with `batch_mode: emulate`: Portico runs the lines itself.
 *
 * The lines are durable work items (`storage/batch-item-store.ts`); the batch engine
 * (`jobs/batch-engine.ts`) leases and runs them. This executor is the batch's side of it:
 * - `start` only checks the input and answers `validating` (items reference the stored batch,
 *   which does not exist yet while `start` runs);
 * - `refresh` loads the items of a `validating` batch, applies cancels and the 24 h window to
 *   items not yet run, and reports the state computed from the items (`emulated-progress.ts`).
 *   A batch starts once its first lines are loaded: that refresh reports it `in_progress` with
 *   the file's line count as its total and asks to be refreshed again at once
 *   (`syncAgainNow`), and the next one, in the same sync, loads the rest while the engine runs
 *   the first (`onLinesLoaded` tells it of each chunk). A batch with fewer items than its total
 *   is still loading (a crash cut the load short): its next refresh resumes it;
 * - `cancel` settles the pending items as cancelled; running ones finish;
 * - `results` streams the output and error lines in line order, page by page: a line as the JSON
 *   text its item stores (parsed only when it carries an error message to redact), the batch's
 *   usage summed from them as the files are written, not with a query over its items.
 */
import type { Router } from '../../../routing/router.ts';
import { GatewayError } from '../../../spec/errors.ts';
import type { BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { CallOptions, Deployment, ProviderBatch, ProviderClient } from '../../../spec/provider.ts';
import type { BatchItemResultText, BatchItemStore } from '../../../storage/batch-item-store.ts';
import type { BatchRecord, BatchStore } from '../../../storage/batch-store.ts';
import type { BlobStore } from '../../../storage/blob-store.ts';
import type { FileStore } from '../../../storage/file-store.ts';
import { unixSeconds } from '../../../storage/row-mapping.ts';
import { nativeMinimumNotMet, type BatchExecutor, type BatchResults, type BatchSize, type BatchStartInput, type StartedBatch } from '../batch-executor.ts';
import { mayCarryErrorMessage, type ResultLine } from '../result-lines.ts';
import { INSERT_CHUNK, loadBatchItems, type LoadRange } from './emulated-items.ts';
import { cancelledLine, expiredLine } from './emulated-lines.ts';
import { emulatedProgress, emulatedStatus, itemCount, type EmulatedSituation, type ItemCounts } from './emulated-progress.ts';

export interface EmulatedExecutorDeps {
  router: Router;
  items: BatchItemStore;
  batches: BatchStore;
  files: FileStore;
  blobs: BlobStore;
  /** More lines of a running batch were loaded: an engine that found none left may lease again. */
  onLinesLoaded?: (batchId: string) => void;
}

/**
 * Lines loaded before a batch is reported `in_progress`; the rest load while they run. One
 * insert: a 10,000-line file took about 200 ms to load (at 100% of a CPU on the 2-CPU bench
 * machine), all of it before the first line could start.
 */
const FIRST_LINES = INSERT_CHUNK;

/**
 * The rest of the lines load while the first run, and need only stay ahead of the engine (1,280
 * lines/s at 64 calls of 50 ms; they load at 15,000-50,000 a second): so they leave the process
 * idle as long as each chunk took, and live requests arriving meanwhile find the loop free. On
 * the busy 2-CPU machine the event loop's worst stall while loading 10,000 lines fell from
 * 25-230 ms to 11-27 ms (bench/README.md, issue 15).
 */
const REST_IDLE_SHARE = 1;

export class EmulatedExecutor implements BatchExecutor {
  readonly execution = 'emulated' as const;
  readonly #deps: EmulatedExecutorDeps;

  constructor(deps: EmulatedExecutorDeps) {
    this.#deps = deps;
  }

  handles(deployment: Deployment, client: ProviderClient, size?: BatchSize): boolean {
    return deployment.batchMode === 'emulate' || client.batches === undefined || nativeMinimumNotMet(client, size) !== null;
  }

  async start(input: BatchStartInput): Promise<StartedBatch> {
    if (!input.file.blobKey) {
      throw new GatewayError(500, 'The input file has no stored content to run as a batch.', { type: 'server_error' });
    }
    const now = unixSeconds();
    const minimum = input.deployment.batchMode === 'native' ? nativeMinimumNotMet(input.client, input.file) : null;
    return {
      ...(minimum !== null && {
        warnings: [
          {
            param: 'input_file_id',
            message: `The provider's batch API takes at least ${minimum} requests per batch; these ${input.file.lineCount} ran on Portico's own engine instead.`,
          },
        ],
      }),
      providerBatchId: null,
      progress: emulatedProgress(
        { batch: startingRecord(input, now), counts: zeroCounts(), cancelRequested: false, loaded: false },
        now,
      ),
    };
  }

  async refresh(batch: BatchRecord, _call: CallOptions): Promise<ProviderBatch> {
    const { items, batches } = this.#deps;
    let current = (await batches.getById(batch.id)) ?? batch;
    let loaded = current.status !== 'validating';
    let loadingTotal: number | undefined;
    let syncAgainNow = false;
    let counts = await items.countByState(batch.id);
    if (!loaded && !isCancelRequested(current)) {
      // The first lines only (all of them where the file's line count is unknown), resuming what
      // a crashed load left; the rest in the next refresh, while these run.
      const outcome = await this.#load(current, { from: itemCount(counts), until: FIRST_LINES });
      counts = await items.countByState(batch.id);
      if (outcome.kind === 'failed') return this.#report({ batch: current, counts, cancelRequested: false, loaded: false, failure: outcome.failure });
      loaded = true;
      if (!outcome.complete && outcome.fileLines !== null) {
        loadingTotal = outcome.fileLines;
        syncAgainNow = true;
      }
      // A cancel may have arrived while the lines were loading.
      current = (await batches.getById(batch.id)) ?? current;
    } else if (loaded && stillLoading(current, counts)) {
      // The rest of the lines, from where the items end (the next pass of the sync that started
      // the batch, or a load cut short by a crash). Loaded to the end of the file, so the items
      // are the batch's total from now on. A cancelled batch loads them too: its error file
      // answers every line.
      const outcome = await this.#load(current, { from: itemCount(counts), idleShare: REST_IDLE_SHARE });
      counts = await items.countByState(batch.id);
      if (outcome.kind === 'failed') return this.#report({ batch: current, counts, cancelRequested: false, loaded, failure: outcome.failure });
      current = (await batches.getById(batch.id)) ?? current;
    }
    const cancelRequested = isCancelRequested(current) || counts.cancelled > 0;
    if (cancelRequested && counts.pending > 0) {
      await items.settlePending(batch.id, 'cancelled');
      counts = await items.countByState(batch.id);
    } else if (!cancelRequested && loaded && counts.pending > 0 && current.expiresAt !== null && unixSeconds() >= current.expiresAt) {
      await items.settlePending(batch.id, 'expired');
      counts = await items.countByState(batch.id);
    }
    const situation: EmulatedSituation = { batch: current, counts, cancelRequested, loaded, ...(loadingTotal !== undefined && { loadingTotal }) };
    return { ...this.#report(situation), ...(syncAgainNow && { syncAgainNow }) };
  }

  async cancel(batch: BatchRecord, _call: CallOptions): Promise<ProviderBatch> {
    const { items } = this.#deps;
    await items.settlePending(batch.id, 'cancelled');
    const counts = await items.countByState(batch.id);
    const loaded = batch.status !== 'validating';
    return this.#report({ batch, counts, cancelRequested: true, loaded, ...(loaded && stillLoading(batch, counts) && { loadingTotal: batch.requestTotal }) });
  }

  #load(batch: BatchRecord, range: LoadRange) {
    const { onLinesLoaded } = this.#deps;
    return loadBatchItems(this.#deps, batch, this.#deps.router.clientFor(batch.deploymentId!).batchLineModel, {
      ...range,
      ...(onLinesLoaded !== undefined && { onChunk: () => onLinesLoaded(batch.id) }),
    });
  }

  async results(batch: BatchRecord, progress: ProviderBatch, _call: CallOptions): Promise<BatchResults> {
    if (progress.status === 'failed') return { output: null, error: null };
    // The counts come from the settled items (`emulatedProgress`): a file with no line is not
    // read for (a query) nor written and deleted again (an fsync).
    const { completed, failed } = progress.requestCounts;
    return { output: completed > 0 ? this.#lines(batch.id, 'output') : null, error: failed > 0 ? this.#lines(batch.id, 'error') : null };
  }

  /** One pass over the items of one file, in line order, yielding its lines. */
  async *#lines(batchId: string, file: 'output' | 'error'): AsyncGenerator<ResultLine> {
    for await (const item of this.#deps.items.iterateResultTexts(batchId, { states: file === 'output' ? OUTPUT_STATES : ERROR_STATES })) {
      const line = resultLine(item);
      if (line) yield line;
    }
  }

  #report(situation: EmulatedSituation): ProviderBatch {
    return emulatedProgress(situation, unixSeconds());
  }
}

/** Items whose lines go to the output file, and to the error file. */
const OUTPUT_STATES = ['succeeded'] as const;
const ERROR_STATES = ['failed', 'cancelled', 'expired'] as const;

function resultLine(item: BatchItemResultText): ResultLine | null {
  switch (item.state) {
    case 'succeeded':
    case 'failed':
      if (item.resultText === null) return null;
      // The stored text is `JSON.stringify`'s: written as it is, the same bytes as parsing and
      // encoding it again, unless it has a message to redact.
      if (mayCarryErrorMessage(item.resultText)) return JSON.parse(item.resultText) as BatchOutputLine;
      return { json: item.resultText, inputTokens: item.inputTokens, outputTokens: item.outputTokens, cachedTokens: item.cachedTokens };
    case 'cancelled':
      return cancelledLine(item.customId);
    case 'expired':
      return expiredLine(item.customId);
    default:
      return null;
  }
}

/**
 * A started batch with fewer items than its total has lines still to load: its total was the
 * file's line count when it started with its first lines in.
 */
function stillLoading(batch: BatchRecord, counts: ItemCounts): boolean {
  return itemCount(counts) < batch.requestTotal;
}

function isCancelRequested(batch: BatchRecord): boolean {
  return batch.status === 'cancelling' || batch.cancellingAt !== null;
}

function zeroCounts() {
  return { pending: 0, running: 0, succeeded: 0, failed: 0, cancelled: 0, expired: 0 };
}

/** What `emulatedProgress` needs of a batch that is not stored yet. */
function startingRecord(input: BatchStartInput, now: number): BatchRecord {
  return {
    id: input.batchId,
    status: 'validating',
    createdAt: now,
    inProgressAt: null,
    expiresAt: null,
    finalizingAt: null,
    cancellingAt: null,
  } as BatchRecord;
}
