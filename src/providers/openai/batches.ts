/** OpenAI's Batch API (WIRE.md §1.2): the upstream takes an uploaded input file. */
import { z } from 'zod';
import type { BatchCreateInput, CallOptions, FileBatchesCapability, FilesCapability, ProviderBatch, ProviderBatchPage } from '../../spec/provider.ts';
import { type CallContext, callJson } from './call.ts';
import { parseWire } from './normalize.ts';

/** A list answer: `data` and, except on Azure's classic surface, `has_more`. */
const batchListSchema = z.looseObject({ data: z.array(z.unknown()), has_more: z.boolean().nullish() });

export function createFileBatchesCapability(ctx: CallContext, files: FilesCapability): FileBatchesCapability {
  const { config } = ctx;

  async function create(input: BatchCreateInput & { providerInputFileId: string }, options: CallOptions = {}): Promise<ProviderBatch> {
    await config.beforeBatchCreate?.(input.providerInputFileId, files, options);
    const body: Record<string, unknown> = {
      input_file_id: input.providerInputFileId,
      endpoint: config.batchEndpoint(input.endpoint),
      completion_window: input.completionWindow,
    };
    if (input.metadata) body.metadata = input.metadata;
    if (input.outputExpiresAfterSeconds !== undefined) {
      body.output_expires_after = { anchor: 'created_at', seconds: input.outputExpiresAfterSeconds };
    }
    const json = config.batchCreateBody?.(body) ?? body;
    const answer = await callJson(ctx, { method: 'POST', operation: { kind: 'batches' }, what: 'batch create', json }, options);
    return config.normalizeBatch(answer.body);
  }

  async function retrieve(providerBatchId: string, options?: CallOptions): Promise<ProviderBatch> {
    const answer = await callJson(ctx, { method: 'GET', operation: { kind: 'batch', batchId: providerBatchId }, what: 'batch retrieve' }, options);
    return config.normalizeBatch(answer.body);
  }

  async function cancel(providerBatchId: string, options?: CallOptions): Promise<ProviderBatch> {
    const answer = await callJson(
      ctx,
      { method: 'POST', operation: { kind: 'batchCancel', batchId: providerBatchId }, what: 'batch cancel' },
      options,
    );
    return config.normalizeBatch(answer.body);
  }

  async function list(page: { after?: string; limit: number }, options?: CallOptions): Promise<ProviderBatchPage> {
    const query: Record<string, string> = { limit: String(page.limit) };
    if (page.after !== undefined) query.after = page.after;
    const answer = await callJson(ctx, { method: 'GET', operation: { kind: 'batches' }, what: 'batch list', query }, options);
    // A bare array (Together) is every batch at once.
    const body = Array.isArray(answer.body) ? { data: answer.body, has_more: false } : answer.body;
    const listed = parseWire(batchListSchema, body, config.label, 'a batch list request');
    return { batches: listed.data.map((raw) => config.normalizeBatch(raw)), hasMore: listed.has_more === true };
  }

  const inputLine = config.batchInputLine;
  return { kind: 'file', keepsMetadata: config.keepsBatchMetadata ?? true, ...(inputLine && { inputLine }), create, retrieve, cancel, list };
}
