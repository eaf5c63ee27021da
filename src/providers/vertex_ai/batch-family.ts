/**
 * What differs between the model families a Vertex AI batch prediction job can run: how one
 * OpenAI batch line is written into the job's JSONL input, where the line's key travels through
 * the job, and how one row of the job's output becomes a result. Everything else (cutting into
 * parts, staging in GCS, the job's life, reading its output directory) is the same for every
 * family and lives in `batches.ts`, `batch-input.ts` and `batch-output.ts`.
 *
 * Families: Google's Gemini models (`gemini-batch-family.ts`) and Anthropic's Claude models
 * (`claude-batch-family.ts`).
 */
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { InlineBatchResult, TranslationWarning } from '../../spec/provider.ts';
import type { VertexPublisher } from './client.ts';

/** `created` of the chat.completion bodies (the job's end, unix seconds) and the model to name when a response names none. */
export interface BatchResultTranslationOptions {
  created: number;
  fallbackModel: string;
}

export interface VertexBatchFamily {
  /** The publisher in the job's `model` (`publishers/{publisher}/models/{model}`). */
  readonly publisher: VertexPublisher;
  /** Words for errors: "Gemini", "Claude". */
  readonly name: string;
  /** What a line's `custom_id` must match to travel through the job intact. */
  readonly keyPattern: RegExp;
  /** Says `keyPattern` in words, for the error that refuses a key. */
  readonly keyRule: string;
  /**
   * One checked line -> its JSONL input line (with the newline) and what the translation changed.
   * Throws a `GatewayError` for a body the translation refuses; the same line gives the same text.
   */
  encodeLine(line: BatchInputLine): { text: string; warnings: TranslationWarning[] };
  /** The key of a line of the job's input or output; `undefined` for a line that carries none (not ours). */
  keyOf(line: Record<string, unknown>): string | undefined;
  /** One output row under its key -> a result (a chat.completion or an error line). */
  decodeRow(key: string, row: Record<string, unknown>, options: BatchResultTranslationOptions): InlineBatchResult;
}
