/**
 * Batches on providers that stage their lines themselves (`StagedBatchesCapability`): Anthropic
 * (inline in the create request), and the cloud providers staging in their Files API, GCS or S3.
 * Chosen by capability (`kind: 'staged'`), never by provider name.
 *
 * The gateway keeps the input file. `start` hands the provider the lines, placed on the
 * deployment (surrogate `custom_id`s `r<line index>`, `body.model` its `batchLineModel`), as a
 * source streamed from the blob store on demand: memory stays about one line whatever the file's
 * size. The provider stages them in parts; each part becomes a provider batch, their ids kept as
 * a list in `providerBatchId` and presented as one batch (`combineProgress`). Results come back
 * as OpenAI lines keyed by surrogate, mapped to the client's ids as they stream
 * (`custom-id-lookup.ts`).
 */
import type { Router } from '../../../routing/router.ts';
import { BatchStartUnconfirmedError, GatewayError } from '../../../spec/errors.ts';
import type { BatchInputLine, BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { BatchLineSource, CallOptions, Deployment, ProviderBatch, ProviderClient, StagedBatchPart, StagedBatchesCapability, StagedPartContext } from '../../../spec/provider.ts';
import type { BatchRecord, BatchStore } from '../../../storage/batch-store.ts';
import type { BlobStore } from '../../../storage/blob-store.ts';
import type { FileStore } from '../../../storage/file-store.ts';
import { batchOutputLineOf } from '../../../spec/batch-result-lines.ts';
import { newBatchRequestId } from '../../ids.ts';
import { readBatchInputLines } from '../../jsonl/batch-input-lines.ts';
import { createOutcomeUnknown, nativeMinimumNotMet, type BatchExecutor, type BatchResults, type BatchSize, type BatchStartInput, type StartedBatch } from '../batch-executor.ts';
import { batchExpiresAt } from '../batch-request.ts';
import { CustomIdLookup } from './custom-id-lookup.ts';
import { combineProgress, isOutputLine } from './provider-batch-parts.ts';
import { indexOfSurrogate, surrogateOf } from './surrogate-ids.ts';

export interface StagedExecutorDeps {
  router: Router;
  blobs: BlobStore;
  files: FileStore;
  /** Where what each part keeps between looks is written (`BatchRecord.partStates`). */
  batches: Pick<BatchStore, 'update'>;
}

/** The separator of the provider batch ids kept in `providerBatchId`. */
const PART_SEPARATOR = ',';

export class NativeStagedExecutor implements BatchExecutor {
  readonly execution = 'native_staged' as const;
  // Batches started inline before their providers moved here: same provider ids, same surrogates.
  readonly formerExecutions = ['native_inline'] as const;
  readonly #deps: StagedExecutorDeps;

  constructor(deps: StagedExecutorDeps) {
    this.#deps = deps;
  }

  handles(deployment: Deployment, client: ProviderClient, size?: BatchSize): boolean {
    return deployment.batchMode === 'native' && client.batches?.kind === 'staged' && nativeMinimumNotMet(client, size) === null;
  }

  /**
   * Stages, then creates one provider batch per part. All or nothing: when a create fails, the
   * batches already created are cancelled and the parts not created are discarded.
   */
  async start(input: BatchStartInput): Promise<StartedBatch> {
    const capability = stagedBatches(input.client);
    const blobKey = input.file.blobKey;
    const model = input.client.batchLineModel;
    const parts = await capability.stage(() => this.#placedLines(blobKey, model, 0, Infinity), { batchId: input.batchId, endpoint: input.request.endpoint, completionWindow: input.request.completionWindow }, input.call);
    checkParts(parts, input.deployment.id);
    const created: ProviderBatch[] = [];
    try {
      for (const part of parts) {
        const lines: BatchLineSource = () => this.#placedLines(blobKey, model, part.start, part.end);
        const batch = await this.#deps.router.sendTo(
          input.deployment.id,
          (client, call) =>
            stagedBatches(client).create(part, { endpoint: input.request.endpoint, completionWindow: input.request.completionWindow, metadata: input.request.metadata, lines, expiresAt: input.expiresAt }, call),
          // Never retried: a create whose answer was lost cannot be found again.
          { ...input.call, maxRetries: 0 },
        );
        if (batch.id.includes(PART_SEPARATOR)) throw new Error(`provider batch id '${batch.id}' contains '${PART_SEPARATOR}'`);
        created.push(batch);
      }
    } catch (error) {
      const deploymentId = input.deployment.id;
      await Promise.allSettled([
        ...created.map((batch) => this.#deps.router.sendTo(deploymentId, (client, call) => stagedBatches(client).cancel(batch.id, call))),
        ...parts.slice(created.length).map((part) => this.#deps.router.sendTo(deploymentId, async (client, call) => stagedBatches(client).discard?.(part, call))),
      ]);
      if (createOutcomeUnknown(error, input.call.signal)) throw new BatchStartUnconfirmedError(undefined, { cause: error });
      throw error;
    }
    const partStates = nextPartStates(created.map(() => null), created);
    return {
      providerBatchId: created.map((batch) => batch.id).join(PART_SEPARATOR),
      progress: combineProgress(created),
      warnings: [...parts.flatMap((part) => part.warnings ?? []), ...created.flatMap((batch) => batch.warnings ?? [])],
      ...(partStates !== undefined && { partStates }),
    };
  }

  async refresh(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch> {
    return combineProgress(await this.#eachPart(batch, call, (capability, id, attempt, part) => capability.retrieve(id, attempt, part)));
  }

  async cancel(batch: BatchRecord, call: CallOptions): Promise<ProviderBatch> {
    return combineProgress(await this.#eachPart(batch, call, (capability, id, attempt, part) => capability.cancel(id, attempt, part)));
  }

  async results(batch: BatchRecord, progress: ProviderBatch, call: CallOptions): Promise<BatchResults> {
    // The client's ids come back from the input file, read alongside the results. If the client
    // deleted the input while the batch ran, the surrogates are all that is left.
    const input = await this.#deps.files.getById(batch.inputFileId);
    const source = { blobKey: input?.blobKey ?? null, lineCount: input?.lineCount ?? null };
    // A cancelled or expired batch answers every line, as OpenAI's error file does: the lines no
    // part answered (a part cancelled before its provider created it, the requests a cancelled or
    // expired provider batch never ran) end cancelled or expired here, whichever the provider.
    const unanswered = progress.status === 'cancelled' ? 'cancelled' : progress.status === 'expired' ? 'expired' : null;
    return { output: this.#resultLines(batch, call, source, 'output', null), error: this.#resultLines(batch, call, source, 'error', unanswered) };
  }

  /**
   * One pass over every part's results, yielding the lines of one file (output or error), then,
   * when `unanswered` says so, a line for each input line no part answered in either file: under
   * its client id, or its surrogate when the input's content is gone (its line count stays).
   */
  async *#resultLines(
    batch: BatchRecord,
    call: CallOptions,
    source: { blobKey: string | null; lineCount: number | null },
    wanted: 'output' | 'error',
    unanswered: 'cancelled' | 'expired' | null,
  ): AsyncGenerator<BatchOutputLine> {
    const blobKey = source.blobKey;
    const capability = stagedBatches(this.#deps.router.clientFor(batch.deploymentId!));
    const customIds = blobKey === null ? undefined : new CustomIdLookup(() => this.#inputLines(blobKey));
    const answered = new Set<number>();
    const ids = providerIds(batch);
    const contexts = partContexts(batch, ids.length);
    try {
      for (const [part, partId] of ids.entries()) {
        for await (const line of capability.results(partId, call, contexts[part]!)) {
          const index = indexOfSurrogate(line.custom_id);
          if (unanswered !== null && index >= 0) answered.add(index);
          if ((isOutputLine(line) ? 'output' : 'error') !== wanted) continue;
          const customId = (await customIds?.idOf(index)) ?? line.custom_id;
          yield { id: newBatchRequestId(), custom_id: customId, response: line.response, error: line.error };
        }
      }
    } finally {
      await customIds?.close();
    }
    if (unanswered === null) return;
    const outcome = { type: unanswered } as const;
    if (blobKey === null) {
      for (let index = 0; index < (source.lineCount ?? 0); index += 1) {
        if (!answered.has(index)) yield { ...batchOutputLineOf({ customId: surrogateOf(index), outcome }), id: newBatchRequestId() };
      }
      return;
    }
    let index = 0;
    for await (const line of this.#inputLines(blobKey)) {
      if (!answered.has(index)) yield { ...batchOutputLineOf({ customId: line.custom_id, outcome }), id: newBatchRequestId() };
      index += 1;
    }
  }

  /** Lines `start` to `end` (excluded) as placed on the deployment, read from the store on demand. */
  async *#placedLines(blobKey: string | null, model: string, start: number, end: number): AsyncGenerator<BatchInputLine> {
    let index = 0;
    for await (const line of this.#inputLines(blobKey)) {
      if (index >= end) return;
      if (index >= start) yield { ...line, custom_id: surrogateOf(index), body: { ...line.body, model } };
      index += 1;
    }
  }

  async *#inputLines(blobKey: string | null): AsyncGenerator<BatchInputLine> {
    if (!blobKey) throw new GatewayError(500, 'The input file has no stored content.', { type: 'server_error' });
    yield* readBatchInputLines(await this.#deps.blobs.get(blobKey));
  }

  /**
   * Runs `operation` on every part with what Portico keeps for it, then keeps what the parts
   * answered to keep (written only when something changed: most looks change nothing).
   */
  async #eachPart(
    batch: BatchRecord,
    call: CallOptions,
    operation: (capability: StagedBatchesCapability, providerBatchId: string, attempt: CallOptions, part: StagedPartContext) => Promise<ProviderBatch>,
  ): Promise<ProviderBatch[]> {
    const deploymentId = batch.deploymentId!;
    const ids = providerIds(batch);
    const contexts = partContexts(batch, ids.length);
    const parts = await Promise.all(ids.map((id, index) => this.#deps.router.sendTo(deploymentId, (client, attempt) => operation(stagedBatches(client), id, attempt, contexts[index]!), call)));
    const partStates = nextPartStates(contexts.map((context) => context.state), parts);
    if (partStates !== undefined) await this.#deps.batches.update(batch.id, { partStates });
    return parts;
  }
}

/** What Portico hands each part's provider, one per part: the batch's window, and what the part keeps. */
function partContexts(batch: BatchRecord, parts: number): StagedPartContext[] {
  const expiresAt = batchExpiresAt(batch);
  return storedPartStates(batch, parts).map((state) => ({ expiresAt, state }));
}

/** The states kept for the batch's parts, one per part (a row written before they were kept has none). */
function storedPartStates(batch: Pick<BatchRecord, 'partStates'>, parts: number): (string | null)[] {
  const stored = batch.partStates ?? [];
  return Array.from({ length: parts }, (_, index) => stored[index] ?? null);
}

/** The states to keep after the parts answered `answers`; undefined when nothing changed. */
function nextPartStates(stored: readonly (string | null)[], answers: readonly ProviderBatch[]): (string | null)[] | null | undefined {
  const next = stored.map((state, index) => (answers[index]?.partState === undefined ? state : answers[index].partState));
  if (next.every((state, index) => state === stored[index])) return undefined;
  return next.every((state) => state === null) ? null : next;
}

function stagedBatches(client: ProviderClient): StagedBatchesCapability {
  if (client.batches?.kind !== 'staged') throw new Error(`deployment ${client.deployment.id} has no staged batch API`);
  return client.batches;
}

function providerIds(batch: BatchRecord): string[] {
  if (!batch.providerBatchId) throw new Error(`batch ${batch.id} has no provider batch`);
  return batch.providerBatchId.split(PART_SEPARATOR);
}

/** The parts must cover the lines in order, each once: a provider bug is caught before any batch is created. */
function checkParts(parts: readonly StagedBatchPart[], deploymentId: string): void {
  if (parts.length === 0) throw new Error(`deployment ${deploymentId} staged no part`);
  parts.forEach((part, index) => {
    const expectedStart = index === 0 ? 0 : parts[index - 1]!.end;
    if (part.start !== expectedStart || part.end <= part.start) {
      throw new Error(`deployment ${deploymentId} staged part ${index} as lines ${part.start}-${part.end} at '${part.location}'; expected consecutive lines from ${expectedStart}`);
    }
  });
}
