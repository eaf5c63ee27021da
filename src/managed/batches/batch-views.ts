/** A stored batch as the client sees it: OpenAI's `Batch`, with our ids and the endpoint as requested. */
import type { OpenAIBatch } from '../../spec/openai-objects.ts';
import type { BatchRecord } from '../../storage/batch-store.ts';

/** `provider`: the provider name of the batch's deployment, when the caller knows it. */
export function toOpenAIBatch(batch: BatchRecord, provider: string | null = null): OpenAIBatch {
  return {
    id: batch.id,
    object: 'batch',
    endpoint: batch.endpoint,
    model: batch.modelGroup,
    errors: batch.errors && batch.errors.length > 0 ? { object: 'list', data: batch.errors } : null,
    input_file_id: batch.inputFileId,
    completion_window: batch.completionWindow,
    status: batch.status,
    output_file_id: batch.outputFileId,
    error_file_id: batch.errorFileId,
    created_at: batch.createdAt,
    in_progress_at: batch.inProgressAt,
    expires_at: batch.expiresAt,
    finalizing_at: batch.finalizingAt,
    completed_at: batch.completedAt,
    failed_at: batch.failedAt,
    expired_at: batch.expiredAt,
    cancelling_at: batch.cancellingAt,
    cancelled_at: batch.cancelledAt,
    request_counts: { total: batch.requestTotal, completed: batch.requestCompleted, failed: batch.requestFailed },
    usage: batch.usage,
    metadata: batch.metadata,
    portico: { provider, deployment_id: batch.deploymentId, execution: batch.execution, cost: batch.cost },
  };
}
