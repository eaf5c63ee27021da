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
import { TERMINAL_BATCH_STATUSES, type BatchOutputLine } from '../../spec/openai-objects.ts';
import type { BatchCreateInput, BatchLineSource, BatchStagingContext, CallOptions, InlineBatchResult, ProviderBatch, StagedBatchPart, StagedBatchesCapability, StagedPartContext, TranslationWarning } from '../../spec/provider.ts';
import { cutIntoParts, linesOfRange } from '../batching/line-parts.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { stageBatchRequests, MAX_BATCH_FILE_BYTES, MAX_REQUESTS_PER_BATCH, type StagedBatchRequests } from './batch-requests.ts';
import { parseResponsesFile, translateInlinedResponses } from './batch-results.ts';
import { batchIdOf, batchOutputOf, mapGeminiBatchState, toProviderBatch, unixSecondsOf, type GeminiBatchOperation } from './batch-status.ts';
import { firstRefusal, isCreateRefusal, parseQueuedCreateId, queuedCreateLooks, settleQueuedCreate, type QueuedCreate, type QueuedCreateSteps } from '../batching/queued-creates.ts';
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
/** Batches per page of the list a queued part's batch is looked for in. */
const LIST_PAGE_SIZE = 100;
/** How far Google's clock may be behind ours: the list is read this far past a part's first create. */
const CLOCK_SKEW_SECONDS = 600;

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

  async function cancelBatch(id: string, call: CallOptions | undefined): Promise<GeminiBatchOperation> {
    const response = await sendGoogleRequest(endpoint, { method: 'POST', target: `${batchPath(id)}:cancel`, what: 'batch cancel', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
    await response.body.dump();
    return retrieve(id, call);
  }

  /**
   * The batch created for a queued part, looked for by its display name in the account's batch
   * list, page after page until the batches are older than the part's first create (none made for
   * it can be older) or the list ends: found whatever the account's batch count.
   */
  async function findQueued(queued: QueuedCreate, call: CallOptions | undefined): Promise<GeminiBatchOperation | null> {
    const displayName = queuedDisplayName(queued.location);
    const oldest = queued.queuedAt - CLOCK_SKEW_SECONDS;
    const seen = new Set<string>();
    let pageToken: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ pageSize: String(LIST_PAGE_SIZE), ...(pageToken !== undefined && { pageToken }) });
      const response = await sendGoogleRequest(endpoint, { method: 'GET', target: `/${version}/batches?${query}`, what: 'batch list', signal: call?.signal, requestId: call?.requestId, totalDeadline: true });
      const body = await readGoogleJson(response, endpoint, 'batch list');
      const operations = isRecord(body) && Array.isArray(body.operations) ? body.operations.filter(isRecord) : [];
      const found = operations.find((operation) => isRecord(operation.metadata) && operation.metadata.displayName === displayName);
      if (found !== undefined) return operationOf(found, endpoint.deploymentId);
      // Listed newest first, a page that reaches past the part's first create ends the search (the
      // order is not documented: a page not newest first reads on to the end of the list).
      const createdTimes = operations.map((operation) => (isRecord(operation.metadata) ? unixSecondsOf(operation.metadata.createTime as string | undefined) : null)).filter((created) => created !== null);
      const newestFirst = createdTimes.every((created, index) => index === 0 || created <= createdTimes[index - 1]!);
      if (newestFirst && createdTimes.length > 0 && createdTimes.at(-1)! < oldest) return null;
      pageToken = isRecord(body) && typeof body.nextPageToken === 'string' && body.nextPageToken !== '' ? body.nextPageToken : undefined;
      // The end of the list (or a token answered twice, which would loop forever).
      if (pageToken === undefined || seen.has(pageToken)) return null;
      seen.add(pageToken);
    }
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

  /** How a queued part is looked at, created and cancelled: a part whose staged file is gone is never created. */
  function queuedSteps(queued: QueuedCreate, call: CallOptions | undefined): QueuedCreateSteps<GeminiBatchOperation> {
    return {
      find: (known) => (known !== undefined ? retrieve(known, call) : findQueued(queued, call)),
      idOf: batchIdOf,
      cancelled: async () => !(await geminiFileExists(endpoint, version, queued.location, { signal: call?.signal, requestId: call?.requestId })),
      markCancelled: () => deleteGeminiFile(endpoint, version, queued.location),
      create: () => createFromFile(queued.location, call, queuedDisplayName(queued.location)),
      cancelCreated: (created) => (TERMINAL_BATCH_STATUSES.has(mapGeminiBatchState(created.metadata?.state)) ? Promise.resolve(created) : cancelBatch(batchIdOf(created), call)),
    };
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

    async create(part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource; expiresAt: number }, call?: CallOptions): Promise<ProviderBatch> {
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
        return { ...firstRefusal(location, error, input.expiresAt), warnings: [QUEUED_WARNING] };
      }
    },

    discard: discardPart,

    ...queuedCreateLooks({ upstreamName: 'Gemini', steps: queuedSteps, toBatch: toProviderBatch, retrieve: retrieve, cancel: cancelBatch }),

    async *results(providerBatchId: string, call?: CallOptions, part?: StagedPartContext): AsyncGenerator<BatchOutputLine> {
      for await (const result of resultsOf(providerBatchId, call, part)) yield batchOutputLineOf(result);
    },
  };

  /** A part staged as a file goes when its batch will not be created; an inline part holds nothing. */
  async function discardPart(part: StagedBatchPart): Promise<void> {
    if (part.location !== INLINE) await deleteGeminiFile(endpoint, version, part.location);
  }

  /**
   * The batch's results, the requests it answered; those a cancelled or expired batch never ran
   * (and a queued part never created) are answered by the staged executor from Portico's input.
   */
  async function* resultsOf(providerBatchId: string, call: CallOptions | undefined, part: StagedPartContext | undefined): AsyncGenerator<InlineBatchResult> {
    const queued = parseQueuedCreateId(providerBatchId);
    if (queued !== null) {
      const settled = await settleQueuedCreate(queued, queuedSteps(queued, call), { part, upstreamName: 'Gemini', create: false });
      if (settled.created !== undefined) yield* resultsOf(batchIdOf(settled.created), call, part);
      else if (settled.status === 'validating') throw new ConflictError(`The Gemini batch part staged as ${queued.location} has not been created; its results are not available yet.`);
      return;
    }
    const operation = await retrieve(providerBatchId, call);
    const status = mapGeminiBatchState(operation.metadata?.state);
    if (!TERMINAL_BATCH_STATUSES.has(status)) throw new ConflictError(`Gemini batch ${providerBatchId} has not ended; its results are not available yet.`);
    const translation = { created: unixSecondsOf(operation.metadata?.endTime) ?? Math.floor(Date.now() / 1000), fallbackModel: options.model };
    const output = batchOutputOf(operation);
    if (output?.inlinedResponses !== undefined) {
      const requestKeys = (operation.metadata?.inputConfig?.requests?.requests ?? []).map((request) => request.metadata?.key);
      yield* translateInlinedResponses(output.inlinedResponses.inlinedResponses ?? [], requestKeys, translation);
    } else if (output?.responsesFile !== undefined) {
      const file = await downloadGeminiFile(endpoint, version, output.responsesFile, { signal: call?.signal, requestId: call?.requestId });
      yield* parseResponsesFile(file.body, translation);
    }
  }
}

function operationOf(body: unknown, deploymentId: string): GeminiBatchOperation {
  if (!isRecord(body) || typeof body.name !== 'string' || !/^batches\//.test(body.name)) {
    throw badUpstreamResponse('Gemini answered with something that is not a batch operation.', { deploymentId, isRetryable: false });
  }
  return body as unknown as GeminiBatchOperation;
}

function checkCompletionWindow(completionWindow: string): void {
  // Gemini aims at 24 hours (and expires a batch after 48); OpenAI's only window is `24h`.
  if (completionWindow !== '24h') throw new InvalidRequestError(`Gemini batches have a 24h target, not '${completionWindow}'.`, { param: 'completion_window' });
}
