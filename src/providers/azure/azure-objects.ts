/**
 * Azure's file and batch objects differ from OpenAI's; these reshape them before the shared
 * OpenAI normaliser runs (WIRE.md §2.3, §2.4).
 */
import type { OpenAIFileStatus } from '../../spec/openai-objects.ts';
import type { ProviderBatch, ProviderFile } from '../../spec/provider.ts';
import type { FileUploadFacts } from '../openai/api-config.ts';
import { normalizeOpenAIBatch, normalizeOpenAIFile } from '../openai/normalize.ts';

const LABEL = 'Azure OpenAI';

/**
 * Azure's `FileState` (`pending`, `running`, `processed`, `error`, `deleting`, `deleted`,
 * `uploaded`) into OpenAI's `uploaded | processed | error` (WIRE.md §2.3). The raw word is kept
 * in `rawStatus`. A deleting/deleted file can no longer be used: `error`.
 */
export function mapAzureFileStatus(rawStatus: string): OpenAIFileStatus {
  switch (rawStatus.toLowerCase()) {
    case 'processed':
      return 'processed';
    case 'error':
    case 'deleting':
    case 'deleted':
      return 'error';
    default:
      // pending, running, uploaded, and anything new: not usable yet.
      return 'uploaded';
  }
}

/** Azure's upload answer has no `bytes` (upload_file.json example): taken from what we sent. */
export function normalizeAzureFile(raw: unknown, uploaded?: FileUploadFacts): ProviderFile {
  return normalizeOpenAIFile(raw, uploaded, mapAzureFileStatus, LABEL);
}

const TIMESTAMP_FIELDS = [
  'created_at',
  'in_progress_at',
  'expires_at',
  'finalizing_at',
  'completed_at',
  'failed_at',
  'expired_at',
  'cancelling_at',
  'cancelled_at',
] as const;

/** `""` -> null; ISO-8601 strings (old previews) -> unix seconds. */
function toUnixSeconds(value: unknown): unknown {
  if (value === '') return null;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
  }
  return value;
}

function emptyToNull(value: unknown): unknown {
  return value === '' ? null : value;
}

/** `errors.data` typed as one object and `line` as a string in Azure's spec (WIRE.md §2.4 item 10). */
function reshapeErrors(errors: unknown): unknown {
  if (errors === null || typeof errors !== 'object') return errors ?? null;
  const data = (errors as { data?: unknown }).data;
  const items = Array.isArray(data) ? data : data && typeof data === 'object' ? [data] : [];
  return {
    ...errors,
    data: items.map((item: unknown) => {
      if (item === null || typeof item !== 'object') return item;
      const line = (item as { line?: unknown }).line;
      const numericLine = typeof line === 'string' && /^\d+$/.test(line) ? Number(line) : typeof line === 'number' ? line : null;
      return { ...item, line: numericLine };
    }),
  };
}

/**
 * Azure batch quirks (WIRE.md §2.4): `output_file_id: ""` / `error_file_id: ""` on create
 * (item 3), capitalised statuses and ISO timestamps in old previews (item 8), `errors` spec
 * bugs (item 10). A 0-byte error file on success (item 4) is left as it is: the managed layer
 * treats an empty error file as no error file.
 */
export function reshapeAzureBatch(raw: unknown): unknown {
  if (raw === null || typeof raw !== 'object') return raw;
  const batch: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  if (typeof batch.status === 'string') batch.status = batch.status.toLowerCase();
  batch.output_file_id = emptyToNull(batch.output_file_id);
  batch.error_file_id = emptyToNull(batch.error_file_id);
  for (const field of TIMESTAMP_FIELDS) {
    if (field in batch) batch[field] = toUnixSeconds(batch[field]);
  }
  if ('errors' in batch) batch.errors = reshapeErrors(batch.errors);
  return batch;
}

export function normalizeAzureBatch(raw: unknown): ProviderBatch {
  return normalizeOpenAIBatch(reshapeAzureBatch(raw), LABEL);
}

/**
 * Azure's batch `endpoint` has no `/v1` (`"/chat/completions"`, WIRE.md §2.2 and §2.4 item 2);
 * clients send OpenAI's `/v1/chat/completions`.
 */
export function azureBatchEndpoint(openAIEndpoint: string): string {
  return openAIEndpoint.startsWith('/v1/') ? openAIEndpoint.slice(3) : openAIEndpoint;
}
