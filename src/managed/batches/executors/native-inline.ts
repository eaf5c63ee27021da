/**
 * Batches on providers whose batch API takes the requests inline (Anthropic Message Batches,
 * WIRE.md §3.1). The gateway keeps the input file; each line goes out with a surrogate
 * `custom_id` (`r<line index>`, safe for Anthropic's `^[a-zA-Z0-9_-]{1,64}$`) that is mapped back
 * to the client's id when results return. Inputs over the provider's per-batch limits are split
 * into several provider batches, stored as a comma list and presented as one. The input is
 * streamed from the blob store, never held: memory stays about one line whatever the file's size,
 * when creating and when mapping results back (`custom-id-lookup.ts`).
 */
import type { Router } from '../../../routing/router.ts';
import { BatchStartUnconfirmedError, GatewayError } from '../../../spec/errors.ts';
import type { BatchInputLine, BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { CallOptions, Deployment, InlineBatchesCapability, ProviderBatch, ProviderClient, StagedBatchesCapability } from '../../../spec/provider.ts';
import type { BatchRecord } from '../../../storage/batch-store.ts';
import type { BlobStore } from '../../../storage/blob-store.ts';
import type { FileStore } from '../../../storage/file-store.ts';
import { newBatchRequestId } from '../../ids.ts';
import { readBatchInputLines } from '../../jsonl/batch-input-lines.ts';
import { createOutcomeUnknown, type BatchExecutor, type BatchResults, type BatchStartInput, type StartedBatch } from '../batch-executor.ts';
import { CustomIdLookup } from './custom-id-lookup.ts';
import { combineProgress, isOutputLine } from './provider-batch-parts.ts';
import { indexOfSurrogate, surrogateOf } from './surrogate-ids.ts';

export interface InlineExecutorDeps {
  router: Router;
  blobs: BlobStore;
  files: FileStore;
}

/** The translated body grows a little (content blocks); keep a margin under the byte limit. */
const BYTE_MARGIN = 0.75;


export class NativeInlineExecutor implements BatchExecutor {
  readonly execution = 'native_inline' as const;
  readonly #deps: InlineExecutorDeps;

  constructor(deps: InlineExecutorDeps) {
    this.#deps = deps;
  }

  handles(deployment: Deployment, client: ProviderClient): boolean {
    return deployment.batchMode === 'native' && client.batches?.kind === 'inline';
  }

  /**
   * Streams the input twice over, never holding it: once to cut it into parts under the
   * provider's limits (keeping only where each part starts and ends), then once per part, the
   * provider reading that part's lines from the blob store as it sends them.
   */
  async start(input: BatchStartInput): Promise<StartedBatch> {
    const capability = inlineBatches(input.client);
    const blobKey = input.file.blobKey;
    const placed = (line: BatchInputLine, index: number): BatchInputLine => ({
      ...line,
      custom_id: surrogateOf(index),
      body: { ...line.body, model: input.client.batchLineModel },
    });
    const parts = await planParts(
      this.#inputLines(blobKey),
      (line, index) => Buffer.byteLength(JSON.stringify(placed(line, index))),
      capability.maxRequestsPerBatch,
      capability.maxBytesPerBatch * BYTE_MARGIN,
    );
    const created: ProviderBatch[] = [];
    try {
      for (const part of parts) {
        const lines = () => this.#partLines(blobKey, part, placed);
        created.push(
          await this.#deps.router.sendTo(
            input.deployment.id,
            (client, call) =>
              inlineBatches(client).create(
                { endpoint: input.request.endpoint, completionWindow: input.request.completionWindow, metadata: input.request.metadata, lines },
                call,
              ),
            // Never retried: the provider keeps no marker to find a create whose answer was lost.
            { ...input.call, maxRetries: 0 },
          ),
        );
      }
    } catch (error) {
      // All or nothing: a split batch whose later part failed cancels the parts already sent.
      await Promise.allSettled(created.map((batch) => this.#deps.router.sendTo(input.deployment.id, (client, call) => inlineBatches(client).cancel(batch.id, call))));
      if (createOutcomeUnknown(error, input.call.signal)) throw new BatchStartUnconfirmedError(undefined, { cause: error });
      throw error;
    }
    return { providerBatchId: created.map((b) => b.id).join(','), progress: combineProgress(created), warnings: created.flatMap((b) => b.warnings ?? []) };
  }

  async refresh(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch> {
    return combineProgress(await this.#eachPart(batch, call, (capability, id, attempt) => capability.retrieve(id, attempt)));
  }

  async cancel(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch> {
    return combineProgress(await this.#eachPart(batch, call, (capability, id, attempt) => capability.cancel(id, attempt)));
  }

  async results(batch: BatchRecord, _progress: ProviderBatch, call: CallOptions): Promise<BatchResults> {
    // Results arrive keyed by surrogate; the client's ids come back from the input file, read
    // alongside the results (never all held). If the client deleted the input while the batch
    // ran, the surrogates are all that is left.
    const input = await this.#deps.files.getById(batch.inputFileId);
    const blobKey = input?.blobKey ?? null;
    const lines = (wanted: 'output' | 'error') => this.#resultLines(batch, call, blobKey, wanted);
    return { output: lines('output'), error: lines('error') };
  }

  /** One pass over every part's results, yielding the lines of one file (output or error). */
  async *#resultLines(batch: BatchRecord, call: CallOptions, blobKey: string | null, wanted: 'output' | 'error'): AsyncGenerator<BatchOutputLine> {
    const capability = runningBatches(this.#deps.router.clientFor(batch.deploymentId!));
    const customIds = blobKey === null ? undefined : new CustomIdLookup(() => this.#inputLines(blobKey));
    try {
      yield* this.#resultLinesOf(batch, call, capability, customIds, wanted);
    } finally {
      await customIds?.close();
    }
  }

  async *#resultLinesOf(
    batch: BatchRecord,
    call: CallOptions,
    capability: InlineBatchesCapability | StagedBatchesCapability,
    customIds: CustomIdLookup | undefined,
    wanted: 'output' | 'error',
  ): AsyncGenerator<BatchOutputLine> {
    if (capability.kind === 'staged') {
      // A batch started inline before its provider moved to staged batches: same ids, same surrogates.
      for (const partId of providerIds(batch)) {
        for await (const line of capability.results(partId, call)) {
          if ((isOutputLine(line) ? 'output' : 'error') !== wanted) continue;
          yield { id: newBatchRequestId(), custom_id: (await customIds?.idOf(indexOfSurrogate(line.custom_id))) ?? line.custom_id, response: line.response, error: line.error };
        }
      }
      return;
    }
    for (const partId of providerIds(batch)) {
      for await (const result of capability.results(partId, call)) {
        const outcome = result.outcome;
        if ((outcome.type === 'succeeded') !== (wanted === 'output')) continue;
        const customId = (await customIds?.idOf(indexOfSurrogate(result.customId))) ?? result.customId;
        if (outcome.type === 'succeeded' || outcome.type === 'http_error') {
          yield { id: newBatchRequestId(), custom_id: customId, response: { status_code: outcome.statusCode, request_id: outcome.requestId, body: outcome.body }, error: null };
        } else if (outcome.type === 'expired') {
          yield { id: newBatchRequestId(), custom_id: customId, response: null, error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' } };
        } else {
          yield { id: newBatchRequestId(), custom_id: customId, response: null, error: { code: 'batch_cancelled', message: 'This request was cancelled before it could be executed.' } };
        }
      }
    }
  }

  /** The lines of one part, as placed on the provider, read from the store on demand. */
  async *#partLines(blobKey: string | null, part: LineRange, placed: (line: BatchInputLine, index: number) => BatchInputLine): AsyncGenerator<BatchInputLine> {
    let index = 0;
    for await (const line of this.#inputLines(blobKey)) {
      if (index >= part.end) return;
      if (index >= part.start) yield placed(line, index);
      index += 1;
    }
  }

  async *#inputLines(blobKey: string | null): AsyncGenerator<BatchInputLine> {
    if (!blobKey) throw new GatewayError(500, 'The input file has no stored content.', { type: 'server_error' });
    yield* readBatchInputLines(await this.#deps.blobs.get(blobKey));
  }

  async #eachPart(
    batch: BatchRecord,
    call: CallOptions,
    operation: (capability: InlineBatchesCapability | StagedBatchesCapability, providerBatchId: string, attempt: CallOptions) => Promise<ProviderBatch>,
  ): Promise<ProviderBatch[]> {
    const deploymentId = batch.deploymentId!;
    return Promise.all(providerIds(batch).map((id) => this.#deps.router.sendTo(deploymentId, (client, attempt) => operation(runningBatches(client), id, attempt), call)));
  }
}

/**
 * The capability that answers for a running inline batch: its provider's inline batches, or the
 * staged batches its provider moved to since (Anthropic did: a batch it started inline keeps its
 * ids and surrogates, and is followed to its end).
 */
function runningBatches(client: ProviderClient): InlineBatchesCapability | StagedBatchesCapability {
  if (client.batches?.kind === 'staged') return client.batches;
  return inlineBatches(client);
}

function inlineBatches(client: ProviderClient): InlineBatchesCapability {
  if (client.batches?.kind !== 'inline') throw new Error(`deployment ${client.deployment.id} has no inline batch API`);
  return client.batches;
}

function providerIds(batch: BatchRecord): string[] {
  if (!batch.providerBatchId) throw new Error(`batch ${batch.id} has no provider batch`);
  return batch.providerBatchId.split(',');
}

/** Lines `start` (included) to `end` (excluded) of the input, by index among its request lines. */
export interface LineRange {
  start: number;
  end: number;
}

/** Cuts streamed lines into parts under the provider's request-count and byte limits; keeps only the ranges. */
export async function planParts(
  lines: AsyncIterable<BatchInputLine>,
  sizeOf: (line: BatchInputLine, index: number) => number,
  maxRequests: number,
  maxBytes: number,
): Promise<LineRange[]> {
  const parts: LineRange[] = [];
  let start = 0;
  let index = 0;
  let bytes = 0;
  for await (const line of lines) {
    const size = sizeOf(line, index);
    if (index > start && (index - start >= maxRequests || bytes + size > maxBytes)) {
      parts.push({ start, end: index });
      start = index;
      bytes = 0;
    }
    bytes += size;
    index += 1;
  }
  if (index > start) parts.push({ start, end: index });
  return parts;
}
