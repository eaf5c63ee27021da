/**
 * OpenAI batch input lines -> the JSONL input of a Vertex AI batch prediction job, one line per
 * request, written by the model family (`batch-family.ts`: Gemini's `{"request"}` lines,
 * Claude's `{"custom_id", "request"}` lines) through the live chat translation
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/batch,
 * `docs/specs/vertex-ai.md` §Batch prediction). Lines are read twice, never held: once to check
 * them, size the file and gather warnings, then again while the file is uploaded.
 */
import { GatewayError, InvalidRequestError, PayloadTooLargeError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { BatchLineSource, TranslationWarning } from '../../spec/provider.ts';
import type { VertexBatchFamily } from './batch-family.ts';

/** Portico's bound on one job's requests (Vertex's batch quotas cap a job's requests; check yours). */
export const MAX_REQUESTS_PER_JOB = 200_000;
/** Portico's bound on one job's input file. */
export const MAX_INPUT_BYTES = 1024 * 1024 * 1024;

const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';

export interface StagedBatchInput {
  /** The JSONL file, produced afresh on each call. */
  chunks: () => AsyncIterable<Uint8Array>;
  bytes: number;
  requests: number;
  warnings: TranslationWarning[];
}

export async function stageBatchInput(family: VertexBatchFamily, input: { endpoint: string; lines: BatchLineSource }, limits: { maxBytes?: number } = {}): Promise<StagedBatchInput> {
  if (input.endpoint !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Vertex AI batches support only ${CHAT_COMPLETIONS_ENDPOINT}, not '${input.endpoint}'.`, { param: 'endpoint' });
  }
  const maxBytes = limits.maxBytes ?? MAX_INPUT_BYTES;
  const seen = new Set<string>();
  const warningCounts = new Map<string, { warning: TranslationWarning; lines: number }>();
  let bytes = 0;
  let count = 0;
  for await (const line of input.lines()) {
    count += 1;
    if (count > MAX_REQUESTS_PER_JOB) {
      throw new InvalidRequestError(`A Vertex AI batch job holds at most ${MAX_REQUESTS_PER_JOB} requests; this one has more. Split it first.`, { param: 'input_file_id', code: 'too_many_requests_in_batch' });
    }
    checkLine(family, line, count, seen);
    const { text, warnings } = jsonlLine(family, line, count);
    for (const warning of warnings) {
      const key = `${warning.param}\u0000${warning.message}`;
      const entry = warningCounts.get(key) ?? { warning, lines: 0 };
      entry.lines += 1;
      warningCounts.set(key, entry);
    }
    bytes += Buffer.byteLength(text);
    if (bytes > maxBytes) {
      throw new PayloadTooLargeError(`A Vertex AI batch input file is limited to ${maxBytes} bytes; this one exceeds it at line ${count}. Split it first.`, { param: 'input_file_id', code: 'batch_too_large' });
    }
  }
  if (count === 0) throw new InvalidRequestError('A batch needs at least one request.', { param: 'input_file_id' });
  const warnings = [...warningCounts.values()].map(({ warning, lines }) => ({ param: warning.param, message: lines === 1 ? warning.message : `${warning.message} (${lines} lines)` }));
  const encoder = new TextEncoder();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    let lineNumber = 0;
    for await (const line of input.lines()) {
      lineNumber += 1;
      yield encoder.encode(jsonlLine(family, line, lineNumber).text);
    }
  }
  return { chunks, bytes, requests: count, warnings };
}

function jsonlLine(family: VertexBatchFamily, line: BatchInputLine, lineNumber: number): { text: string; warnings: TranslationWarning[] } {
  try {
    return family.encodeLine(line);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw new InvalidRequestError(`Line ${lineNumber}: ${error.message}`, { param: error.param === null ? 'body' : `body.${error.param}`, code: error.code });
  }
}

function checkLine(family: VertexBatchFamily, line: BatchInputLine, lineNumber: number, seen: Set<string>): void {
  if (typeof line.custom_id !== 'string' || !family.keyPattern.test(line.custom_id)) {
    // Portico sends its own surrogate ids (`r<n>`); anything else is a bug upstream of here.
    throw new InvalidRequestError(`Line ${lineNumber}: custom_id must be ${family.keyRule} for a ${family.name} batch prediction job.`, { param: 'custom_id', code: 'invalid_custom_id' });
  }
  if (seen.has(line.custom_id)) throw new InvalidRequestError(`Line ${lineNumber}: custom_id '${line.custom_id}' is used twice.`, { param: 'custom_id', code: 'duplicate_custom_id' });
  seen.add(line.custom_id);
  if (line.url !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Line ${lineNumber}: url '${line.url}' does not match the batch endpoint ${CHAT_COMPLETIONS_ENDPOINT}.`, { param: 'url', code: 'invalid_url' });
  }
  if (line.body?.stream === true) throw new InvalidRequestError(`Line ${lineNumber}: streaming is not supported in batches.`, { param: 'body.stream', code: 'streaming_unsupported' });
}
