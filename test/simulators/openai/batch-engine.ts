/**
 * The batch lifecycle of OpenAI's Batch API (WIRE.md §1.2 "Status lifecycle"), shared by the
 * OpenAI and Azure simulators through a `BatchFlavor`. One `advance()` moves every live batch one
 * step:
 *
 *   validating  -> in_progress (lines valid) | failed (errors.data filled)
 *   in_progress -> finalizing  (every line executed; request_counts and usage filled)
 *   finalizing  -> completed   (output / error files written)
 *   cancelling  -> cancelled   (files written for lines already executed)
 *
 * `expire(id)` ends a live batch as `expired`, unexecuted lines going to the error file with
 * `batch_expired`.
 */
import { nowSeconds } from '../common/ids.ts';
import type { FileStore } from './file-store.ts';
import { parseBatchInput } from './batch-lines.ts';
import type { BatchErrorItem, BatchLine, LineRules } from './batch-lines.ts';
import type { InferenceResult } from './chat.ts';
import { usageOfBody } from './inference.ts';
import type { BatchableEndpoint } from './inference.ts';

type Json = Record<string, unknown>;

/** The Batch object as OpenAI's API returns it (flavors may reshape it when rendering). */
export interface SimulatedBatch {
  id: string;
  object: 'batch';
  endpoint: string;
  model?: string | null;
  errors: { object: 'list'; data: BatchErrorItem[] } | null;
  input_file_id: string;
  completion_window: string;
  status: 'validating' | 'failed' | 'in_progress' | 'finalizing' | 'completed' | 'expired' | 'cancelling' | 'cancelled';
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
  request_counts: { total: number; completed: number; failed: number };
  usage?: {
    input_tokens: number;
    input_tokens_details: { cached_tokens: number };
    output_tokens: number;
    output_tokens_details: { reasoning_tokens: number };
    total_tokens: number;
  };
  metadata: Record<string, string> | null;
}

export interface BatchFlavor {
  newBatchId(): string;
  newFileId(kind: 'upload' | 'output' | 'error'): string;
  /** Top-level `id` of an output line; `null` omits it (Azure). */
  newLineId(): string | null;
  newRequestId(): string;
  /** OpenAI's wire carries `model` and `usage`; Azure's does not. */
  reportsModelAndUsage: boolean;
  /** Azure writes both files on completion (a 0-byte error file on full success). */
  alwaysWritesBothFiles: boolean;
  /** Default output-file lifetime (seconds) when `output_expires_after` is not given; `null` = none. */
  defaultOutputTtl: number | null;
  lineRules(endpoint: BatchableEndpoint): LineRules;
  /** Errors that fail a batch at validation before reading lines (e.g. Azure's completion_window). */
  preValidation(batch: SimulatedBatch): BatchErrorItem[];
  runLine(endpoint: BatchableEndpoint, body: Json): InferenceResult;
  missingFileError(fileId: string): BatchErrorItem;
}

interface OutputLine {
  customId: string;
  result: InferenceResult | null;
  error: { code: string; message: string } | null;
}

interface BatchInternals {
  seq: number;
  endpointKey: BatchableEndpoint;
  outputTtl: number | null;
  lines: BatchLine[] | null;
  executed: OutputLine[] | null;
}

export interface CreateBatchInput {
  input_file_id: string;
  endpoint: string;
  endpointKey: BatchableEndpoint;
  completion_window: string;
  metadata: Record<string, string> | null;
  output_expires_after?: { anchor: string; seconds: number };
}

export class BatchEngine {
  readonly batches = new Map<string, SimulatedBatch>();
  private readonly internals = new Map<string, BatchInternals>();
  private nextSeq = 0;
  private readonly files: FileStore;
  private readonly flavor: BatchFlavor;

  constructor(files: FileStore, flavor: BatchFlavor) {
    this.files = files;
    this.flavor = flavor;
  }

  create(input: CreateBatchInput): SimulatedBatch {
    const now = nowSeconds();
    const batch: SimulatedBatch = {
      id: this.flavor.newBatchId(),
      object: 'batch',
      endpoint: input.endpoint,
      ...(this.flavor.reportsModelAndUsage ? { model: null } : {}),
      errors: null,
      input_file_id: input.input_file_id,
      completion_window: input.completion_window,
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: now,
      in_progress_at: null,
      expires_at: now + 86_400,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      ...(this.flavor.reportsModelAndUsage ? { usage: emptyUsage() } : {}),
      metadata: input.metadata,
    };
    this.batches.set(batch.id, batch);
    this.internals.set(batch.id, {
      seq: this.nextSeq++,
      endpointKey: input.endpointKey,
      outputTtl: input.output_expires_after?.seconds ?? this.flavor.defaultOutputTtl,
      lines: null,
      executed: null,
    });
    return batch;
  }

  /** Newest first (`created_at`, ties by creation order), after the `after` cursor. */
  list(after: string | undefined, limit: number): { data: SimulatedBatch[]; hasMore: boolean } {
    let all = [...this.batches.values()].sort(
      (a, b) => b.created_at - a.created_at || this.internals.get(b.id)!.seq - this.internals.get(a.id)!.seq,
    );
    if (after) {
      const i = all.findIndex((b) => b.id === after);
      all = i < 0 ? [] : all.slice(i + 1);
    }
    return { data: all.slice(0, limit), hasMore: all.length > limit };
  }

  /** `null` when cancelling is accepted; otherwise the status that forbids it. */
  cancel(id: string): string | null {
    const batch = this.batches.get(id)!;
    if (batch.status === 'cancelling' || batch.status === 'cancelled') return null;
    if (batch.status === 'completed' || batch.status === 'failed' || batch.status === 'expired') return batch.status;
    batch.status = 'cancelling';
    batch.cancelling_at = nowSeconds();
    return null;
  }

  advance(): void {
    for (const batch of this.batches.values()) this.step(batch);
  }

  /** End a live batch as `expired` now; lines not executed go to the error file as `batch_expired`. */
  expire(id: string): void {
    const batch = this.batches.get(id);
    if (!batch || isTerminal(batch.status)) return;
    const state = this.internals.get(id)!;
    const executed = state.executed ?? [];
    const done = new Set(executed.map((l) => l.customId));
    const expired: OutputLine[] = (state.lines ?? [])
      .filter((l) => !done.has(l.customId))
      .map((l) => ({
        customId: l.customId,
        result: null,
        error: { code: 'batch_expired', message: 'This request could not be executed before the completion window expired.' },
      }));
    batch.request_counts.failed += expired.length;
    this.writeFiles(batch, [...executed, ...expired]);
    batch.status = 'expired';
    batch.expired_at = nowSeconds();
  }

  private step(batch: SimulatedBatch): void {
    const state = this.internals.get(batch.id)!;
    const now = nowSeconds();
    switch (batch.status) {
      case 'validating': {
        const errors = this.validate(batch, state);
        if (errors.length > 0) {
          batch.status = 'failed';
          batch.failed_at = now;
          batch.errors = { object: 'list', data: errors };
          return;
        }
        batch.status = 'in_progress';
        batch.in_progress_at = now;
        batch.request_counts.total = state.lines!.length;
        if (this.flavor.reportsModelAndUsage) batch.model = String(state.lines![0].body.model);
        return;
      }
      case 'in_progress':
        state.executed = this.execute(batch, state);
        batch.status = 'finalizing';
        batch.finalizing_at = now;
        return;
      case 'finalizing':
        this.writeFiles(batch, state.executed ?? []);
        batch.status = 'completed';
        batch.completed_at = now;
        return;
      case 'cancelling':
        if (state.executed) this.writeFiles(batch, state.executed);
        batch.status = 'cancelled';
        batch.cancelled_at = now;
        return;
      default:
        return;
    }
  }

  private validate(batch: SimulatedBatch, state: BatchInternals): BatchErrorItem[] {
    const early = this.flavor.preValidation(batch);
    if (early.length > 0) return early;
    const file = this.files.get(batch.input_file_id);
    if (!file) return [this.flavor.missingFileError(batch.input_file_id)];
    const { lines, errors } = parseBatchInput(file.content, this.flavor.lineRules(state.endpointKey));
    state.lines = lines;
    return errors;
  }

  private execute(batch: SimulatedBatch, state: BatchInternals): OutputLine[] {
    const out: OutputLine[] = [];
    for (const line of state.lines ?? []) {
      const result = this.flavor.runLine(state.endpointKey, line.body);
      out.push({ customId: line.customId, result, error: null });
      if (result.status === 200) {
        batch.request_counts.completed++;
        if (batch.usage) addUsage(batch.usage, usageOfBody(result.body));
      } else {
        batch.request_counts.failed++;
      }
    }
    return out;
  }

  /** Output lines in REVERSED input order: clients must match by custom_id, never by position. */
  private writeFiles(batch: SimulatedBatch, lines: OutputLine[]): void {
    const ok: string[] = [];
    const failed: string[] = [];
    for (const l of [...lines].reverse()) {
      const lineId = this.flavor.newLineId();
      const record: Json = {
        ...(lineId ? { id: lineId } : {}),
        custom_id: l.customId,
        response: l.result ? { status_code: l.result.status, request_id: this.flavor.newRequestId(), body: l.result.body } : null,
        error: l.error,
      };
      (l.result?.status === 200 ? ok : failed).push(JSON.stringify(record));
    }
    const both = this.flavor.alwaysWritesBothFiles;
    if (ok.length > 0 || both) batch.output_file_id = this.writeFile(batch, 'output', ok);
    if (failed.length > 0 || both) batch.error_file_id = this.writeFile(batch, 'error', failed);
  }

  private writeFile(batch: SimulatedBatch, kind: 'output' | 'error', lines: string[]): string {
    const content = Buffer.from(lines.length ? lines.join('\n') + '\n' : '');
    const now = nowSeconds();
    const ttl = this.internals.get(batch.id)!.outputTtl;
    const file = this.files.add({
      id: this.flavor.newFileId(kind),
      object: 'file',
      bytes: content.length,
      created_at: now,
      expires_at: ttl === null ? null : now + ttl,
      filename: `batch_${batch.id}_${kind}.jsonl`,
      purpose: 'batch_output',
      status: 'processed',
      status_details: null,
      content,
    });
    return file.id;
  }
}

export function isTerminal(status: SimulatedBatch['status']): boolean {
  return status === 'completed' || status === 'failed' || status === 'expired' || status === 'cancelled';
}

function emptyUsage(): NonNullable<SimulatedBatch['usage']> {
  return { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 };
}

function addUsage(u: NonNullable<SimulatedBatch['usage']>, add: ReturnType<typeof usageOfBody>): void {
  u.input_tokens += add.input;
  u.output_tokens += add.output;
  u.input_tokens_details.cached_tokens += add.cached;
  u.output_tokens_details.reasoning_tokens += add.reasoning;
  u.total_tokens += add.input + add.output;
}
