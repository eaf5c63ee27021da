/**
 * Gemini `GenerateContentResponse` -> OpenAI `chat.completion`. Pure; used for live calls and
 * batch results alike (https://ai.google.dev/api/generate-content#v1beta.GenerateContentResponse,
 * `docs/specs/gemini-api.md`).
 *
 * Finish reasons: STOP -> stop (tool_calls when the candidate called functions), MAX_TOKENS ->
 * length, the safety family (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII,
 * IMAGE_SAFETY) -> content_filter, anything else -> stop. A prompt blocked before any candidate
 * (`promptFeedback.blockReason`) is one empty choice with content_filter, as OpenAI answers a
 * filtered prompt that it did not refuse outright.
 *
 * Usage: prompt_tokens = promptTokenCount (+ toolUsePromptTokenCount); completion_tokens =
 * candidatesTokenCount + thoughtsTokenCount (OpenAI counts reasoning tokens in the completion);
 * cachedContentTokenCount -> prompt_tokens_details.cached_tokens; thoughtsTokenCount ->
 * completion_tokens_details.reasoning_tokens.
 */
import { randomBytes } from 'node:crypto';
import { countOf } from './json.ts';
import { toolCallExtraContent } from './thinking.ts';
import type { GeminiCandidate, GeminiGenerateContentResponse, GeminiPart, GeminiUsageMetadata } from './wire-types.ts';

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  /** The call's thought signature, where Google's OpenAI-compatible API puts it (`thinking.ts`). */
  extra_content?: { google: { thought_signature: string } };
}

export interface OpenAIChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  completion_tokens_details: { reasoning_tokens: number };
}

export interface OpenAIChatChoice {
  index: number;
  message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: OpenAIToolCall[]; reasoning_content?: string };
  logprobs: null;
  finish_reason: OpenAIFinishReason;
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: OpenAIChatChoice[];
  usage: OpenAIChatUsage;
}

export interface ChatResponseTranslationOptions {
  /** Unix seconds: now for live calls, the batch's end for batch results. */
  created: number;
  /** Used when the response names no `modelVersion`. */
  fallbackModel: string;
}

const CONTENT_FILTER_REASONS = new Set(['SAFETY', 'RECITATION', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'SPII', 'IMAGE_SAFETY']);

export function translateGenerateContentResponse(response: GeminiGenerateContentResponse, options: ChatResponseTranslationOptions): OpenAIChatCompletion {
  const candidates = response.candidates ?? [];
  const choices: OpenAIChatChoice[] =
    candidates.length === 0
      ? [{ index: 0, message: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: response.promptFeedback?.blockReason ? 'content_filter' : 'stop' }]
      : candidates.map((candidate, position) => choiceOf(candidate, position));
  return {
    id: response.responseId ? `chatcmpl-${response.responseId}` : newCompletionId(),
    object: 'chat.completion',
    created: options.created,
    model: response.modelVersion ?? options.fallbackModel,
    choices,
    usage: usageOf(response.usageMetadata),
  };
}

function choiceOf(candidate: GeminiCandidate, position: number): OpenAIChatChoice {
  const parts = candidate.content?.parts ?? [];
  const text = parts.filter(isAnswerText).map((part) => part.text).join('');
  const toolCalls = parts.filter((part) => part.functionCall !== undefined).map(toolCallOf);
  const message: OpenAIChatChoice['message'] = {
    role: 'assistant',
    // OpenAI answers `content: null` when the assistant only called tools.
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  // Thought summaries (with `includeThoughts`), as LiteLLM gives them.
  const thoughts = parts.filter(isThoughtText).map((part) => part.text).join('');
  if (thoughts !== '') message.reasoning_content = thoughts;
  return { index: candidate.index ?? position, message, logprobs: null, finish_reason: finishReasonOf(candidate.finishReason, toolCalls.length > 0) ?? 'stop' };
}

/** Text that is part of the answer: thought summaries are not. */
export function isAnswerText(part: GeminiPart): part is GeminiPart & { text: string } {
  return typeof part.text === 'string' && part.thought !== true;
}

/** A thought summary's text (`includeThoughts`). */
export function isThoughtText(part: GeminiPart): part is GeminiPart & { text: string } {
  return typeof part.text === 'string' && part.thought === true;
}

export function toolCallOf(part: GeminiPart): OpenAIToolCall {
  const call = part.functionCall!;
  const toolCall: OpenAIToolCall = { id: call.id ?? newToolCallId(), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args ?? {}) } };
  if (typeof part.thoughtSignature === 'string' && part.thoughtSignature !== '') toolCall.extra_content = toolCallExtraContent(part.thoughtSignature);
  return toolCall;
}

/** `null` while Gemini has not said why it stopped (a streamed chunk before the last). */
export function finishReasonOf(reason: string | undefined, calledTools: boolean): OpenAIFinishReason | null {
  if (reason === undefined || reason === 'FINISH_REASON_UNSPECIFIED') return null;
  if (reason === 'MAX_TOKENS') return 'length';
  if (CONTENT_FILTER_REASONS.has(reason)) return 'content_filter';
  return calledTools ? 'tool_calls' : 'stop';
}

export function usageOf(usage: GeminiUsageMetadata | undefined): OpenAIChatUsage {
  const prompt = countOf(usage?.promptTokenCount) + countOf(usage?.toolUsePromptTokenCount);
  const reasoning = countOf(usage?.thoughtsTokenCount);
  const completion = countOf(usage?.candidatesTokenCount) + reasoning;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: countOf(usage?.cachedContentTokenCount) },
    completion_tokens_details: { reasoning_tokens: reasoning },
  };
}

export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
