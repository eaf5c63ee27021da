/**
 * OpenAI's own file and batch objects -> `ProviderFile` / `ProviderBatch`. Providers with
 * variants (Azure) reshape their raw object first and then call these.
 */
import type { z } from 'zod';
import { BATCH_STATUSES, type BatchStatus, type OpenAIFileStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch, ProviderFile } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import type { FileUploadFacts } from './api-config.ts';
import { batchWireSchema, fileWireSchema } from './wire-schemas.ts';

/** Parses an upstream body with a lenient schema; a body that misses even those fields is a 502. */
export function parseWire<S extends z.ZodType>(schema: S, raw: unknown, label: string, what: string): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    throw badUpstreamResponse(`${label} answered ${what} with an unexpected body.`, { isRetryable: false });
  }
  return parsed.data;
}

const OPENAI_FILE_STATUSES: ReadonlySet<string> = new Set<OpenAIFileStatus>(['uploaded', 'processed', 'error']);

export function normalizeOpenAIFile(
  raw: unknown,
  uploaded: FileUploadFacts | undefined,
  mapStatus: (rawStatus: string) => OpenAIFileStatus = (s) => (OPENAI_FILE_STATUSES.has(s) ? (s as OpenAIFileStatus) : 'uploaded'),
  label = 'OpenAI',
): ProviderFile {
  const file = parseWire(fileWireSchema, raw, label, 'a file request');
  const rawStatus = file.status ?? 'processed';
  return {
    id: file.id,
    bytes: file.bytes ?? uploaded?.bytes ?? 0,
    createdAt: file.created_at ?? Math.floor(Date.now() / 1000),
    filename: file.filename ?? uploaded?.filename ?? '',
    purpose: file.purpose ?? uploaded?.purpose ?? '',
    status: mapStatus(rawStatus),
    rawStatus,
    statusDetails: file.status_details ?? null,
    expiresAt: file.expires_at ?? null,
  };
}

const BATCH_STATUS_SET: ReadonlySet<string> = new Set(BATCH_STATUSES);

/** OpenAI's statuses as they are; anything unknown is still running (keep polling). */
export function mapBatchStatus(rawStatus: string): BatchStatus {
  return BATCH_STATUS_SET.has(rawStatus) ? (rawStatus as BatchStatus) : 'in_progress';
}

export function normalizeOpenAIBatch(raw: unknown, label = 'OpenAI', mapStatus = mapBatchStatus): ProviderBatch {
  const batch = parseWire(batchWireSchema, raw, label, 'a batch request');
  const counts = batch.request_counts;
  const usage = batch.usage;
  return {
    id: batch.id,
    status: mapStatus(batch.status),
    rawStatus: batch.status,
    outputFileId: batch.output_file_id ?? null,
    errorFileId: batch.error_file_id ?? null,
    createdAt: batch.created_at ?? null,
    inProgressAt: batch.in_progress_at ?? null,
    expiresAt: batch.expires_at ?? null,
    finalizingAt: batch.finalizing_at ?? null,
    completedAt: batch.completed_at ?? null,
    failedAt: batch.failed_at ?? null,
    expiredAt: batch.expired_at ?? null,
    cancellingAt: batch.cancelling_at ?? null,
    cancelledAt: batch.cancelled_at ?? null,
    requestCounts: { total: counts?.total ?? 0, completed: counts?.completed ?? 0, failed: counts?.failed ?? 0 },
    usage: usage
      ? {
          input_tokens: usage.input_tokens ?? 0,
          input_tokens_details: { cached_tokens: usage.input_tokens_details?.cached_tokens ?? 0 },
          output_tokens: usage.output_tokens ?? 0,
          output_tokens_details: { reasoning_tokens: usage.output_tokens_details?.reasoning_tokens ?? 0 },
          total_tokens: usage.total_tokens ?? (usage.input_tokens ?? 0) + (usage.output_tokens ?? 0),
        }
      : null,
    errors: batch.errors?.data
      ? batch.errors.data.map((item) => ({
          code: item.code ?? 'unknown_error',
          message: item.message ?? '',
          param: item.param ?? null,
          line: item.line ?? null,
        }))
      : null,
    metadata: stringMetadata(batch.metadata),
  };
}

/** A batch's `metadata`: its string values (OpenAI allows no others), or null. */
function stringMetadata(raw: unknown): Record<string, string> | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return null;
  return Object.fromEntries(Object.entries(raw).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
