/** OpenAI's Batch API (WIRE.md §1.2): the upstream takes an uploaded input file. */
import type { BatchCreateInput, CallOptions, FileBatchesCapability, FilesCapability, ProviderBatch } from '../../spec/provider.ts';
import { type CallContext, callJson } from './call.ts';

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
    const answer = await callJson(ctx, { method: 'POST', operation: { kind: 'batches' }, what: 'batch create', json: body }, options);
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

  return { kind: 'file', create, retrieve, cancel };
}
