/**
 * Claude on Vertex AI: the Messages API body as Vertex takes it, for `rawPredict`,
 * `streamRawPredict` and each request of a Claude batch prediction job
 * (https://docs.anthropic.com/en/api/claude-on-vertex-ai,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/batch;
 * docs/specs/vertex-ai.md §Claude): `anthropic_version` is required in the body and must be
 * `vertex-2023-10-16`; the model is named by the URL (or the job), never by the body.
 */
import { anthropicErrorBody } from '../anthropic/errors.ts';
import { createMessage, type MessageContext } from '../anthropic/messages.ts';
import { validateMessageParams } from '../anthropic/validate-params.ts';
import { isRecord } from '../gemini/generate.ts';
import { randomBase62 } from '../common/ids.ts';

/** The `anthropic_version` Claude on Vertex takes in the body. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export type ClaudeOutcome = { status: 200; message: Record<string, unknown>; body: Record<string, unknown> } | { status: number; error: Record<string, unknown> };

/** One Messages request to `model`: Anthropic's Message, or its error envelope with the HTTP status. */
export function answerClaudeRequest(json: unknown, model: string, ctx: MessageContext, options: { batch: boolean }): ClaudeOutcome {
  const requestId = `req_vrtx_${randomBase62(22)}`;
  const fail = (status: number, message?: string) => ({ status, error: anthropicErrorBody(status, message, requestId) });
  if (!isRecord(json)) return fail(400, 'There was an error parsing the body of your request. Please make sure it is valid JSON.');
  const { anthropic_version: version, ...params } = json;
  if (version === undefined) return fail(400, 'anthropic_version: Field required');
  if (version !== VERTEX_ANTHROPIC_VERSION) return fail(400, `anthropic_version: Input should be '${VERTEX_ANTHROPIC_VERSION}'`);
  if ('model' in params) return fail(400, 'model: Extra inputs are not permitted');
  const body: Record<string, unknown> = { ...params, model };
  const invalid = validateMessageParams(body, options);
  if (invalid) return fail(invalid.status, invalid.message);
  const outcome = createMessage(body, ctx);
  if ('error' in outcome) return fail(outcome.error.status, outcome.error.message || undefined);
  return { status: 200, message: outcome.message, body };
}
