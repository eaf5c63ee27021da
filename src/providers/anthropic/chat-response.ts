/**
 * Anthropic `Message` -> OpenAI `chat.completion`. Pure. Mapping per `docs/specs/WIRE.md`
 * §3.1 ("Result lines"), used for live chat and for succeeded batch results alike.
 */
import { countOf } from './json.ts';
import { reasoningContentOf } from './thinking.ts';
import type { AnthropicContentBlock, AnthropicMessage, AnthropicThinkingBlock, AnthropicUsage } from './wire-types.ts';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      message: {
        role: 'assistant';
        content: string | null;
        refusal: null;
        tool_calls?: OpenAIToolCall[];
        /** LiteLLM's fields for Claude's extended thinking: the thinking text, joined... */
        reasoning_content?: string;
        /** ... and the blocks themselves, to send back in a later turn (`thinking_blocks` on an assistant message). */
        thinking_blocks?: AnthropicThinkingBlock[];
      };
      logprobs: null;
      finish_reason: OpenAIFinishReason;
    },
  ];
  usage: OpenAIChatUsage;
}

export interface ChatResponseTranslationOptions {
  /** Unix seconds: now for live calls, the batch's `ended_at` for batch results. */
  created: number;
  /** Used when the message does not name its model. */
  fallbackModel: string;
}

export function translateMessageToChatCompletion(message: AnthropicMessage, options: ChatResponseTranslationOptions): OpenAIChatCompletion {
  const blocks = message.content ?? [];
  const texts: string[] = [];
  const toolCalls: OpenAIToolCall[] = [];
  const thinkingBlocks: AnthropicThinkingBlock[] = [];
  for (const block of blocks) {
    if (isTextBlock(block)) texts.push(block.text);
    else if (isToolUseBlock(block)) toolCalls.push(toolCallOf(block));
    else if (block.type === 'thinking' && typeof block.thinking === 'string') thinkingBlocks.push({ type: 'thinking', thinking: block.thinking, signature: String(block.signature ?? '') });
    else if (block.type === 'redacted_thinking' && typeof block.data === 'string') thinkingBlocks.push({ type: 'redacted_thinking', data: block.data });
    // Other blocks (server tool results) have no chat.completion equivalent.
  }
  const chatMessage: OpenAIChatCompletion['choices'][0]['message'] = {
    role: 'assistant',
    // OpenAI answers `content: null` when the assistant only called tools.
    content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join(''),
    refusal: null,
  };
  if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls;
  if (thinkingBlocks.length > 0) {
    chatMessage.reasoning_content = reasoningContentOf(thinkingBlocks);
    chatMessage.thinking_blocks = thinkingBlocks;
  }
  return {
    id: message.id,
    object: 'chat.completion',
    created: options.created,
    model: message.model ?? options.fallbackModel,
    choices: [{ index: 0, message: chatMessage, logprobs: null, finish_reason: finishReasonOf(message.stop_reason) ?? 'stop' }],
    usage: usageOf(message.usage),
  };
}

/** `null` while Anthropic has not said why it stopped (streaming, before `message_delta`). */
export function finishReasonOf(stopReason: string | null | undefined): OpenAIFinishReason | null {
  switch (stopReason) {
    case null:
    case undefined:
      return null;
    case 'max_tokens':
    // A context-window stop is a length stop in OpenAI's vocabulary.
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    // end_turn, stop_sequence, pause_turn and anything newer: the model stopped normally.
    default:
      return 'stop';
  }
}

/** Anthropic counts cached input separately; OpenAI's prompt_tokens include it. */
export function usageOf(usage: AnthropicUsage | null | undefined): OpenAIChatUsage {
  const cacheRead = countOf(usage?.cache_read_input_tokens);
  const promptTokens = countOf(usage?.input_tokens) + countOf(usage?.cache_creation_input_tokens) + cacheRead;
  const completionTokens = countOf(usage?.output_tokens);
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: { cached_tokens: cacheRead },
  };
}

function toolCallOf(block: { id: string; name: string; input: unknown }): OpenAIToolCall {
  return { id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } };
}

function isTextBlock(block: AnthropicContentBlock): block is { type: 'text'; text: string } {
  return block.type === 'text' && typeof block.text === 'string';
}

function isToolUseBlock(block: AnthropicContentBlock): block is { type: 'tool_use'; id: string; name: string; input: unknown } {
  return block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string';
}
