/**
 * Deletes the responses the gateway stored (those answered through a provider's chat,
 * `managed/responses/owned-responses.ts`) once they are 30 days old, as OpenAI keeps its own: a
 * bounded DELETE at a time, hourly. Idempotent, so every instance runs it.
 */
import type { Logger } from '../observability/logger.ts';
import type { StoredResponseStore } from '../storage/stored-response-store.ts';
import { PeriodicJob } from './periodic-job.ts';

export const STORED_RESPONSE_RETENTION_SECONDS = 30 * 24 * 60 * 60;
const ROWS_PER_DELETE = 1000;
const INTERVAL_MS = 60 * 60 * 1000;

export function createStoredResponseRetentionJob(store: Pick<StoredResponseStore, 'deleteOlderThan'>, logger: Logger, intervalMs = INTERVAL_MS, now: () => number = Date.now): PeriodicJob {
  return new PeriodicJob('stored-response-retention', intervalMs, logger, async () => {
    const cutoff = Math.floor(now() / 1000) - STORED_RESPONSE_RETENTION_SECONDS;
    let deleted = 0;
    for (;;) {
      const batch = await store.deleteOlderThan(cutoff, ROWS_PER_DELETE);
      deleted += batch;
      if (batch < ROWS_PER_DELETE) break;
    }
    if (deleted > 0) logger.info({ job: 'stored-response-retention', deleted_rows: deleted }, 'stored responses older than 30 days deleted');
  });
}
