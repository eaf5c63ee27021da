/**
 * Bedrock `Converse` answer -> OpenAI `chat.completion`. Pure.
 * (https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html#API_runtime_Converse_ResponseSyntax,
 * `docs/specs/bedrock.md` §Converse)
 *
 * `output.message.content` text blocks join into `content`, `toolUse` blocks become `tool_calls`,
 * `reasoningContent` blocks (Claude's thinking) LiteLLM's `reasoning_content` and `thinking_blocks`
 * (as on anthropic/, `anthropic/thinking.ts`); `stopReason` maps to `finish_reason`; `usage`
 * counts cache reads and writes apart from `inputTokens`, OpenAI's `prompt_tokens` include them.
 */
import type { OpenAIChatCompletion, OpenAIChatUsage, OpenAIFinishReason, OpenAIToolCall } from '../anthropic/chat-response.ts';
import { isRecord } from './errors.ts';
import { reasoningContentOf } from '../anthropic/thinking.ts';
import type { AnthropicThinkingBlock } from '../anthropic/wire-types.ts';

export interface ConverseTokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
  cacheReadInputTokens?: number;
  cacheWriteInputTokens?: number;
}

export interface ConverseResponse {
  output?: { message?: { role?: string; content?: unknown[] } };
  stopReason?: string;
  usage?: ConverseTokenUsage;
}

export interface ConverseResponseTranslationOptions {
  /** `chatcmpl-...`: Bedrock's answers carry no id; the request id stands in. */
  id: string;
  created: number;
  model: string;
}

/** Converse `StopReason` -> OpenAI `finish_reason`. */
export function finishReasonOfStop(stopReason: string | undefined | null): OpenAIFinishReason {
  switch (stopReason) {
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content_filter';
    // end_turn, stop_sequence, and anything newer: the model stopped normally.
    default:
      return 'stop';
  }
}

export function usageOfConverse(usage: ConverseTokenUsage | undefined): OpenAIChatUsage {
  const cacheRead = count(usage?.cacheReadInputTokens);
  const prompt = count(usage?.inputTokens) + cacheRead + count(usage?.cacheWriteInputTokens);
  const completion = count(usage?.outputTokens);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, prompt_tokens_details: { cached_tokens: cacheRead } };
}

export function isConverseResponse(body: unknown): body is ConverseResponse {
  return isRecord(body) && isRecord(body.output) && isRecord(body.output.message) && Array.isArray(body.output.message.content);
}

export function translateConverseResponse(response: ConverseResponse, options: ConverseResponseTranslationOptions): OpenAIChatCompletion {
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  const thinkingBlocks: AnthropicThinkingBlock[] = [];
  for (const block of response.output?.message?.content ?? []) {
    if (!isRecord(block)) continue;
    if (typeof block.text === 'string') texts.push(block.text);
    else if (isRecord(block.reasoningContent)) {
      const thinking = thinkingBlockOfReasoning(block.reasoningContent);
      if (thinking !== undefined) thinkingBlocks.push(thinking);
    }
    else if (isRecord(block.toolUse) && typeof block.toolUse.toolUseId === 'string' && typeof block.toolUse.name === 'string') {
      toolCalls.push({ id: block.toolUse.toolUseId, type: 'function', function: { name: block.toolUse.name, arguments: JSON.stringify(block.toolUse.input ?? {}) } });
    }
  }
  const message: OpenAIChatCompletion['choices'][0]['message'] = {
    role: 'assistant',
    content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join(''),
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  if (thinkingBlocks.length > 0) {
    message.reasoning_content = reasoningContentOf(thinkingBlocks);
    message.thinking_blocks = thinkingBlocks;
  }
  return {
    id: options.id,
    object: 'chat.completion',
    created: options.created,
    model: options.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReasonOfStop(response.stopReason) }],
    usage: usageOfConverse(response.usage),
  };
}

/** A `reasoningContent` block (`reasoningText` with its signature, or `redactedContent` bytes as base64) in Anthropic's shape. */
export function thinkingBlockOfReasoning(reasoning: Record<string, unknown>): AnthropicThinkingBlock | undefined {
  const text = reasoning.reasoningText;
  if (isRecord(text) && typeof text.text === 'string') return { type: 'thinking', thinking: text.text, signature: typeof text.signature === 'string' ? text.signature : '' };
  if (typeof reasoning.redactedContent === 'string') return { type: 'redacted_thinking', data: reasoning.redactedContent };
  return undefined;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
