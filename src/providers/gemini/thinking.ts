/**
 * Gemini's thinking in OpenAI's shape. Pure.
 *
 * - Request: `reasoning_effort` -> `generationConfig.thinkingConfig` as LiteLLM maps it (LiteLLM's
 *   budgets, `minimal` Gemini 2.5's smallest budget, 128; `none` a budget of 0, which turns
 *   thinking off where the model allows it) with `includeThoughts` so that the thought summaries
 *   come back; Anthropic's `thinking` object, which LiteLLM also takes for Gemini, as a budget.
 * - Answer: thought summaries (`thought: true` parts) -> `reasoning_content`.
 * - Thought signatures (https://ai.google.dev/gemini-api/docs/thought-signatures): a function call
 *   part's `thoughtSignature` must come back with that call in the next request (Gemini 3 refuses
 *   a call without it). It travels where Google's own OpenAI-compatible API puts it,
 *   `extra_content.google.thought_signature` on the tool call, which an SDK's assistant message
 *   sent back as it came keeps; LiteLLM's encoding in the call id (`<id>__thought__<signature>`)
 *   is read too, for clients coming from LiteLLM.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { LITELLM_THINKING_BUDGETS, reasoningEffortOf } from '../../spec/reasoning-effort.ts';
import { isRecord } from './json.ts';
import type { GeminiThinkingConfig } from './wire-types.ts';

/** `reasoning_effort: minimal`: the smallest budget Gemini 2.5 Pro takes (Flash takes less). */
const MINIMAL_BUDGET_TOKENS = 128;

/** LiteLLM's separator between a tool call id and the thought signature it carries. */
const LITELLM_SIGNATURE_SEPARATOR = '__thought__';

/** The request's thinking as Gemini's `thinkingConfig`, or undefined when it asks for nothing. */
export function thinkingConfigOf(body: Record<string, unknown>): GeminiThinkingConfig | undefined {
  const thinking = body.thinking;
  if (thinking != null) {
    if (!isRecord(thinking) || (thinking.type !== 'enabled' && thinking.type !== 'disabled')) {
      throw new InvalidRequestError("'thinking' must be {\"type\": \"enabled\", \"budget_tokens\": N} or {\"type\": \"disabled\"} on Gemini deployments.", { param: 'thinking' });
    }
    if (thinking.type === 'disabled') return { thinkingBudget: 0 };
    const budget = thinking.budget_tokens;
    if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 0) {
      throw new InvalidRequestError("'thinking.budget_tokens' must be a non-negative integer.", { param: 'thinking.budget_tokens' });
    }
    return { thinkingBudget: budget, includeThoughts: true };
  }
  const effort = reasoningEffortOf(body, 'Gemini deployments');
  if (effort === undefined) return undefined;
  if (effort === 'none') return { thinkingBudget: 0 };
  return { thinkingBudget: effort === 'minimal' ? MINIMAL_BUDGET_TOKENS : LITELLM_THINKING_BUDGETS[effort], includeThoughts: true };
}

/** A tool call's `extra_content`, as Google's OpenAI-compatible API writes it. */
export function toolCallExtraContent(signature: string): { google: { thought_signature: string } } {
  return { google: { thought_signature: signature } };
}

/** The id to send Gemini and the thought signature of a tool call the client sent back. */
export function signedToolCallOf(call: Record<string, unknown>): { id: string | undefined; signature: string | undefined } {
  const extra = isRecord(call.extra_content) && isRecord(call.extra_content.google) ? call.extra_content.google.thought_signature : undefined;
  const rawId = typeof call.id === 'string' ? call.id : undefined;
  const at = rawId?.indexOf(LITELLM_SIGNATURE_SEPARATOR) ?? -1;
  const id = rawId === undefined || at < 0 ? rawId : rawId.slice(0, at);
  const fromId = rawId === undefined || at < 0 ? undefined : rawId.slice(at + LITELLM_SIGNATURE_SEPARATOR.length);
  const signature = typeof extra === 'string' && extra !== '' ? extra : fromId !== '' ? fromId : undefined;
  return { id, signature };
}

/** The id Gemini knows a tool call by, for a tool message's `tool_call_id` (LiteLLM's encoding removed). */
export function unsignedToolCallId(id: string): string {
  const at = id.indexOf(LITELLM_SIGNATURE_SEPARATOR);
  return at < 0 ? id : id.slice(0, at);
}
