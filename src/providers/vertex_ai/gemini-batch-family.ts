/**
 * Google's Gemini models in a Vertex AI batch prediction job
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/multimodal/batch-prediction-from-cloud-storage,
 * `docs/specs/vertex-ai.md` §Batch prediction (Gemini, Cloud Storage)).
 *
 * Input: one `{"request": <GenerateContentRequest>}` per line, the body through the live chat
 * translation. Vertex writes each request back next to its response, so the line's key travels
 * inside the request, as the label `portico_custom_id` (`GenerateContentRequest.labels`, a
 * Vertex field "for billing and reporting"; label values are lowercase letters, digits, `_` and
 * `-`, at most 63: Portico's surrogate ids `r<n>` are).
 *
 * Output rows: `{"status", "processed_time", "request", "response"}`: a succeeded row has an
 * empty `status` and a `GenerateContentResponse`; a failed row has the failure in `status` (a
 * message, often with the `google.rpc.Status` JSON in it) and no response. The job's
 * `errors*.jsonl` files, where a job writes them, carry `error: {code, message}`.
 */
import type { InlineBatchResult } from '../../spec/provider.ts';
import { translateBatchResult } from '../gemini/batch-results.ts';
import { translateChatRequest } from '../gemini/chat-request.ts';
import { isRecord } from '../gemini/json.ts';
import type { BatchResultTranslationOptions, VertexBatchFamily } from './batch-family.ts';
import { jsonInStatus } from './batch-output.ts';

/** The label that carries Portico's key for a line through the job. */
export const KEY_LABEL = 'portico_custom_id';

export const geminiBatchFamily: VertexBatchFamily = Object.freeze({
  publisher: 'google',
  name: 'Gemini',
  keyPattern: /^[a-z0-9_-]{1,63}$/,
  keyRule: 'a Vertex label value (lowercase letters, digits, _ and -)',

  encodeLine(line) {
    const translated = translateChatRequest(line.body);
    const request = { ...translated.request, labels: { [KEY_LABEL]: line.custom_id } };
    return { text: `${JSON.stringify({ request })}\n`, warnings: translated.warnings };
  },

  keyOf(line) {
    const request = isRecord(line.request) ? line.request : undefined;
    const labels = request !== undefined && isRecord(request.labels) ? request.labels : undefined;
    const key = labels?.[KEY_LABEL];
    return typeof key === 'string' ? key : undefined;
  },

  decodeRow(key: string, row: Record<string, unknown>, options: BatchResultTranslationOptions): InlineBatchResult {
    if (isRecord(row.response) && (row.status === undefined || row.status === '')) return translateBatchResult(key, { response: row.response }, options);
    if (isRecord(row.error)) return translateBatchResult(key, { error: row.error }, options);
    return translateBatchResult(key, { error: statusOfFailure(row.status) }, options);
  },
} satisfies VertexBatchFamily);

/**
 * A failed row's `status`: the `google.rpc.Status` JSON inside it when there is one
 * (`"Bad Request: {\"error\": {...}}"`), else the message as an internal error.
 */
export function statusOfFailure(status: unknown): Record<string, unknown> {
  const { json, text } = jsonInStatus(status);
  const inner = isRecord(json) && isRecord(json.error) ? json.error : json;
  if (isRecord(inner) && (typeof inner.code === 'number' || typeof inner.status === 'string')) return inner;
  return { code: 500, status: 'INTERNAL', message: text };
}
