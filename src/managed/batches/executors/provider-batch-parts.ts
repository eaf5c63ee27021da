/**
 * What the inline and staged executors share about a batch run as several provider batches
 * (parts): how the parts' states read as one, and which result lines go to the output file.
 */
import { TERMINAL_BATCH_STATUSES, type BatchErrorItem, type BatchOutputLine } from '../../../spec/openai-objects.ts';
import type { ProviderBatch } from '../../../spec/provider.ts';

/** Output file: a 2xx answer without an error; everything else goes to the error file. */
export function isOutputLine(line: Pick<BatchOutputLine, 'response' | 'error'>): boolean {
  return line.error === null && line.response !== null && line.response.status_code >= 200 && line.response.status_code < 300;
}

/** Several provider batches presented as one: the least advanced status, summed counts. */
export function combineProgress(parts: readonly ProviderBatch[]): ProviderBatch {
  if (parts.length === 1) return parts[0];
  const all = (f: (p: ProviderBatch) => number | null) => parts.map(f).filter((v): v is number => v !== null);
  const min = (f: (p: ProviderBatch) => number | null) => (all(f).length > 0 ? Math.min(...all(f)) : null);
  const maxWhenAll = (f: (p: ProviderBatch) => number | null) => (all(f).length === parts.length ? Math.max(...all(f)) : null);
  const running = parts.filter((p) => !TERMINAL_BATCH_STATUSES.has(p.status));
  const status: ProviderBatch['status'] =
    running.length > 0
      ? running.some((p) => p.status === 'cancelling')
        ? 'cancelling'
        : 'in_progress'
      : parts.some((p) => p.status === 'cancelled')
        ? 'cancelled'
        : parts.some((p) => p.status === 'expired')
          ? 'expired'
          : parts.every((p) => p.status === 'failed')
            ? 'failed'
            : 'completed';
  const errors: BatchErrorItem[] = parts.flatMap((p) => p.errors ?? []);
  return {
    id: parts.map((p) => p.id).join(','),
    status,
    rawStatus: parts.map((p) => p.rawStatus).join(','),
    outputFileId: null,
    errorFileId: null,
    createdAt: min((p) => p.createdAt),
    inProgressAt: min((p) => p.inProgressAt),
    expiresAt: min((p) => p.expiresAt),
    finalizingAt: maxWhenAll((p) => p.finalizingAt),
    completedAt: maxWhenAll((p) => p.completedAt),
    failedAt: maxWhenAll((p) => p.failedAt),
    expiredAt: maxWhenAll((p) => p.expiredAt),
    cancellingAt: min((p) => p.cancellingAt),
    cancelledAt: maxWhenAll((p) => p.cancelledAt),
    requestCounts: parts.reduce(
      (sum, p) => ({ total: sum.total + p.requestCounts.total, completed: sum.completed + p.requestCounts.completed, failed: sum.failed + p.requestCounts.failed }),
      { total: 0, completed: 0, failed: 0 },
    ),
    usage: null,
    errors: errors.length > 0 ? errors : null,
  };
}
