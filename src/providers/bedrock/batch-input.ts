/**
 * OpenAI batch input lines -> the JSONL input of a Bedrock model invocation job: one
 * `{"recordId", "modelInput"}` per line, `modelInput` the model's native InvokeModel body
 * (Claude: `claude-body.ts`) (https://docs.aws.amazon.com/bedrock/latest/userguide/batch-inference-data.html,
 * `docs/specs/bedrock.md` §Batch inference). Lines are read twice, never held: once to check them,
 * size the file and gather warnings, then again while it is uploaded.
 *
 * `recordId`s are "11 character alphanumeric strings": Portico's surrogate `r<n>` becomes
 * `r` and n in ten digits, and back again in the output (`customIdOfRecord`).
 */
import { GatewayError, InvalidRequestError, PayloadTooLargeError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { BatchLineSource, TranslationWarning } from '../../spec/provider.ts';
import { claudeInvokeBody } from './claude-body.ts';

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

export interface StagedBatchInput {
  chunks: () => AsyncIterable<Uint8Array>;
  bytes: number;
  records: number;
  warnings: TranslationWarning[];
}

export interface RecordTranslation {
  defaultMaxTokens?: number;
  modifyParams: boolean;
}

export async function stageBatchInput(input: { endpoint: string; lines: BatchLineSource }, translation: RecordTranslation, limits: { maxBytes?: number } = {}): Promise<StagedBatchInput> {
  if (input.endpoint !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Bedrock batch jobs support only ${CHAT_COMPLETIONS_ENDPOINT}, not '${input.endpoint}'.`, { param: 'endpoint' });
  }
  const maxBytes = limits.maxBytes ?? MAX_INPUT_BYTES;
  const seen = new Set<string>();
  const warningCounts = new Map<string, { warning: TranslationWarning; lines: number }>();
  let bytes = 0;
  let count = 0;
  for await (const line of input.lines()) {
    count += 1;
    if (count > MAX_RECORDS_PER_JOB) {
      throw new InvalidRequestError(`A Bedrock batch job holds at most ${MAX_RECORDS_PER_JOB} records; this one has more. Split it first.`, { param: 'input_file_id', code: 'too_many_requests_in_batch' });
    }
    checkLine(line, count, seen);
    const { text, warnings } = jsonlRecord(line, count, translation);
    for (const warning of warnings) {
      const key = `${warning.param}\u0000${warning.message}`;
      const entry = warningCounts.get(key) ?? { warning, lines: 0 };
      entry.lines += 1;
      warningCounts.set(key, entry);
    }
    bytes += Buffer.byteLength(text);
    if (bytes > maxBytes) {
      throw new PayloadTooLargeError(`A Bedrock batch input file is limited to ${maxBytes} bytes; this one exceeds it at line ${count}. Split it first.`, { param: 'input_file_id', code: 'batch_too_large' });
    }
  }
  if (count < MIN_RECORDS_PER_JOB) {
    // The executor runs smaller batches on Portico's engine; reaching here is a bug upstream of it.
    throw new InvalidRequestError(`A Bedrock batch job needs at least ${MIN_RECORDS_PER_JOB} records; this one has ${count}.`, { param: 'input_file_id', code: 'too_few_requests_in_batch' });
  }
  const warnings = [...warningCounts.values()].map(({ warning, lines }) => ({ param: warning.param, message: lines === 1 ? warning.message : `${warning.message} (${lines} lines)` }));
  const encoder = new TextEncoder();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let lineNumber = 0;
    for await (const line of input.lines()) {
      lineNumber += 1;
      yield encoder.encode(jsonlRecord(line, lineNumber, translation).text);
    }
  }
  return { chunks, bytes, records: count, warnings };
}

function jsonlRecord(line: BatchInputLine, lineNumber: number, translation: RecordTranslation): { text: string; warnings: TranslationWarning[] } {
  let translated;
  try {
    translated = claudeInvokeBody(line.body, translation);
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
