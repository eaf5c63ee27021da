/** A provider's report of a batch, as a `BatchesCapability` answers it, for tests of what consumes one. */
import type { ProviderBatch } from '../../src/spec/provider.ts';

/** `id` in progress with no files, no counts and no timestamps yet; `fields` set the rest. */
export function inProgressProviderBatch(id: string, fields: Partial<ProviderBatch> = {}): ProviderBatch {
  return {
    id,
    status: 'in_progress',
    rawStatus: 'in_progress',
    outputFileId: null,
    errorFileId: null,
    createdAt: null,
    inProgressAt: null,
    expiresAt: null,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
    requestCounts: { total: 0, completed: 0, failed: 0 },
    usage: null,
    errors: null,
    ...fields,
  };
}
