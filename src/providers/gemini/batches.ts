/**
 * Gemini batch mode as Portico's `StagedBatchesCapability`: the lines arrive as OpenAI
 * `BatchRequestInput`s with Portico's surrogate `custom_id`s, and `stage` puts each part where
 * Gemini wants it: inline in the create body for small parts (location `inline`), or as a JSONL
 * file uploaded to the Files API for large ones (location `files/...`) (`batch-requests.ts`). Results (inline responses or the responses
 * file) come back keyed by the same ids (`batch-results.ts`).
 *
 * A create refused with 429 RESOURCE_EXHAUSTED (the project's batch quota) is not a failure: the
 * part waits under a queued id and is created on a later look, with backoff
 * (`../batching/queued-creates.ts`). An inline part is staged to the Files API first, so that the
 * wait holds no lines in memory. A waiting part is cancelled by deleting its staged file: a part
 * whose file is gone is never created.
 * (https://ai.google.dev/gemini-api/docs/batch-api, https://ai.google.dev/api/batch-api)
 */
import { ConflictError, InvalidRequestError } from '../../spec/errors.ts';
import { batchOutputLineOf } from '../../spec/batch-result-lines.ts';
import type { BatchOutputLine } from '../../spec/openai-objects.ts';
import type { BatchCreateInput, BatchLineSource, BatchStagingContext, CallOptions, InlineBatchResult, ProviderBatch, StagedBatchPart, StagedBatchesCapability, TranslationWarning } from '../../spec/provider.ts';
import { cutIntoParts, linesOfRange } from '../batching/line-parts.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { stageBatchRequests, MAX_BATCH_FILE_BYTES, MAX_REQUESTS_PER_BATCH, type StagedBatchRequests } from './batch-requests.ts';
import { keysOfInputFile, parseResponsesFile, translateInlinedResponses } from './batch-results.ts';
import { batchIdOf, batchOutputOf, mapGeminiBatchState, toProviderBatch, unixSecondsOf, type GeminiBatchOperation } from './batch-status.ts';
import { isCreateRefusal, parseQueuedCreateId, QueuedCreates, queuedBatch, settleQueuedCreate, type QueuedCreate } from '../batching/queued-creates.ts';
import { deleteGeminiFile, downloadGeminiFile, geminiFileExists, uploadGeminiFile } from './files-upload.ts';
import { readGoogleJson, sendGoogleRequest, type GoogleApiEndpoint } from './http-client.ts';
import { isRecord } from './json.ts';

export interface GeminiBatchesOptions {
  model: string;
  apiVersion: string;
  /** Above this many bytes of create body, the requests go through the Files API. */
  inlineMaxBytes: number;
}

const DISPLAY_NAME = 'portico-batch';

/** A part's requests grow a little in translation: parts are cut at this share of the file limit. */
const BYTE_MARGIN = 0.75;
const INLINE = 'inline';
/** Pages of the newest batches looked through for one created for a queued part. */
const FIND_PAGES = 3;

/** The display name of the batch created for a queued part: names its staged file, so it can be found again. */
function queuedDisplayName(location: string): string {
  return `${DISPLAY_NAME}-${location.replace(/^files\//, '')}`;
}

export const QUEUED_WARNING: TranslationWarning = Object.freeze({
  param: 'input_file_id',
  message: 'Gemini refused the batch create for its quota (429 RESOURCE_EXHAUSTED): the batch waits in validating and is created once Gemini takes it.',
});

export function createGeminiBatches(endpoint: GoogleApiEndpoint, options: GeminiBatchesOptions): StagedBatchesCapability {
  const version = options.apiVersion;
  const encoder = new TextEncoder();
  const encode = async function* (chunks: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
    for await (const chunk of chunks) yield encoder.encode(chunk);
  };

  async function operationCall(method: 'GET' | 'POST', target: string, what: string, call: CallOptions | undefined, body?: { chunks: () => AsyncIterable<string>; bytes: number } | string): Promise<GeminiBatchOperation> {
    const response = await sendGoogleRequest(endpoint, {
      method,
      target,
      what,
      body: body === undefined || typeof body === 'string' ? body : encode(body.chunks()),
      contentLength: body === undefined || typeof body === 'string' ? undefined : body.bytes,
      signal: call?.signal,
      requestId: call?.requestId,
      totalDeadline: true,
    });
    return operationOf(await readGoogleJson(response, endpoint, what), endpoint.deploymentId);
  }

  const batchPath = (id: string) => `/${version}/batches/${encodeURIComponent(id)}`;
  const retrieve = (id: string, call?: CallOptions) => operationCall('GET', batchPath(id), 'batch retrieve', call);
  const createPath = `/${version}/models/${encodeURIComponent(options.model)}:batchGenerateContent`;
  const createFromFile = (fileName: string, call: CallOptions | undefined, displayName = DISPLAY_NAME) =>
    operationCall('POST', createPath, 'batch create', call, JSON.stringify({ batch: { displayName, inputConfig: { fileName } } }));
  const tries = new QueuedCreates();
  /** Staged file -> the batch created for it after a refusal (its provider id stays the queued one). */
  const createdFor = new Map<string, string>();

  /**
   * The batch created for a queued part, if any: remembered here, else looked for among the
   * newest batches by its display name (another instance may have created it).
   */
  async function findQueued(queued: QueuedCreate, call: CallOptions | undefined): Promise<GeminiBatchOperation | null> {
    const known = createdFor.get(queued.location);
    if (known !== undefined) return retrieve(known, call);
    const displayName = queuedDisplayName(queued.location);
    let pageToken: string | undefined;
    for (let page = 0; page < FIND_PAGES; page++) {
      const query = new URLSearchParams({ pageSize: '100', ...(pageToken !== undefined && { pageToken }) });
      const response = await sendGoogleRequest(endpoint, { method: 'GET', target: `/${version}/batches?${query}`, what: 'batch list', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
      const body = await readGoogleJson(response, endpoint, 'batch list');
      const operations = isRecord(body) && Array.isArray(body.operations) ? body.operations : [];
      const found = operations.find((operation) => isRecord(operation) && isRecord(operation.metadata) && operation.metadata.displayName === displayName);
      if (found !== undefined) {
        const operation = operationOf(found, endpoint.deploymentId);
        remember(queued, batchIdOf(operation));
        return operation;
      }
      pageToken = isRecord(body) && typeof body.nextPageToken === 'string' ? body.nextPageToken : undefined;
      if (pageToken === undefined) break;
    }
    return null;
  }

  function remember(queued: QueuedCreate, name: string): void {
    if (createdFor.size >= QueuedCreates.MAX_REMEMBERED) createdFor.delete(createdFor.keys().next().value!);
    createdFor.set(queued.location, name);
  }

  /** The part's requests as a Files API JSONL file (`files/...`). */
  async function uploadRequests(lines: BatchLineSource, endpointPath: string, call: CallOptions | undefined): Promise<string> {
    return uploadStaged(await stageBatchRequests({ endpoint: endpointPath, lines, displayName: DISPLAY_NAME }, { inlineMaxBytes: -1 }), call);
  }

  async function uploadStaged(staged: StagedBatchRequests, call: CallOptions | undefined): Promise<string> {
    const file = await uploadGeminiFile(endpoint, version, {
      displayName: `${DISPLAY_NAME}-input`,
      mimeType: 'application/jsonl',
      bytes: staged.bytes,
      chunks: () => encode(staged.chunks()),
      signal: call?.signal,
      requestId: call?.requestId,
    });
    return file.name;
  }

  /** Where a queued part stands; its create tried again when `create` and its backoff has passed. */
  function settleQueued(queued: QueuedCreate, call: CallOptions | undefined, mode: { create: boolean }) {
    return settleQueuedCreate(
      queued,
      {
        find: () => findQueued(queued, call),
        cancelled: async () => !(await geminiFileExists(endpoint, version, queued.location, { signal: call?.signal, requestId: call?.requestId })),
        create: async () => {
          const operation = await createFromFile(queued.location, call, queuedDisplayName(queued.location));
          remember(queued, batchIdOf(operation));
          return operation;
        },
      },
      { tries, upstreamName: 'Gemini', create: mode.create, nowSeconds: nowSeconds() },
    );
  }

  return {
    kind: 'staged',

    async stage(lines: BatchLineSource, context: BatchStagingContext, call?: CallOptions): Promise<StagedBatchPart[]> {
      checkCompletionWindow(context.completionWindow);
      const ranges = await cutIntoParts(lines, { maxRequests: MAX_REQUESTS_PER_BATCH, maxBytes: MAX_BATCH_FILE_BYTES * BYTE_MARGIN });
      const parts: StagedBatchPart[] = [];
      try {
        for (const range of ranges) {
          const staged = await stageBatchRequests({ endpoint: context.endpoint, lines: linesOfRange(lines, range), displayName: DISPLAY_NAME }, { inlineMaxBytes: options.inlineMaxBytes });
          if (staged.mode === 'inline') {
            // Sent in the create request: `create` builds the same body again from the part's lines.
            parts.push({ location: INLINE, ...range, warnings: staged.warnings });
            continue;
          }
          parts.push({ location: await uploadStaged(staged, call), ...range, warnings: staged.warnings });
        }
      } catch (error) {
        // Nothing half-staged is left behind.
        await Promise.allSettled(parts.map((part) => discardPart(part)));
        throw error;
      }
      return parts;
    },

    async create(part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource }, call?: CallOptions): Promise<ProviderBatch> {
      checkCompletionWindow(input.completionWindow);
      let location = part.location;
      try {
        if (location !== INLINE) return toProviderBatch(await createFromFile(location, call));
        const staged = await stageBatchRequests({ endpoint: input.endpoint, lines: input.lines, displayName: DISPLAY_NAME }, { inlineMaxBytes: options.inlineMaxBytes });
        if (staged.mode !== 'inline') throw new Error('a Gemini batch part staged inline no longer fits inline');
        return toProviderBatch(await operationCall('POST', createPath, 'batch create', call, staged));
      } catch (error) {
        if (!isCreateRefusal(error)) throw error;
        // Refused for the quota: the part waits, staged in the Files API, and is created later.
        if (location === INLINE) location = await uploadRequests(input.lines, input.endpoint, call);
        const waiting = { location, queuedAt: nowSeconds() };
        const queued = queuedBatch(waiting, 'validating', nowSeconds());
        tries.refused(waiting, error);
        return { ...queued, warnings: [QUEUED_WARNING] };
      }
    },

    discard: discardPart,

    async retrieve(providerBatchId: string, call?: CallOptions): Promise<ProviderBatch> {
      const queued = parseQueuedCreateId(providerBatchId);
      if (queued === null) return toProviderBatch(await retrieve(providerBatchId, call));
      const settled = await settleQueued(queued, call, { create: true });
      if (settled.created !== undefined) return toProviderBatch(settled.created);
      return queuedBatch(queued, settled.status, nowSeconds(), settled.status === 'expired' ? settled.errors : null);
    },

    async cancel(providerBatchId: string, call?: CallOptions): Promise<ProviderBatch> {
      const queued = parseQueuedCreateId(providerBatchId);
      if (queued !== null) {
        // No batch yet: deleting its staged file keeps any later look from creating it.
        const settled = await settleQueued(queued, call, { create: false });
        if (settled.created !== undefined) return this.cancel(batchIdOf(settled.created), call);
        if (settled.status === 'validating') await deleteGeminiFile(endpoint, version, queued.location);
        return queuedBatch(queued, settled.status === 'validating' ? 'cancelled' : settled.status, nowSeconds(), settled.status === 'expired' ? settled.errors : null);
      }
      const response = await sendGoogleRequest(endpoint, { method: 'POST', target: `${batchPath(providerBatchId)}:cancel`, what: 'batch cancel', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
      await response.body.dump();
      const batch = toProviderBatch(await retrieve(providerBatchId, call));
      // Cancel answers `{}`; a batch that has not caught up yet is cancelling, not running.
      return batch.status === 'validating' || batch.status === 'in_progress' ? { ...batch, status: 'cancelling' } : batch;
    },

    async *results(providerBatchId: string, call?: CallOptions): AsyncGenerator<BatchOutputLine> {
      for await (const result of resultsOf(providerBatchId, call)) yield batchOutputLineOf(result);
    },
  };

  /** A part staged as a file goes when its batch will not be created; an inline part holds nothing. */
  async function discardPart(part: StagedBatchPart): Promise<void> {
    if (part.location !== INLINE) await deleteGeminiFile(endpoint, version, part.location);
  }

  /** The batch's results by outcome; every request of a cancelled or expired batch answered. */
  async function* resultsOf(providerBatchId: string, call?: CallOptions): AsyncGenerator<InlineBatchResult> {
    const queued = parseQueuedCreateId(providerBatchId);
    if (queued !== null) {
      yield* queuedResultsOf(queued, call);
      return;
    }
    const operation = await retrieve(providerBatchId, call);
    const status = mapGeminiBatchState(operation.metadata?.state);
    if (status !== 'completed' && status !== 'failed' && status !== 'cancelled' && status !== 'expired') {
      throw new ConflictError(`Gemini batch ${providerBatchId} has not ended; its results are not available yet.`);
    }
    const translation = { created: unixSecondsOf(operation.metadata?.endTime) ?? Math.floor(Date.now() / 1000), fallbackModel: options.model };
    const output = batchOutputOf(operation);
    const answered = new Set<string>();
    if (output?.inlinedResponses !== undefined) {
      const requestKeys = (operation.metadata?.inputConfig?.requests?.requests ?? []).map((request) => request.metadata?.key);
      for (const result of translateInlinedResponses(output.inlinedResponses.inlinedResponses ?? [], requestKeys, translation)) {
        answered.add(result.customId);
        yield result;
      }
    } else if (output?.responsesFile !== undefined) {
      const file = await downloadGeminiFile(endpoint, version, output.responsesFile, { signal: call?.signal, requestId: call?.requestId });
      for await (const result of parseResponsesFile(file.body, translation)) {
        answered.add(result.customId);
        yield result;
      }
    }
    // A cancelled or expired batch answers for the requests it ran, if any; the others end
    // cancelled / expired, one line each, as OpenAI's error file has them.
    if (status !== 'cancelled' && status !== 'expired') return;
    const outcome = status === 'cancelled' ? ({ type: 'cancelled' } as const) : ({ type: 'expired' } as const);
    for await (const key of inputKeys(operation, call)) if (!answered.has(key)) yield { customId: key, outcome };
  }

  /**
   * A queued part's results: its batch's once created; an expired part's requests end expired, one
   * line each. A part cancelled before its create has no file left to read keys from: no lines
   * here (the staged executor answers them `batch_cancelled` from Portico's copy of the input).
   */
  async function* queuedResultsOf(queued: QueuedCreate, call: CallOptions | undefined): AsyncGenerator<InlineBatchResult> {
    const settled = await settleQueued(queued, call, { create: false });
    if (settled.created !== undefined) {
      yield* resultsOf(batchIdOf(settled.created), call);
      return;
    }
    if (settled.status === 'validating') throw new ConflictError(`The Gemini batch part staged as ${queued.location} has not been created; its results are not available yet.`);
    if (settled.status === 'cancelled') return;
    const file = await downloadGeminiFile(endpoint, version, queued.location, { signal: call?.signal, requestId: call?.requestId });
    for await (const key of keysOfInputFile(file.body)) yield { customId: key, outcome: { type: 'expired' } };
  }

  /** The keys of the batch's requests, from its input (inline requests, or the input file). */
  async function* inputKeys(operation: GeminiBatchOperation, call: CallOptions | undefined): AsyncGenerator<string> {
    const input = operation.metadata?.inputConfig;
    for (const request of input?.requests?.requests ?? []) if (typeof request.metadata?.key === 'string') yield request.metadata.key;
    if (typeof input?.fileName === 'string') {
      const file = await downloadGeminiFile(endpoint, version, input.fileName, { signal: call?.signal, requestId: call?.requestId });
      yield* keysOfInputFile(file.body);
    }
  }
}

function operationOf(body: unknown, deploymentId: string): GeminiBatchOperation {
  if (!isRecord(body) || typeof body.name !== 'string' || !/^batches\//.test(body.name)) {
    throw badUpstreamResponse('Gemini answered with something that is not a batch operation.', { deploymentId, isRetryable: false });
  }
  return body as unknown as GeminiBatchOperation;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function checkCompletionWindow(completionWindow: string): void {
  // Gemini aims at 24 hours (and expires a batch after 48); OpenAI's only window is `24h`.
  if (completionWindow !== '24h') throw new InvalidRequestError(`Gemini batches have a 24h target, not '${completionWindow}'.`, { param: 'completion_window' });
}
