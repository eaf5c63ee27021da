/**
 * OpenAI `POST /v1/chat/completions` body -> Anthropic `POST /v1/messages` params.
 * Pure: no I/O. Mapping per `docs/specs/WIRE.md` §3.1 ("Per line") and Anthropic's
 * `CreateMessageParams` (anthropic-hosted_spec.2024-11.json). A parameter Anthropic cannot
 * honour is dropped or clamped with a recorded warning, or refused with a 400 when dropping it
 * would change what the client asked for (`n > 1`, `response_format: json_schema`).
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateMessages } from './chat-request-messages.ts';
import { thinkingConfigOf } from './thinking.ts';
import { applyModifyParams } from './chat-request-modify.ts';
import type { AnthropicMessageParams, AnthropicToolChoice, AnthropicToolParam } from './wire-types.ts';
import type { TranslationWarning } from './warnings.ts';
import { isRecord } from './json.ts';
import { echoValue } from '../../spec/echo-value.ts';
import { numberIn, refuseDeprecatedFunctions, stopSequencesOf } from '../../spec/chat-params.ts';

/** Anthropic requires `max_tokens`; OpenAI does not. Used when neither the request nor the deployment says. */
export const DEFAULT_MAX_TOKENS = 4096;

export interface ChatRequestTranslationOptions {
  /** The Anthropic model id (the deployment's upstream model); the client's `model` names the group. */
  model: string;
  /** `max_tokens` when the request has none (`litellm_params.max_tokens`, else `DEFAULT_MAX_TOKENS`). */
  defaultMaxTokens: number;
  /**
   * LiteLLM's `modify_params` (the deployment's or `litellm_settings`'): a conversation
   * Anthropic would refuse is fixed up, with a warning for each change (`chat-request-modify.ts`).
   */
  modifyParams?: boolean;
}

export interface ChatRequestTranslation {
  params: AnthropicMessageParams;
  warnings: TranslationWarning[];
}

/**
 * Keys read by this module or by the client (`stream`, `stream_options`). Anything else is
 * unknown to the mapping and dropped with a warning.
 */
const HANDLED_KEYS = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'user',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'n',
  'stream',
  'stream_options',
  'response_format',
  'thinking',
  'reasoning_effort',
]);

/** OpenAI parameters Anthropic's Messages API has no equivalent for. */
const UNSUPPORTED_KEYS = new Set([
  'logprobs',
  'top_logprobs',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'logit_bias',
  'service_tier',
  'store',
  'metadata',
  'modalities',
  'audio',
  'prediction',
  'web_search_options',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);

export function translateChatRequest(body: Record<string, unknown>, options: ChatRequestTranslationOptions): ChatRequestTranslation {
  const warnings: TranslationWarning[] = [];
  refuseMeaningChangingParams(body);

  const { messages, system } = translateMessages(body.messages, warnings);
  const thinking = thinkingConfigOf(body);
  // Thinking counts against `max_tokens`: without one from the client, the budget is added to the
  // default so that the answer keeps its usual room (as LiteLLM does).
  const budget = thinking?.budget_tokens;
  const params: AnthropicMessageParams = {
    model: options.model,
    messages,
    max_tokens: maxTokensOf(body, typeof budget === 'number' ? budget + options.defaultMaxTokens : options.defaultMaxTokens),
  };
  if (system !== undefined) params.system = system;
  if (thinking !== undefined) params.thinking = thinking;

  const temperature = temperatureOf(body.temperature, warnings);
  if (temperature !== undefined) params.temperature = temperature;
  if (body.top_p != null) params.top_p = numberIn(body.top_p, 'top_p', 0, 1);
  // `top_k` is not OpenAI's but Anthropic's own; clients of OpenAI-compatible gateways send it.
  if (body.top_k != null) params.top_k = nonNegativeInteger(body.top_k, 'top_k');

  const stopSequences = stopSequencesOf(body.stop);
  if (stopSequences !== undefined) params.stop_sequences = stopSequences;

  if (body.user != null) {
    if (typeof body.user !== 'string') throw new InvalidRequestError("'user' must be a string.", { param: 'user' });
    params.metadata = { user_id: body.user };
  }

  const tools = toolsOf(body.tools, warnings);
  if (tools !== undefined) params.tools = tools;
  const toolChoice = toolChoiceOf(body.tool_choice, body.parallel_tool_calls, tools !== undefined, warnings);
  if (toolChoice !== undefined) params.tool_choice = toolChoice;
  // After tool_choice: a placeholder tool is not one the client could have chosen.
  if (options.modifyParams === true) applyModifyParams(params, warnings);

  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || isUnset(key, value)) continue;
    const reason = UNSUPPORTED_KEYS.has(key) ? 'is not supported by Anthropic' : 'is not a known chat completions parameter';
    warnings.push({ param: key, message: `'${key}' ${reason} and was dropped.` });
  }
  return { params, warnings };
}

/** Parameters whose absence would change the answer's shape: a 400, not a warning. */
function refuseMeaningChangingParams(body: Record<string, unknown>): void {
  if (body.n != null && body.n !== 1) {
    throw new InvalidRequestError("Anthropic deployments generate one choice per request; 'n' must be 1.", { param: 'n' });
  }
  const format = body.response_format;
  if (format != null) {
    const type = isRecord(format) ? format.type : undefined;
    if (type !== 'text') {
      throw new InvalidRequestError(
        `response_format '${echoValue(type)}' is not supported on Anthropic deployments; only 'text' is.`,
        { param: 'response_format' },
      );
    }
  }
  refuseDeprecatedFunctions(body);
}

function maxTokensOf(body: Record<string, unknown>, fallback: number): number {
  // `max_completion_tokens` supersedes the deprecated `max_tokens` in OpenAI's API.
  const param = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const value = body[param];
  if (value == null) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidRequestError(`'${param}' must be a positive integer.`, { param });
  }
  return value;
}

/** OpenAI accepts 0..2, Anthropic 0..1: values above 1 are clamped, with a warning. */
function temperatureOf(value: unknown, warnings: TranslationWarning[]): number | undefined {
  if (value == null) return undefined;
  const temperature = numberIn(value, 'temperature', 0, 2);
  if (temperature <= 1) return temperature;
  warnings.push({ param: 'temperature', message: `temperature ${temperature} is above Anthropic's maximum of 1 and was clamped to 1.` });
  return 1;
}

function toolsOf(value: unknown, warnings: TranslationWarning[]): AnthropicToolParam[] | undefined {
  if (value == null) return undefined;
  if (!Array.isArray(value)) throw new InvalidRequestError("'tools' must be an array.", { param: 'tools' });
  if (value.length === 0) return undefined;
  return value.map((tool, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw new InvalidRequestError(`${param}: only tools of type 'function' are supported on Anthropic deployments.`, { param });
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || fn.name === '') {
      throw new InvalidRequestError(`${param}.function.name is required.`, { param: `${param}.function.name` });
    }
    if (fn.strict === true) {
      warnings.push({ param: `${param}.function.strict`, message: "Anthropic has no strict schema mode; 'strict' was dropped." });
    }
    const translated: AnthropicToolParam = {
      name: fn.name,
      // Anthropic requires an input schema; OpenAI lets a function take no parameters.
      input_schema: fn.parameters ?? { type: 'object', properties: {} },
    };
    if (typeof fn.description === 'string') translated.description = fn.description;
    return translated;
  });
}

function toolChoiceOf(
  value: unknown,
  parallelToolCalls: unknown,
  hasTools: boolean,
  warnings: TranslationWarning[],
): AnthropicToolChoice | undefined {
  if (!hasTools) {
    if (value != null && value !== 'none' && value !== 'auto') {
      warnings.push({ param: 'tool_choice', message: "'tool_choice' was dropped because the request has no tools." });
    }
    return undefined;
  }
  let choice: AnthropicToolChoice | undefined;
  if (value == null) choice = undefined;
  else if (value === 'auto') choice = { type: 'auto' };
  else if (value === 'required') choice = { type: 'any' };
  // `none` keeps the tool definitions (history may hold tool_use blocks, which need them).
  else if (value === 'none') choice = { type: 'none' };
  else if (isRecord(value) && value.type === 'function' && isRecord(value.function) && typeof value.function.name === 'string') {
    choice = { type: 'tool', name: value.function.name };
  } else {
    throw new InvalidRequestError("'tool_choice' must be 'auto', 'none', 'required' or {type: 'function', function: {name}}.", {
      param: 'tool_choice',
    });
  }
  if (parallelToolCalls === false && choice?.type !== 'none') {
    return { ...(choice ?? { type: 'auto' }), disable_parallel_tool_use: true };
  }
  return choice;
}

function nonNegativeInteger(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidRequestError(`'${param}' must be a non-negative integer.`, { param });
  }
  return value;
}

/** Parameters whose default is 0: sending 0 asks for nothing Anthropic would not do anyway. */
const ZERO_DEFAULT_KEYS = new Set(['presence_penalty', 'frequency_penalty', 'top_logprobs']);

/** Values that mean "not set" in OpenAI's API: no warning when such a parameter is dropped. */
function isUnset(key: string, value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true;
  if (value === 0) return ZERO_DEFAULT_KEYS.has(key);
  return isRecord(value) && Object.keys(value).length === 0;
}
