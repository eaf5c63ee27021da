/**
 * Result lines of a batch, whatever produced them, in OpenAI's `BatchRequestOutput` shape, and
 * their usage. Provider quirks in the lines (Azure's missing top-level `id`, WIRE.md §2.5) are
 * evened out here, field by field, so every output file reads like OpenAI's.
 */
import type { Readable } from 'node:stream';
import type { BatchOutputLine, BatchUsage } from '../../spec/openai-objects.ts';
import type { Redactor } from '../../spec/redaction.ts';
import { newBatchRequestId } from '../ids.ts';
import { readLines } from '../jsonl/line-splitter.ts';

/**
 * A result line already encoded as JSON (Portico's engine stored it so), written as it is instead
 * of parsed and encoded again, with the tokens it adds to the batch's usage (kept beside it).
 * Only for a line with no error message to redact (`mayCarryErrorMessage` is false for `json`):
 * `redactLine` has nothing to change in it.
 */
export interface EncodedResultLine {
  readonly json: string;
  readonly inputTokens: number;
  readonly outputTokens: number;
  readonly cachedTokens: number;
}

/** What a result file is written from: lines as objects, or as their JSON text. */
export type ResultLine = BatchOutputLine | EncodedResultLine;

export function isEncodedLine(line: ResultLine): line is EncodedResultLine {
  return 'json' in line;
}

/**
 * Whether a line's JSON text (as `JSON.stringify` writes it: no spaces) may hold a message that
 * `redactLine` redacts: both it reads (`error.message`, `response.body.error.message`) sit in an
 * object under an `error` key. A mention inside a string is escaped (`\"error\":{`) and does not
 * match; a false positive only costs a parse.
 */
export function mayCarryErrorMessage(json: string): boolean {
  return json.includes('"error":{');
}

export function normaliseOutputLine(raw: unknown): BatchOutputLine | null {
  if (typeof raw !== 'object' || raw === null) return null;
  const line = raw as Record<string, unknown>;
  if (typeof line.custom_id !== 'string') return null;
  const response = line.response as BatchOutputLine['response'] | undefined;
  const error = line.error as BatchOutputLine['error'] | undefined;
  return {
    id: typeof line.id === 'string' && line.id !== '' ? line.id : newBatchRequestId(),
    custom_id: line.custom_id,
    response: response ?? null,
    error: error ?? null,
  };
}

/**
 * The line with its error messages redacted (`error.message`, and `response.body.error.message`
 * of a line the endpoint answered with an error): upstream text may echo an upstream key.
 */
export function redactLine(line: BatchOutputLine, redact: Redactor): BatchOutputLine {
  const body = line.response?.body as { error?: unknown } | undefined;
  const bodyError = body && typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : undefined;
  const lineMessage = typeof line.error?.message === 'string' ? line.error.message : undefined;
  const bodyMessage = typeof bodyError?.message === 'string' ? bodyError.message : undefined;
  if (lineMessage === undefined && bodyMessage === undefined) return line;
  return {
    ...line,
    error: line.error && lineMessage !== undefined ? { ...line.error, message: redact(lineMessage) } : line.error,
    response:
      line.response && bodyMessage !== undefined
        ? { ...line.response, body: { ...(line.response.body as Record<string, unknown>), error: { ...bodyError, message: redact(bodyMessage) } } }
        : line.response,
  };
}

/** Parses a provider's JSONL result file as it streams; unparseable lines are skipped. */
export async function* parseResultFile(content: Readable): AsyncGenerator<BatchOutputLine> {
  for await (const { line } of readLines(content)) {
    const text = line.toString('utf8').trim();
    if (text === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      continue;
    }
    const normalised = normaliseOutputLine(parsed);
    if (normalised) yield normalised;
  }
}

export function emptyUsage(): BatchUsage {
  return {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  };
}

/**
 * Adds the usage of one successful line to `total`. Chat and embeddings bodies report
 * `prompt_tokens`/`completion_tokens`; Responses bodies report `input_tokens`/`output_tokens`.
 */
export function addLineUsage(total: BatchUsage, line: BatchOutputLine): void {
  const body = line.response?.body as { usage?: Record<string, unknown> } | undefined;
  const usage = body?.usage;
  if (!usage || typeof usage !== 'object') return;
  const input = num(usage.prompt_tokens) + num(usage.input_tokens);
  const output = num(usage.completion_tokens) + num(usage.output_tokens);
  const cached = num((usage.prompt_tokens_details as Record<string, unknown> | undefined)?.cached_tokens) + num((usage.input_tokens_details as Record<string, unknown> | undefined)?.cached_tokens);
  const reasoning = num((usage.completion_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens) + num((usage.output_tokens_details as Record<string, unknown> | undefined)?.reasoning_tokens);
  total.input_tokens += input;
  total.output_tokens += output;
  total.input_tokens_details.cached_tokens += cached;
  total.output_tokens_details.reasoning_tokens += reasoning;
  total.total_tokens += num(usage.total_tokens) || input + output;
}

/** Adds the tokens of an encoded line to `total` (its reasoning tokens are counted in its output tokens). */
export function addEncodedLineUsage(total: BatchUsage, line: EncodedResultLine): void {
  total.input_tokens += line.inputTokens;
  total.output_tokens += line.outputTokens;
  total.input_tokens_details.cached_tokens += line.cachedTokens;
  total.total_tokens += line.inputTokens + line.outputTokens;
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
