/**
 * OpenAI batch input lines -> the body of Anthropic's `POST /v1/messages/batches`
 * (`{"requests":[{"custom_id","params"}...]}`). Pure. Each line's body goes through the same
 * translation as a live chat call, without `stream`.
 *
 * Anthropic's limits (https://docs.anthropic.com/en/docs/build-with-claude/batch-processing,
 * WIRE.md §3): at most 100,000 requests or 256 MB per batch; `custom_id` must match
 * `^[a-zA-Z0-9_-]{1,64}$` and be unique. Portico's managed layer splits larger batches and
 * chooses the surrogate ids; this module checks and refuses, it does not split or rename.
 */
import { GatewayError, InvalidRequestError, PayloadTooLargeError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import type { BatchLineSource } from '../../spec/provider.ts';
import { translateChatRequest, type ChatRequestTranslationOptions } from './chat-request.ts';
import type { TranslationWarning } from './warnings.ts';

export const MAX_REQUESTS_PER_BATCH = 100_000;
export const MAX_BYTES_PER_BATCH = 256 * 1024 * 1024;

const CUSTOM_ID_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const CHAT_COMPLETIONS_ENDPOINT = '/v1/chat/completions';

export interface BatchRequestsBody {
  /**
   * The body in pieces, produced afresh on each call by reading and translating the lines again
   * as they are sent: never one 256 MB string, nor the batch's lines all at once.
   */
  chunks: () => AsyncIterable<string>;
  /** Its size in UTF-8 bytes, for Content-Length. */
  bytes: number;
  /** Warnings of all lines, each kept once with the number of lines it concerned. */
  warnings: TranslationWarning[];
}

export interface BatchRequestsLimits {
  maxRequests: number;
  maxBytes: number;
}

/**
 * Checks and translates every line once to know the body's size and warnings (keeping only
 * counts, and the ids for the duplicate check), and answers how to produce the body; the lines
 * are translated again, identically, while it is sent.
 */
export async function buildBatchRequestsBody(
  input: { endpoint: string; lines: BatchLineSource },
  translation: ChatRequestTranslationOptions,
  limits: BatchRequestsLimits = { maxRequests: MAX_REQUESTS_PER_BATCH, maxBytes: MAX_BYTES_PER_BATCH },
): Promise<BatchRequestsBody> {
  if (input.endpoint !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Anthropic batches support only ${CHAT_COMPLETIONS_ENDPOINT}, not '${input.endpoint}'.`, { param: 'endpoint' });
  }
  const seen = new Set<string>();
  const warningCounts = new Map<string, { warning: TranslationWarning; lines: number }>();
  let bytes = BODY_START.length + BODY_END.length;
  let count = 0;
  for await (const line of input.lines()) {
    count += 1;
    if (count > limits.maxRequests) {
      throw new InvalidRequestError(`An Anthropic batch holds at most ${limits.maxRequests} requests; this one has more. Split it first.`, {
        param: 'input_file_id',
        code: 'too_many_requests_in_batch',
      });
    }
    checkLine(line, count, seen);
    const { piece, warnings } = requestPiece(line, count, translation);
    for (const warning of warnings) {
      const key = `${warning.param}\u0000${warning.message}`;
      const entry = warningCounts.get(key) ?? { warning, lines: 0 };
      entry.lines += 1;
      warningCounts.set(key, entry);
    }
    bytes += Buffer.byteLength(piece);
    if (bytes > limits.maxBytes) {
      throw new PayloadTooLargeError(
        `An Anthropic batch body is limited to ${limits.maxBytes} bytes; this one exceeds it at line ${count}. Split it first.`,
        { param: 'input_file_id', code: 'batch_too_large' },
      );
    }
  }
  if (count === 0) throw new InvalidRequestError('A batch needs at least one request.', { param: 'input_file_id' });

  const warnings = [...warningCounts.values()].map(({ warning, lines }) => ({
    param: warning.param,
    message: lines === 1 ? warning.message : `${warning.message} (${lines} lines)`,
  }));
  async function* chunks(): AsyncGenerator<string> {
    yield BODY_START;
    let lineNumber = 0;
    for await (const line of input.lines()) {
      lineNumber += 1;
      yield requestPiece(line, lineNumber, translation).piece;
    }
    yield BODY_END;
  }
  return { chunks, bytes, warnings };
}

const BODY_START = '{"requests":[';
const BODY_END = ']}';

/** One request of the body, with the comma before it (but the first); the same for the same line. */
function requestPiece(line: BatchInputLine, lineNumber: number, translation: ChatRequestTranslationOptions): { piece: string; warnings: TranslationWarning[] } {
  const { params, warnings } = translateLine(line, lineNumber, translation);
  return { piece: (lineNumber === 1 ? '' : ',') + JSON.stringify({ custom_id: line.custom_id, params }), warnings };
}

function checkLine(line: BatchInputLine, lineNumber: number, seen: Set<string>): void {
  if (typeof line.custom_id !== 'string' || !CUSTOM_ID_PATTERN.test(line.custom_id)) {
    throw new InvalidRequestError(
      `Line ${lineNumber}: custom_id '${String(line.custom_id)}' is not Anthropic-safe (^[a-zA-Z0-9_-]{1,64}$); map it to a surrogate first.`,
      { param: 'custom_id', code: 'invalid_custom_id' },
    );
  }
  if (seen.has(line.custom_id)) {
    throw new InvalidRequestError(`Line ${lineNumber}: custom_id '${line.custom_id}' is used twice.`, {
      param: 'custom_id',
      code: 'duplicate_custom_id',
    });
  }
  seen.add(line.custom_id);
  if (line.url !== CHAT_COMPLETIONS_ENDPOINT) {
    throw new InvalidRequestError(`Line ${lineNumber}: url '${line.url}' does not match the batch endpoint ${CHAT_COMPLETIONS_ENDPOINT}.`, {
      param: 'url',
      code: 'invalid_url',
    });
  }
  if (line.body?.stream === true) {
    throw new InvalidRequestError(`Line ${lineNumber}: streaming is not supported in batches.`, { param: 'body.stream', code: 'streaming_unsupported' });
  }
}

function translateLine(line: BatchInputLine, lineNumber: number, translation: ChatRequestTranslationOptions) {
  try {
    return translateChatRequest(line.body, translation);
  } catch (error) {
    if (!(error instanceof GatewayError)) throw error;
    throw new InvalidRequestError(`Line ${lineNumber}: ${error.message}`, {
      param: error.param === null ? 'body' : `body.${error.param}`,
      code: error.code,
    });
  }
}
