/**
 * Cohere `V2ChatResponse` -> OpenAI `chat.completion`. Pure.
 * (https://docs.cohere.com/reference/chat, "Response")
 *
 * The text parts are joined into `content`; a reasoning model's `thinking` parts become LiteLLM's
 * `reasoning_content`; `tool_calls` keep Cohere's ids and string arguments; the plan Cohere writes
 * before calling tools is kept as `tool_plan` on the message (a field OpenAI clients ignore and
 * Portico sends back to Cohere in the next turn). Citations have no chat.completion equivalent.
 *
 * Finish reasons: COMPLETE and STOP_SEQUENCE -> `stop`; MAX_TOKENS -> `length`; TOOL_CALL ->
 * `tool_calls`; TIMEOUT (the generation ran out of Cohere's time limit: cut short, like a token
 * limit) -> `length`; v1's ERROR_TOXIC -> `content_filter`, ERROR_LIMIT -> `length`. ERROR (the
 * generation failed) is no answer at all: the caller throws it as a retryable 500
 * (`generationError`), as routing retries any other upstream failure.
 *
 * Usage: `usage.tokens` (every token the model read and wrote), else `usage.billed_units` (what
 * Cohere bills, which leaves out tokens Cohere adds itself), as LiteLLM reports Cohere's usage;
 * `cached_tokens` -> `prompt_tokens_details.cached_tokens`.
 */
import { UpstreamError } from '../../spec/errors.ts';
import { countOrUndefined, isRecord } from './json.ts';
import type { CohereChatResponse, CohereResponseToolCall, CohereUsage } from './wire-types.ts';

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
  prompt_tokens_details?: { cached_tokens: number };
}

export interface OpenAIChatMessage {
  role: 'assistant';
  content: string | null;
  refusal: null;
  tool_calls?: OpenAIToolCall[];
  /** LiteLLM's field for a reasoning model's thoughts. */
  reasoning_content?: string;
  /** Cohere's plan before its tool calls, sent back with them in the next turn. */
  tool_plan?: string;
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [{ index: 0; message: OpenAIChatMessage; logprobs: null; finish_reason: OpenAIFinishReason }];
  usage: OpenAIChatUsage;
}

/** The finish reason that means the generation failed (see the module note). */
export const FAILED_GENERATION = 'ERROR';

export function translateChatResponse(response: CohereChatResponse, options: { created: number; model: string }): OpenAIChatCompletion {
  const message = response.message ?? {};
  const texts: string[] = [];
  const thoughts: string[] = [];
  for (const part of message.content ?? []) {
    if (!isRecord(part)) continue;
    if (part.type === 'text' && typeof part.text === 'string') texts.push(part.text);
    else if (part.type === 'thinking' && typeof part.thinking === 'string') thoughts.push(part.thinking);
  }
  const toolCalls = (message.tool_calls ?? []).map(toolCallOf);
  const chatMessage: OpenAIChatMessage = {
    role: 'assistant',
    // OpenAI answers `content: null` when the assistant only called tools.
    content: texts.length === 0 && toolCalls.length > 0 ? null : texts.join(''),
    refusal: null,
  };
  if (toolCalls.length > 0) chatMessage.tool_calls = toolCalls;
  if (thoughts.length > 0) chatMessage.reasoning_content = thoughts.join('');
  if (typeof message.tool_plan === 'string' && message.tool_plan !== '') chatMessage.tool_plan = message.tool_plan;
  return {
    id: response.id,
    object: 'chat.completion',
    created: options.created,
    model: options.model,
    choices: [{ index: 0, message: chatMessage, logprobs: null, finish_reason: finishReasonOf(response.finish_reason) ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop') }],
    usage: usageOf(response.usage),
  };
}

/** `null` for a reason not known (yet): the caller picks the default. */
export function finishReasonOf(reason: string | null | undefined): OpenAIFinishReason | null {
  switch (reason?.toUpperCase()) {
    case 'COMPLETE':
    case 'STOP_SEQUENCE':
      return 'stop';
    case 'MAX_TOKENS':
    case 'TIMEOUT':
    case 'ERROR_LIMIT':
      return 'length';
    case 'TOOL_CALL':
      return 'tool_calls';
    case 'ERROR_TOXIC':
      return 'content_filter';
    default:
      return null;
  }
}

/** The error a failed generation (`finish_reason: ERROR`) is answered with: 500, retryable. */
export function generationError(detail: string | null | undefined, deploymentId: string | undefined): UpstreamError {
  const message = typeof detail === 'string' && detail !== '' ? `Cohere's generation failed: ${detail}` : "Cohere's generation failed (finish_reason ERROR).";
  return new UpstreamError(500, { message, type: 'api_error', param: null, code: 'generation_failed' }, { deploymentId, isRetryable: true });
}

export function usageOf(usage: CohereUsage | null | undefined): OpenAIChatUsage {
  const counted = usage?.tokens;
  const billed = usage?.billed_units;
  const promptTokens = countOrUndefined(counted?.input_tokens) ?? countOrUndefined(billed?.input_tokens) ?? 0;
  const completionTokens = countOrUndefined(counted?.output_tokens) ?? countOrUndefined(billed?.output_tokens) ?? 0;
  const result: OpenAIChatUsage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  const cached = countOrUndefined(usage?.cached_tokens);
  if (cached !== undefined) result.prompt_tokens_details = { cached_tokens: cached };
  return result;
}

function toolCallOf(call: CohereResponseToolCall, index: number): OpenAIToolCall {
  return {
    // Cohere always names its calls; an id it left out must still pair the call with its result.
    id: typeof call.id === 'string' && call.id !== '' ? call.id : `call_${index}`,
    type: 'function',
    function: { name: call.function?.name ?? '', arguments: call.function?.arguments ?? '{}' },
  };
}
