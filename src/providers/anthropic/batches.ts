/**
 * Anthropic Message Batches as Portico's `StagedBatchesCapability`
 * (https://docs.anthropic.com/en/api/creating-message-batches, WIRE.md §3). Anthropic takes a
 * batch's requests inline in the create request: staging cuts the lines into parts under its
 * limits (100,000 requests, 256 MB; a margin for the translated body's growth) and stages each
 * `inline`; `create` streams that part's lines, translated, into the request body.
 */
import { batchOutputLineOf } from '../../spec/batch-result-lines.ts';
import { ConflictError, InvalidRequestError } from '../../spec/errors.ts';
import type { BatchOutputLine } from '../../spec/openai-objects.ts';
import type { BatchCreateInput, BatchLineSource, BatchStagingContext, CallOptions, ProviderBatch, StagedBatchPart, StagedBatchesCapability } from '../../spec/provider.ts';
import { cutIntoParts } from '../batching/line-parts.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { buildBatchRequestsBody, MAX_BYTES_PER_BATCH, MAX_REQUESTS_PER_BATCH } from './batch-requests.ts';
import { parseBatchResults } from './batch-results.ts';
import { toProviderBatch, unixSecondsOf } from './batch-status.ts';
import type { ChatRequestTranslationOptions } from './chat-request.ts';
import { readJson, sendAnthropicRequest, type AnthropicEndpoint } from './http-client.ts';
import { isRecord } from './json.ts';
import type { AnthropicMessageBatch } from './wire-types.ts';

const BATCHES_PATH = '/v1/messages/batches';

const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';
/** The translated body grows a little (content blocks): parts are cut at this share of the byte limit. */
const BYTE_MARGIN = 0.75;

export interface AnthropicBatchLimits {
  maxRequests: number;
  maxBytes: number;
}

export function createAnthropicBatches(
  endpoint: AnthropicEndpoint,
  translation: ChatRequestTranslationOptions,
  limits: AnthropicBatchLimits = { maxRequests: MAX_REQUESTS_PER_BATCH, maxBytes: MAX_BYTES_PER_BATCH },
): StagedBatchesCapability {
  async function fetchBatch(
    method: 'GET' | 'POST',
    target: string,
    what: string,
    options: CallOptions | undefined,
    body?: { chunks: () => AsyncIterable<string>; bytes: number },
  ) {
    const response = await sendAnthropicRequest(endpoint, {
      method,
      target,
      what,
      body: body === undefined ? undefined : encodeChunks(body.chunks()),
      contentLength: body?.bytes,
      signal: options?.signal,
      requestId: options?.requestId,
      totalDeadline: true,
    });
    return messageBatchOf(await readJson(response, endpoint, what), endpoint.deploymentId);
  }

  return {
    kind: 'staged',

    /** One pass over the lines, keeping only where each part starts and ends. */
    async stage(lines: BatchLineSource, context: BatchStagingContext): Promise<StagedBatchPart[]> {
      checkCompletionWindow(context.completionWindow);
      if (context.endpoint !== CHAT_COMPLETIONS_ENDPOINT) {
        throw new InvalidRequestError(`Anthropic batches support only ${CHAT_COMPLETIONS_ENDPOINT}, not '${context.endpoint}'.`, { param: 'endpoint' });
      }
      const ranges = await cutIntoParts(lines, { maxRequests: limits.maxRequests, maxBytes: limits.maxBytes * BYTE_MARGIN });
      const parts: StagedBatchPart[] = ranges.map((range) => ({ location: 'inline', ...range }));
      if (parts.length === 0) throw new InvalidRequestError('A batch needs at least one request.', { param: 'input_file_id' });
      return parts;
    },

    async create(_part: StagedBatchPart, input: BatchCreateInput & { lines: BatchLineSource }, options?: CallOptions): Promise<ProviderBatch> {
      checkCompletionWindow(input.completionWindow);
      const body = await buildBatchRequestsBody(input, translation, limits);
      const batch = await fetchBatch('POST', BATCHES_PATH, 'batch create', options, body);
      return { ...toProviderBatch(batch), warnings: body.warnings };
    },

    async retrieve(providerBatchId: string, options?: CallOptions): Promise<ProviderBatch> {
      return toProviderBatch(await fetchBatch('GET', batchPath(providerBatchId), 'batch retrieve', options));
    },

    async cancel(providerBatchId: string, options?: CallOptions): Promise<ProviderBatch> {
      return toProviderBatch(await fetchBatch('POST', `${batchPath(providerBatchId)}/cancel`, 'batch cancel', options));
    },

    async *results(providerBatchId: string, options?: CallOptions): AsyncGenerator<BatchOutputLine> {
      const batch = await fetchBatch('GET', batchPath(providerBatchId), 'batch retrieve', options);
      if (batch.processing_status !== 'ended') {
        throw new ConflictError(`Anthropic batch ${providerBatchId} has not ended; its results are not available yet.`);
      }
      const response = await sendAnthropicRequest(endpoint, {
        method: 'GET',
        target: resultsTarget(endpoint, batch),
        what: 'batch results download',
        accept: 'application/x-jsonl',
        signal: options?.signal,
        requestId: options?.requestId,
        // Results can be large: bound the silences, not the whole download.
        totalDeadline: false,
      });
      const created = unixSecondsOf(batch.ended_at) ?? Math.floor(Date.now() / 1000);
      for await (const result of parseBatchResults(response.body, { created, fallbackModel: translation.model })) yield batchOutputLineOf(result);
    },
  };
}

/** Anthropic batches always end within 24 h; OpenAI's only window is also `24h`. */
function checkCompletionWindow(completionWindow: string): void {
  if (completionWindow !== '24h') throw new InvalidRequestError(`Anthropic batches have a fixed 24h window, not '${completionWindow}'.`, { param: 'completion_window' });
}

function batchPath(providerBatchId: string): string {
  return `${BATCHES_PATH}/${encodeURIComponent(providerBatchId)}`;
}

/**
 * Anthropic's docs say to use `results_url` rather than assume its path. It carries our API
 * key, so it is followed only on the deployment's own origin; otherwise the documented path
 * on the API root is used.
 */
function resultsTarget(endpoint: AnthropicEndpoint, batch: AnthropicMessageBatch): string {
  const fallback = `${batchPath(batch.id)}/results`;
  if (!batch.results_url) return fallback;
  try {
    const url = new URL(batch.results_url, endpoint.apiBase);
    return url.origin === new URL(endpoint.apiBase).origin ? url.href : fallback;
  } catch {
    return fallback;
  }
}

async function* encodeChunks(chunks: AsyncIterable<string>): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for await (const chunk of chunks) yield encoder.encode(chunk);
}

function messageBatchOf(body: unknown, deploymentId: string): AnthropicMessageBatch {
  if (!isRecord(body) || typeof body.id !== 'string' || typeof body.processing_status !== 'string') {
    throw badUpstreamResponse('Anthropic answered with something that is not a message batch.', { deploymentId, isRetryable: false });
  }
  return body as unknown as AnthropicMessageBatch;
}
