/**
 * OpenAI's Files and Batches objects exactly as the public API returns them
 * (`test/fixtures/openai-files-batches.excerpt.json`). Everything a client sees of a file or
 * batch is built as one of these.
 */

export const FILE_UPLOAD_PURPOSES = ['assistants', 'batch', 'fine-tune', 'vision', 'user_data', 'evals'] as const;
export type FileUploadPurpose = (typeof FILE_UPLOAD_PURPOSES)[number];

export type FilePurpose =
  | 'assistants'
  | 'assistants_output'
  | 'batch'
  | 'batch_output'
  | 'fine-tune'
  | 'fine-tune-results'
  | 'vision'
  | 'user_data'
  | 'evals';

export type OpenAIFileStatus = 'uploaded' | 'processed' | 'error';

export interface OpenAIFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at?: number | null;
  filename: string;
  purpose: FilePurpose;
  status: OpenAIFileStatus;
  status_details?: string | null;
}

export interface OpenAIFileDeleted {
  id: string;
  object: 'file';
  deleted: true;
}

export const BATCH_STATUSES = [
  'validating',
  'failed',
  'in_progress',
  'finalizing',
  'completed',
  'expired',
  'cancelling',
  'cancelled',
] as const;
export type BatchStatus = (typeof BATCH_STATUSES)[number];

export const TERMINAL_BATCH_STATUSES: ReadonlySet<BatchStatus> = new Set(['failed', 'completed', 'expired', 'cancelled']);

export interface BatchRequestCounts {
  total: number;
  completed: number;
  failed: number;
}

export interface BatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

export interface BatchErrorItem {
  code: string;
  message: string;
  param: string | null;
  line: number | null;
}

export interface OpenAIBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  model?: string | null;
  errors: { object: 'list'; data: BatchErrorItem[] } | null;
  input_file_id: string;
  completion_window: string;
  status: BatchStatus;
  output_file_id: string | null;
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  expires_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  request_counts: BatchRequestCounts;
  usage?: BatchUsage | null;
  metadata: Record<string, string> | null;
  /** Portico's own fields (ignored by OpenAI's SDKs): where the batch runs and what it cost. */
  portico?: PorticoBatchDetails;
}

export interface PorticoBatchDetails {
  /** The provider of the deployment the batch runs on (`openai`, `mock`, ...). */
  provider: string | null;
  deployment_id: string | null;
  /** `native_file`, `native_inline`, `native_staged` or `emulated` (Portico's batch engine). */
  execution: string;
  /** USD, once the batch is finished and its cost recorded; null before. */
  cost: number | null;
}

export interface OpenAIList<T> {
  object: 'list';
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

/** One line of a batch input file (`BatchRequestInput`). */
export interface BatchInputLine {
  custom_id: string;
  method: 'POST';
  url: string;
  body: Record<string, unknown> & { model?: string };
}

/** One line of a batch output or error file (`BatchRequestOutput`). */
export interface BatchOutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: unknown } | null;
  error: { code: string; message: string } | null;
}
