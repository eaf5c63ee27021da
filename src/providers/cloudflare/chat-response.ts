/**
 * A Workers AI text generation `result` -> OpenAI `chat.completion`. Pure.
 *
 * The result (https://developers.cloudflare.com/workers-ai/models/llama-3.1-8b-instruct/, output):
 * `response` (text; an object when JSON Mode answered one, which is serialised), `tool_calls`
 * (`[{name, arguments}]`, arguments an object) and, on newer models, `usage`. Workers AI says
 * nothing of why generation stopped: `tool_calls` when the model called tools, else `stop`.
 * Without `usage`, tokens are estimated (`spec/text-tokens.ts`; LiteLLM counts with a tokenizer). Ids are generated: Workers AI
 * gives none.
 */
import { randomBytes } from 'node:crypto';
import { countOf, isRecord } from './json.ts';
import { estimatedTokens } from '../../spec/text-tokens.ts';
import type { WorkersAiChatResult, WorkersAiToolCall, WorkersAiUsage } from './wire-types.ts';

export type OpenAIFinishReason = 'stop' | 'tool_calls';

export interface OpenAIToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface OpenAIChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export interface OpenAIChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: [
    {
      index: 0;
      message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: OpenAIToolCall[] };
      logprobs: null;
      finish_reason: OpenAIFinishReason;
    },
  ];
  usage: OpenAIChatUsage;
}

export interface ChatResponseTranslationOptions {
  /** Unix seconds. */
  created: number;
  /** The Workers AI model (`@cf/meta/llama-3.1-8b-instruct`): the result does not name it. */
  model: string;
  /** Used when the result has no `usage` (estimated from the request). */
  estimatedPromptTokens: number;
}

export function translateResultToChatCompletion(result: WorkersAiChatResult, options: ChatResponseTranslationOptions): OpenAIChatCompletion {
  const text = responseTextOf(result.response);
  const toolCalls = (Array.isArray(result.tool_calls) ? result.tool_calls : []).flatMap((call) => {
    const translated = toolCallOf(call);
    return translated === undefined ? [] : [translated];
  });
  const message: OpenAIChatCompletion['choices'][0]['message'] = {
    role: 'assistant',
    // OpenAI answers `content: null` when the assistant only called tools.
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  const generated = text + toolCalls.map((call) => call.function.name + call.function.arguments).join('');
  return {
    id: newCompletionId(),
    object: 'chat.completion',
    created: options.created,
    model: options.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: toolCalls.length > 0 ? 'tool_calls' : 'stop' }],
    usage: usageOf(result.usage, { promptTokens: options.estimatedPromptTokens, completionTokens: estimatedTokens(generated.length) }),
  };
}

/** `response` as text: a string as is, JSON Mode's object (or any other value) serialised, nothing as `''`. */
export function responseTextOf(response: unknown): string {
  if (typeof response === 'string') return response;
  if (response === null || response === undefined) return '';
  return JSON.stringify(response);
}

/** One call of `tool_calls`, in either shape Workers AI answers; `undefined` for one without a name. */
export function toolCallOf(call: WorkersAiToolCall): OpenAIToolCall | undefined {
  if (!isRecord(call)) return undefined;
  const fn = isRecord(call.function) ? call.function : undefined;
  const name = fn?.name ?? call.name;
  if (typeof name !== 'string' || name === '') return undefined;
  return {
    id: typeof call.id === 'string' && call.id !== '' ? call.id : newToolCallId(),
    type: 'function',
    function: { name, arguments: argumentsText(fn !== undefined ? fn.arguments : call.arguments) },
  };
}

/** Arguments as OpenAI carries them: a JSON string (Workers AI sends an object; some models a string already). */
export function argumentsText(value: unknown): string {
  if (typeof value === 'string') return value;
  return JSON.stringify(value ?? {});
}

/**
 * Workers AI's usage when it sent one, else the estimate. A usage of zeros only (the schema's
 * defaults, `"default": 0`) counted nothing: it is no usage.
 */
export function usageOf(usage: WorkersAiUsage | undefined, estimate: { promptTokens: number; completionTokens: number }): OpenAIChatUsage {
  const prompt = isRecord(usage) ? countOf(usage.prompt_tokens) : undefined;
  const completion = isRecord(usage) ? countOf(usage.completion_tokens) : undefined;
  if (!prompt && !completion) {
    return { prompt_tokens: estimate.promptTokens, completion_tokens: estimate.completionTokens, total_tokens: estimate.promptTokens + estimate.completionTokens };
  }
  const promptTokens = prompt ?? 0;
  const completionTokens = completion ?? 0;
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: countOf(usage?.total_tokens) ?? promptTokens + completionTokens };
}

export function newCompletionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

/** `call_` and 24 hex digits: also matches the `[a-zA-Z0-9]{9}` Workers AI asks of a `tool_call_id` sent back. */
export function newToolCallId(): string {
  return `call_${randomBytes(12).toString('hex')}`;
}
