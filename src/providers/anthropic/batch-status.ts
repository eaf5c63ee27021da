/**
 * Anthropic `MessageBatch` -> Portico's `ProviderBatch` (OpenAI's vocabulary). Pure. Mapping
 * per `docs/specs/WIRE.md` §3.1 ("Batch object").
 */
import type { ProviderBatch } from '../../spec/provider.ts';
import type { BatchStatus } from '../../spec/openai-objects.ts';
import { countOf } from './json.ts';
import type { AnthropicMessageBatch } from './wire-types.ts';

/**
 * `in_progress` -> `in_progress`; `canceling` -> `cancelling`; `ended` -> `cancelled` when a
 * cancel was initiated, `expired` when requests ran out of the 24 h window (Anthropic only
 * marks requests `expired` at the deadline), else `completed`. Anthropic has no `failed`:
 * invalid params come back as errored results, and create-time errors are synchronous.
 */
export function mapAnthropicBatchStatus(batch: AnthropicMessageBatch): BatchStatus {
  switch (batch.processing_status) {
    case 'canceling':
      return 'cancelling';
    case 'ended':
      if (batch.cancel_initiated_at) return 'cancelled';
      if (countOf(batch.request_counts?.expired) > 0) return 'expired';
      return 'completed';
    // in_progress, and any newer non-terminal word: still running.
    default:
      return 'in_progress';
  }
}

export function toProviderBatch(batch: AnthropicMessageBatch): ProviderBatch {
  const status = mapAnthropicBatchStatus(batch);
  const createdAt = unixSecondsOf(batch.created_at);
  const endedAt = unixSecondsOf(batch.ended_at);
  const counts = batch.request_counts ?? {};
  const succeeded = countOf(counts.succeeded);
  const failed = countOf(counts.errored) + countOf(counts.canceled) + countOf(counts.expired);
  return {
    id: batch.id,
    status,
    rawStatus: batch.processing_status,
    // Anthropic has no output files: the gateway materialises them from `results_url`.
    outputFileId: null,
    errorFileId: null,
    createdAt,
    inProgressAt: createdAt,
    expiresAt: unixSecondsOf(batch.expires_at),
    finalizingAt: endedAt,
    completedAt: status === 'completed' ? endedAt : null,
    failedAt: null,
    expiredAt: status === 'expired' ? endedAt : null,
    cancellingAt: unixSecondsOf(batch.cancel_initiated_at),
    cancelledAt: status === 'cancelled' ? endedAt : null,
    requestCounts: { total: countOf(counts.processing) + succeeded + failed, completed: succeeded, failed },
    usage: null,
    errors: null,
  };
}

/** RFC 3339 (Anthropic's timestamps) -> unix seconds; `null` when absent or unreadable. */
export function unixSecondsOf(timestamp: string | null | undefined): number | null {
  if (typeof timestamp !== 'string') return null;
  const milliseconds = Date.parse(timestamp);
  return Number.isNaN(milliseconds) ? null : Math.floor(milliseconds / 1000);
}
