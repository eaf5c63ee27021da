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

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
