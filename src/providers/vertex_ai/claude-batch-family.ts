/**
 * Anthropic's Claude models in a Vertex AI batch prediction job
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/batch,
 * `docs/specs/vertex-ai.md` §Batch prediction (Claude, Cloud Storage)).
 *
 * Input: one `{"custom_id": <key>, "request": <Messages body>}` per line, the body as a live
 * `rawPredict` call sends it (the Anthropic translation, `anthropic_version: "vertex-2023-10-16"`,
 * no `model`: the job names it); Google's guide: "An ID for each request to match the input with
 * the output". Portico's surrogate ids (`r<n>`) are the keys.
 *
 * Output rows repeat `custom_id` (and the request) with the job's two output fields, `response`
 * (JSON) and `status`: a succeeded row has Anthropic's Message in `response` and an empty
 * `status`. A failed row's form is not documented: Anthropic's error envelope (in `response`, in
 * `error`, or as the JSON inside the `status` text) keeps its type's status; a
 * `google.rpc.Status` (what Vertex refuses before the model) keeps Google's; bare words are a 500.
 */
import type { InlineBatchResult } from '../../spec/provider.ts';
import { translateChatRequest, type ChatRequestTranslationOptions } from '../anthropic/chat-request.ts';
import { translateMessageToChatCompletion } from '../anthropic/chat-response.ts';
import { anthropicErrorBody } from '../anthropic/errors.ts';
import type { AnthropicMessage } from '../anthropic/wire-types.ts';
import { googleStatusToErrorLine } from '../gemini/errors.ts';
import { isRecord } from '../gemini/json.ts';
import type { BatchResultTranslationOptions, VertexBatchFamily } from './batch-family.ts';
import { jsonInStatus } from './batch-output.ts';
import { vertexClaudeBody } from './claude-models.ts';

export function claudeBatchFamily(translation: ChatRequestTranslationOptions): VertexBatchFamily {
  return Object.freeze({
    publisher: 'anthropic',
    name: 'Claude',
    // Anthropic's own rule for a batch request's custom_id; Google's guide states none of its own.
    keyPattern: /^[a-zA-Z0-9_-]{1,64}$/,
    keyRule: 'letters, digits, _ and - (at most 64)',

    encodeLine(line) {
      const { params, warnings } = translateChatRequest(line.body, translation);
      return { text: `${JSON.stringify({ custom_id: line.custom_id, request: vertexClaudeBody(params, false) })}\n`, warnings };
    },

    keyOf(line) {
      return typeof line.custom_id === 'string' ? line.custom_id : undefined;
    },

    decodeRow: decodeClaudeRow,
  } satisfies VertexBatchFamily);
}

export function decodeClaudeRow(key: string, row: Record<string, unknown>, options: BatchResultTranslationOptions): InlineBatchResult {
  const response = isRecord(row.response) ? row.response : undefined;
  const failed = typeof row.status === 'string' && row.status !== '';
  if (response !== undefined && !failed && response.type !== 'error' && typeof response.id === 'string') {
    const message = response as unknown as AnthropicMessage;
    return { customId: key, outcome: { type: 'succeeded', statusCode: 200, requestId: message.id, body: translateMessageToChatCompletion(message, options) } };
  }
  const { json, text } = response?.type === 'error' ? { json: response, text: '' } : isRecord(row.error) ? { json: row.error, text: '' } : jsonInStatus(row.status);
  return { customId: key, outcome: { type: 'http_error', ...errorLineOf(json, text) } };
}

/** The error line's status, request id and OpenAI body for whichever envelope the failure came in. */
function errorLineOf(json: unknown, text: string): { statusCode: number; requestId: string; body: Record<string, unknown> } {
  if (isAnthropicError(json)) {
    const { status, body } = anthropicErrorBody(json);
    return { statusCode: status, requestId: typeof json.request_id === 'string' ? json.request_id : '', body };
  }
  const inner = isRecord(json) && isRecord(json.error) ? json.error : json;
  const googleStatus = isRecord(inner) && (typeof inner.code === 'number' || typeof inner.status === 'string') ? inner : { code: 500, status: 'INTERNAL', message: text || 'The request failed in the batch prediction job.' };
  const { status, body } = googleStatusToErrorLine(googleStatus);
  return { statusCode: status, requestId: '', body };
}

/** `{"type": "error", "error": {"type", "message"}}`, or its bare `error` member. */
function isAnthropicError(value: unknown): value is Record<string, unknown> {
  if (!isRecord(value)) return false;
  if (value.type === 'error') return true;
  if (isRecord(value.error)) return typeof value.error.type === 'string' && typeof value.error.code !== 'number';
  return typeof value.type === 'string' && typeof value.code !== 'number';
}
