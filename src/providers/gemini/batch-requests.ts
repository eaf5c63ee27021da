/**
 * OpenAI batch input lines -> a Gemini batch's requests, staged one of two ways
 * (https://ai.google.dev/gemini-api/docs/batch-api, `docs/specs/gemini-api.md` §Batch mode):
 *
 * - inline: the body of `models/{model}:batchGenerateContent` holds the requests,
 *   `{"batch":{"displayName","inputConfig":{"requests":{"requests":[{"request","metadata":{"key"}}]}}}}`,
 *   for batches whose body stays under Google's 20 MB ("suitable for smaller batches that keep the
 *   total request size under 20MB");
 * - a file: JSONL lines `{"key","request"}` uploaded to the Files API (at most 2 GB), the batch
 *   naming it in `inputConfig.fileName`.
 *
 * Each line's body goes through the live chat translation (`chat-request.ts`). Lines are read
 * twice, never held: once to check them, size both forms and gather warnings, then again while
 * the chosen form is sent. The `key` is the line's `custom_id` (Portico's surrogate).
 */
import { GatewayError, InvalidRequestError, PayloadTooLargeError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { BatchLineSource, TranslationWarning } from '../../spec/provider.ts';
import { translateChatRequest } from './chat-request.ts';

/** The Files API's limit for a batch input file (batch API guide: "The maximum allowed file size for an input file is 2GB"). */
export const MAX_BATCH_FILE_BYTES = 2 * 1024 * 1024 * 1024;
/** Google documents no request-count limit for a batch; this bounds one provider batch all the same. */
export const MAX_REQUESTS_PER_BATCH = 500_000;

const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';

export interface StagedBatchRequests {
  /** `inline` when the create body with every request fits under the inline limit. */
  mode: 'inline' | 'file';
  /** The inline create body or the JSONL file, produced afresh on each call. */
  chunks: () => AsyncIterable<string>;
  bytes: number;
  requests: number;
  warnings: TranslationWarning[];
}

export async function stageBatchRequests(
  input: { endpoint: string; lines: BatchLineSource; displayName: string },
  limits: { inlineMaxBytes: number; maxFileBytes?: number },
): Promise<StagedBatchRequests> {
  if (input.endpoint !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Gemini batches support only ${CHAT_COMPLETIONS_ENDPOINT}, not '${input.endpoint}'.`, { param: 'endpoint' });
  }
  const maxFileBytes = limits.maxFileBytes ?? MAX_BATCH_FILE_BYTES;
  const head = inlineHead(input.displayName);
  const seen = new Set<string>();
  const warningCounts = new Map<string, { warning: TranslationWarning; lines: number }>();
  let inlineBytes = Buffer.byteLength(head) + INLINE_TAIL.length;
  let fileBytes = 0;
  let count = 0;
  for await (const line of input.lines()) {
    count += 1;
    if (count > MAX_REQUESTS_PER_BATCH) {
      throw new InvalidRequestError(`A Gemini batch holds at most ${MAX_REQUESTS_PER_BATCH} requests here; this one has more. Split it first.`, {
        param: 'input_file_id',
        code: 'too_many_requests_in_batch',
      });
    }
    checkLine(line, count, seen);
    const { request, warnings } = translateLine(line, count);
    for (const warning of warnings) {
      const key = `${warning.param}\u0000${warning.message}`;
      const entry = warningCounts.get(key) ?? { warning, lines: 0 };
      entry.lines += 1;
      warningCounts.set(key, entry);
    }
    const requestJson = JSON.stringify(request);
    inlineBytes += Buffer.byteLength(inlinePiece(line.custom_id, requestJson, count));
    fileBytes += Buffer.byteLength(filePiece(line.custom_id, requestJson));
    if (fileBytes > maxFileBytes) {
      throw new PayloadTooLargeError(`A Gemini batch input file is limited to ${maxFileBytes} bytes; this one exceeds it at line ${count}. Split it first.`, {
        param: 'input_file_id',
        code: 'batch_too_large',
      });
    }
  }
  if (count === 0) throw new InvalidRequestError('A batch needs at least one request.', { param: 'input_file_id' });
  const warnings = [...warningCounts.values()].map(({ warning, lines }) => ({
    param: warning.param,
    message: lines === 1 ? warning.message : `${warning.message} (${lines} lines)`,
  }));
  const mode = inlineBytes <= limits.inlineMaxBytes ? 'inline' : 'file';

  async function* chunks(): AsyncGenerator<string> {
    if (mode === 'inline') yield head;
    let lineNumber = 0;
    for await (const line of input.lines()) {
      lineNumber += 1;
      const requestJson = JSON.stringify(translateLine(line, lineNumber).request);
      yield mode === 'inline' ? inlinePiece(line.custom_id, requestJson, lineNumber) : filePiece(line.custom_id, requestJson);
    }
    if (mode === 'inline') yield INLINE_TAIL;
  }
  return { mode, chunks, bytes: mode === 'inline' ? inlineBytes : fileBytes, requests: count, warnings };
}

function inlineHead(displayName: string): string {
  return `{"batch":{"displayName":${JSON.stringify(displayName)},"inputConfig":{"requests":{"requests":[`;
}
const INLINE_TAIL = ']}}}}';

function inlinePiece(key: string, requestJson: string, lineNumber: number): string {
  return `${lineNumber === 1 ? '' : ','}{"request":${requestJson},"metadata":{"key":${JSON.stringify(key)}}}`;
}

function filePiece(key: string, requestJson: string): string {
  return `{"key":${JSON.stringify(key)},"request":${requestJson}}\n`;
}

function checkLine(line: BatchInputLine, lineNumber: number, seen: Set<string>): void {
  if (typeof line.custom_id !== 'string' || line.custom_id === '') {
    throw new InvalidRequestError(`Line ${lineNumber}: custom_id is required.`, { param: 'custom_id', code: 'invalid_custom_id' });
  }
  if (seen.has(line.custom_id)) {
    throw new InvalidRequestError(`Line ${lineNumber}: custom_id '${line.custom_id}' is used twice.`, { param: 'custom_id', code: 'duplicate_custom_id' });
  }
  seen.add(line.custom_id);
  if (line.url !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Line ${lineNumber}: url '${line.url}' does not match the batch endpoint ${CHAT_COMPLETIONS_ENDPOINT}.`, { param: 'url', code: 'invalid_url' });
  }
  if (line.body?.stream === true) {
    throw new InvalidRequestError(`Line ${lineNumber}: streaming is not supported in batches.`, { param: 'body.stream', code: 'streaming_unsupported' });
  }
}

function translateLine(line: BatchInputLine, lineNumber: number) {
  try {
    return translateChatRequest(line.body);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw new InvalidRequestError(`Line ${lineNumber}: ${error.message}`, { param: error.param === null ? 'body' : `body.${error.param}`, code: error.code });
  }
}
