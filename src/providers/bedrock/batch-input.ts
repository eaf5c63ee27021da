/**
 * OpenAI batch input lines -> the JSONL input of a Bedrock model invocation job: one
 * `{"recordId", "modelInput"}` per line, `modelInput` the model's native InvokeModel body
 * (Claude: `claude-body.ts`) or, for the other chat models, a Converse request (a job of
 * `modelInvocationType: Converse`) (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html,
 * `docs/specs/bedrock.md` §Batch inference). Lines are streamed, never held: once to check and
 * count them all, then per part once to size it and gather its warnings and once to upload it.
 *
 * `recordId`s are "11 character alphanumeric strings": Portico's surrogate `r<n>` becomes
 * `r` and n in ten digits, and back again in the output (`customIdOfRecord`).
 */
import { GatewayError, InvalidRequestError, PayloadTooLargeError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { BatchLineSource, TranslationWarning } from '../../spec/provider.ts';
import { claudeInvokeBody } from './claude-body.ts';
import { translateConverseRequest } from './converse-request.ts';

/** Bedrock's default quotas: records per job (https://docs.aws.amazon.com/general/latest/gr/bedrock.html#limits_bedrock). */
export const MIN_RECORDS_PER_JOB = 100;
export const MAX_RECORDS_PER_JOB = 50_000;
/** Bedrock's default bound on one job's input file. */
export const MAX_INPUT_BYTES = 1024 * 1024 * 1024;

const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';

/** `r12` -> `r0000000012`. */
export function recordIdOf(customId: string): string {
  const match = /^r(\d{1,10})$/.exec(customId);
  if (match === null) throw new InvalidRequestError(`custom_id '${customId}' is not one of Portico's surrogate ids.`, { param: 'custom_id', code: 'invalid_custom_id' });
  return `r${match[1].padStart(10, '0')}`;
}

/** `r0000000012` -> `r12`; anything else is kept as is. */
export function customIdOfRecord(recordId: string): string {
  const match = /^r(\d{10})$/.exec(recordId);
  return match === null ? recordId : `r${Number(match[1])}`;
}

export interface RecordTranslation {
  /**
   * `invoke`: the model's native InvokeModel body (Claude's Anthropic Messages body, `claude-body.ts`);
   * `converse`: a Converse request (`converse-request.ts`), for a job of `modelInvocationType: Converse`.
   */
  format: 'invoke' | 'converse';
  defaultMaxTokens?: number;
  modifyParams: boolean;
}

export interface RecordCount {
  records: number;
}

/**
 * The first pass: every line checked and translated (a bad line refuses the batch before anything
 * is staged), counted. Nothing is held but the ids seen (to refuse a duplicate).
 */
export async function checkBatchInput(input: { endpoint: string; lines: BatchLineSource }, translation: RecordTranslation): Promise<RecordCount> {
  if (input.endpoint !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Bedrock batch jobs support only ${CHAT_COMPLETIONS_ENDPOINT}, not '${input.endpoint}'.`, { param: 'endpoint' });
  }
  const seen = new Set<string>();
  let count = 0;
  for await (const line of input.lines()) {
    count += 1;
    checkLine(line, count, seen);
    jsonlRecord(line, count, translation);
  }
  if (count < MIN_RECORDS_PER_JOB) {
    // The executor runs smaller batches on Portico's engine; reaching here is a bug upstream of it.
    throw new InvalidRequestError(`A Bedrock batch job needs at least ${MIN_RECORDS_PER_JOB} records; this one has ${count}.`, { param: 'input_file_id', code: 'too_few_requests_in_batch' });
  }
  return { records: count };
}

/**
 * Line ranges of the jobs: as few as `MAX_RECORDS_PER_JOB` allows, cut evenly, so that every part
 * also keeps Bedrock's minimum (50,001 records are two jobs of about 25,000, never 50,000 and 1).
 */
export function partRanges(records: number): { start: number; end: number }[] {
  const parts = Math.max(1, Math.ceil(records / MAX_RECORDS_PER_JOB));
  const ranges: { start: number; end: number }[] = [];
  for (let k = 0; k < parts; k += 1) ranges.push({ start: Math.floor((k * records) / parts), end: Math.floor(((k + 1) * records) / parts) });
  return ranges;
}

export interface StagedPartInput {
  /** The part's JSONL, produced afresh on each call. */
  chunks: () => AsyncIterable<Uint8Array>;
  bytes: number;
  warnings: TranslationWarning[];
}

/** One part's JSONL (lines `start` to `end` of the batch): sized, its warnings gathered, then produced on demand. */
export async function partInput(lines: BatchLineSource, range: { start: number; end: number }, translation: RecordTranslation, limits: { maxBytes?: number } = {}): Promise<StagedPartInput> {
  const maxBytes = limits.maxBytes ?? MAX_INPUT_BYTES;
  const warningCounts = new Map<string, { warning: TranslationWarning; lines: number }>();
  let bytes = 0;
  for await (const { line, number } of linesOf(lines, range)) {
    const { text, warnings } = jsonlRecord(line, number, translation);
    for (const warning of warnings) {
      const key = `${warning.param}\u0000${warning.message}`;
      const entry = warningCounts.get(key) ?? { warning, lines: 0 };
      entry.lines += 1;
      warningCounts.set(key, entry);
    }
    bytes += Buffer.byteLength(text);
    if (bytes > maxBytes) {
      throw new PayloadTooLargeError(`A Bedrock batch job's input is limited to ${maxBytes} bytes; lines ${range.start + 1} to ${range.end} exceed it at line ${number}. Split the batch first.`, { param: 'input_file_id', code: 'batch_too_large' });
    }
  }
  const warnings = [...warningCounts.values()].map(({ warning, lines: count }) => ({ param: warning.param, message: count === 1 ? warning.message : `${warning.message} (${count} lines)` }));
  const encoder = new TextEncoder();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    for await (const { line, number } of linesOf(lines, range)) yield encoder.encode(jsonlRecord(line, number, translation).text);
  }
  return { chunks, bytes, warnings };
}

async function* linesOf(lines: BatchLineSource, range: { start: number; end: number }): AsyncGenerator<{ line: BatchInputLine; number: number }> {
  let index = 0;
  for await (const line of lines()) {
    if (index >= range.end) return;
    if (index >= range.start) yield { line, number: index + 1 };
    index += 1;
  }
}

function jsonlRecord(line: BatchInputLine, lineNumber: number, translation: RecordTranslation): { text: string; warnings: TranslationWarning[] } {
  let translated: { modelInput: unknown; warnings: TranslationWarning[] };
  try {
    if (translation.format === 'invoke') translated = claudeInvokeBody(line.body, translation);
    else {
      const { request, warnings } = translateConverseRequest(line.body, { defaultMaxTokens: translation.defaultMaxTokens });
      translated = { modelInput: request, warnings };
    }
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw new InvalidRequestError(`Line ${lineNumber}: ${error.message}`, { param: error.param === null ? 'body' : `body.${error.param}`, code: error.code });
  }
  return { text: `${JSON.stringify({ recordId: recordIdOf(line.custom_id), modelInput: translated.modelInput })}\n`, warnings: translated.warnings };
}

function checkLine(line: BatchInputLine, lineNumber: number, seen: Set<string>): void {
  if (seen.has(line.custom_id)) throw new InvalidRequestError(`Line ${lineNumber}: custom_id '${line.custom_id}' is used twice.`, { param: 'custom_id', code: 'duplicate_custom_id' });
  seen.add(line.custom_id);
  if (line.url !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Line ${lineNumber}: url '${line.url}' does not match the batch endpoint ${CHAT_COMPLETIONS_ENDPOINT}.`, { param: 'url', code: 'invalid_url' });
  }
  if (line.body?.stream === true) throw new InvalidRequestError(`Line ${lineNumber}: streaming is not supported in batches.`, { param: 'body.stream', code: 'streaming_unsupported' });
}
