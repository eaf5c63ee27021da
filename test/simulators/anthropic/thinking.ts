/**
 * Extended thinking as Anthropic's Messages API documents it
 * (https://docs.claude.com/en/docs/build-with-claude/extended-thinking):
 * - `thinking: {type: "enabled", budget_tokens}` with `budget_tokens >= 1024` and below
 *   `max_tokens`; `{type: "disabled"}` turns it off. With thinking on, `temperature` may only be 1,
 *   `top_k` is not allowed, and `tool_choice` may not force a tool.
 * - The answer starts with a `thinking` block (its text and a `signature`), or a
 *   `redacted_thinking` block (opaque `data`) when the prompt holds Anthropic's documented test
 *   string. Streamed: `thinking_delta` events, then one `signature_delta`, then the block's stop.
 * - Thinking blocks sent back in assistant turns must come back unchanged: their signatures are
 *   checked. In a tool-use loop (the last user turn answers tools), the assistant turn with the
 *   `tool_use` blocks must start with a thinking block.
 *
 * The simulator signs with an HMAC of a key made when this module loads; real signatures are
 * opaque to clients either way.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { countTokens } from '../common/fake-model.ts';
import type { ParamsError } from './validate-params.ts';

type Json = Record<string, unknown>;

/** Anthropic's documented string that makes a model answer with a redacted thinking block. */
export const REDACTED_THINKING_TRIGGER = 'ANTHROPIC_MAGIC_STRING_TRIGGER_REDACTED_THINKING_46C9A13E193C177646C7398A98432ECCCE4C1253D5E2D82641AC0E52CC2876CB';

const MIN_BUDGET_TOKENS = 1024;
const DOCS = 'https://docs.claude.com/en/docs/build-with-claude/extended-thinking';
const signingKey = randomBytes(32);

const bad = (message: string): ParamsError => ({ status: 400, message });

function sign(text: string): string {
  return createHmac('sha256', signingKey).update(text).digest('base64');
}

/** Whether the request turns thinking on (`enabled`, or `adaptive` on the models that have it). */
export function thinkingEnabled(body: Json): boolean {
  const thinking = body.thinking as Json | undefined;
  return thinking !== undefined && (thinking.type === 'enabled' || thinking.type === 'adaptive');
}

export function validateThinking(body: Json): ParamsError | null {
  const thinking = body.thinking;
  if (thinking === undefined) return null;
  if (thinking === null || typeof thinking !== 'object' || Array.isArray(thinking)) return bad('thinking: Input should be a valid dictionary or object to extract fields from');
  const { type } = thinking as Json;
  if (type === 'disabled') return null;
  if (type !== 'enabled' && type !== 'adaptive') {
    return bad(`thinking: Input tag '${String(type)}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'`);
  }
  if (type === 'enabled') {
    const budget = (thinking as Json).budget_tokens;
    if (budget === undefined) return bad('thinking.enabled.budget_tokens: Field required');
    if (typeof budget !== 'number' || !Number.isInteger(budget)) return bad('thinking.enabled.budget_tokens: Input should be a valid integer');
    if (budget < MIN_BUDGET_TOKENS) return bad(`thinking.enabled.budget_tokens: Input should be greater than or equal to ${MIN_BUDGET_TOKENS}`);
    if (typeof body.max_tokens === 'number' && body.max_tokens <= budget) {
      return bad(`\`max_tokens\` must be greater than \`thinking.budget_tokens\`. Please consult our documentation at ${DOCS}#max-tokens-and-context-window-size`);
    }
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    return bad(`\`temperature\` may only be set to 1 when thinking is enabled. Please consult our documentation at ${DOCS}#feature-compatibility`);
  }
  if (body.top_k !== undefined) return bad(`\`top_k\` is not supported when thinking is enabled. Please consult our documentation at ${DOCS}#feature-compatibility`);
  const choice = body.tool_choice as Json | undefined;
  if (choice?.type === 'any' || choice?.type === 'tool') return bad('Thinking may not be enabled when tool_choice forces tool use.');
  return validateTurns(body.messages as Json[]);
}

/** Signatures of thinking blocks sent back, and the thinking block a tool-use loop needs. */
function validateTurns(messages: Json[]): ParamsError | null {
  for (const [i, message] of messages.entries()) {
    if (!Array.isArray(message.content)) continue;
    for (const [j, block] of (message.content as Json[]).entries()) {
      if (block.type === 'thinking' && (typeof block.thinking !== 'string' || block.signature !== sign(block.thinking))) {
        return bad(`messages.${i}.content.${j}: Invalid \`signature\` in \`thinking\` block`);
      }
      if (block.type === 'redacted_thinking' && (typeof block.data !== 'string' || !isRedactedData(block.data))) {
        return bad(`messages.${i}.content.${j}: Invalid \`data\` in \`redacted_thinking\` block`);
      }
    }
  }
  const last = messages.at(-1);
  const answersTools = last?.role === 'user' && Array.isArray(last.content) && (last.content as Json[]).some((block) => block.type === 'tool_result');
  if (!answersTools) return null;
  const assistantIndex = messages.findLastIndex((message) => message.role === 'assistant');
  const assistant = messages[assistantIndex];
  const first = Array.isArray(assistant?.content) ? (assistant.content as Json[])[0] : undefined;
  if (first?.type === 'thinking' || first?.type === 'redacted_thinking') return null;
  return bad(
    `messages.${assistantIndex}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first?.type ?? 'text')}\`. ` +
      'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). ' +
      `We recommend you include thinking blocks from previous turns. To avoid this requirement, disable \`thinking\`. Please consult our documentation at ${DOCS}`,
  );
}

const REDACTED_PREFIX = 'EmwKAhgB';

function redactedData(text: string): string {
  const payload = Buffer.from(text).toString('base64');
  return `${REDACTED_PREFIX}${payload}.${sign(payload)}`;
}

function isRedactedData(data: string): boolean {
  if (!data.startsWith(REDACTED_PREFIX)) return false;
  const [payload, signature] = data.slice(REDACTED_PREFIX.length).split('.');
  return signature !== undefined && signature === sign(payload);
}

/** The block the model thinks in before it answers, and the output tokens it took. */
export function thinkingBlockFor(userText: string): { block: Json; tokens: number } {
  const thinking = `The user wrote: "${userText}". I will answer with those words.`;
  if (userText.includes(REDACTED_THINKING_TRIGGER)) return { block: { type: 'redacted_thinking', data: redactedData(thinking) }, tokens: countTokens(thinking) };
  return { block: { type: 'thinking', thinking, signature: sign(thinking) }, tokens: countTokens(thinking) };
}
