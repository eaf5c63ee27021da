/**
 * Claude's extended thinking in OpenAI's shape, as LiteLLM has it: the request's `thinking` or
 * `reasoning_effort`, the `thinking_blocks` an assistant message carries back, and the answer's
 * `reasoning_content` and `thinking_blocks`. Pure. Shared by the Anthropic translation (direct,
 * Vertex AI, Bedrock's InvokeModel bodies) and Bedrock's Converse, which carries the same blocks
 * in its own wrapping.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { LITELLM_THINKING_BUDGETS, reasoningEffortOf } from '../../spec/reasoning-effort.ts';
import { isRecord } from './json.ts';
import type { AnthropicThinkingBlock, AnthropicThinkingConfig } from './wire-types.ts';

/** `reasoning_effort: minimal` as Claude's budget: Anthropic's smallest (`none` asks for no thinking). */
const MINIMAL_BUDGET_TOKENS = 1024;

/**
 * Extended thinking: Anthropic's own `thinking` object as the client sent it (LiteLLM passes it
 * through; its type, and the budget's limits, are Anthropic's to check), else a budget for
 * `reasoning_effort`. `thinking` wins when a request has both.
 */
export function thinkingConfigOf(body: Record<string, unknown>): AnthropicThinkingConfig | undefined {
  const thinking = body.thinking;
  if (thinking != null) {
    if (!isRecord(thinking) || typeof thinking.type !== 'string') {
      throw new InvalidRequestError("'thinking' must be an object with a 'type', e.g. {\"type\": \"enabled\", \"budget_tokens\": 2048}.", { param: 'thinking' });
    }
    if (thinking.budget_tokens !== undefined && (typeof thinking.budget_tokens !== 'number' || !Number.isInteger(thinking.budget_tokens) || thinking.budget_tokens < 1)) {
      throw new InvalidRequestError("'thinking.budget_tokens' must be a positive integer.", { param: 'thinking.budget_tokens' });
    }
    if (thinking.type === 'enabled' && thinking.budget_tokens === undefined) {
      throw new InvalidRequestError("'thinking.budget_tokens' is required when thinking is enabled.", { param: 'thinking.budget_tokens' });
    }
    return thinking as AnthropicThinkingConfig;
  }
  const effort = reasoningEffortOf(body, 'Anthropic deployments');
  if (effort === undefined || effort === 'none') return undefined;
  return { type: 'enabled', budget_tokens: effort === 'minimal' ? MINIMAL_BUDGET_TOKENS : LITELLM_THINKING_BUDGETS[effort] };
}

/**
 * LiteLLM's `thinking_blocks` on an assistant message: the thinking blocks of an earlier answer
 * (`chat-response.ts` gives them), which Anthropic needs back in a tool-use loop with thinking on.
 */
export function thinkingBlocksOf(value: unknown, param: string): AnthropicThinkingBlock[] {
  if (value == null) return [];
  if (!Array.isArray(value)) throw new InvalidRequestError(`${param} must be an array.`, { param });
  return value.map((block, index) => {
    const blockParam = `${param}[${index}]`;
    if (isRecord(block) && block.type === 'thinking' && typeof block.thinking === 'string' && typeof block.signature === 'string') {
      return { type: 'thinking', thinking: block.thinking, signature: block.signature };
    }
    if (isRecord(block) && block.type === 'redacted_thinking' && typeof block.data === 'string') return { type: 'redacted_thinking', data: block.data };
    throw new InvalidRequestError(`${blockParam} must be {type: 'thinking', thinking, signature} or {type: 'redacted_thinking', data}, as an earlier answer gave it.`, {
      param: blockParam,
    });
  });
}

/** The answer's `reasoning_content`: the thinking text of its blocks, joined (a redacted block has none). */
export function reasoningContentOf(blocks: readonly AnthropicThinkingBlock[]): string {
  return blocks.map((block) => (block.type === 'thinking' ? block.thinking : '')).join('');
}
