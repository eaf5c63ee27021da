/**
 * One line of a Claude batch prediction job
 * (https://cloud.google.com/vertex-ai/generative-ai/docs/partner-models/claude/batch;
 * docs/specs/vertex-ai.md §Batch prediction (Claude, Cloud Storage)). The input line is
 * `{"custom_id", "request": <Messages body with anthropic_version "vertex-2023-10-16">}` ("An ID
 * for each request to match the input with the output"); the job reserves two output columns,
 * `response` (JSON) and `status`. The row repeats the input line's fields and adds them: a
 * succeeded request has Anthropic's Message in `response` and an empty `status`; a failed one has
 * no `response` and its failure in `status`, as reason words followed by Anthropic's error
 * envelope (the guide shows no failed row: that form is the simulator's choice, the same as its
 * Gemini rows').
 */
import type { MessageContext } from '../anthropic/messages.ts';
import { isRecord } from '../gemini/generate.ts';
import { reasonPhrase, type BatchRow } from './batch-rows.ts';
import { answerClaudeRequest } from './claude-requests.ts';

export function claudeBatchRow(text: string, model: string, ctx: MessageContext): BatchRow {
  let line: unknown;
  try {
    line = JSON.parse(text);
  } catch {
    return { succeeded: false, row: { status: 'Bad Request: the line is not JSON.' } };
  }
  if (!isRecord(line)) return { succeeded: false, row: { status: 'Bad Request: the line is not a JSON object.' } };
  const outcome = answerClaudeRequest(line.request, model, ctx, { batch: true });
  if ('message' in outcome) return { succeeded: true, row: { ...line, status: '', response: outcome.message } };
  return { succeeded: false, row: { ...line, status: `${reasonPhrase(outcome.status)}: ${JSON.stringify(outcome.error)}` } };
}
