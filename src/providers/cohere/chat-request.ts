/**
 * OpenAI `POST /v1/chat/completions` body -> Cohere `POST /v2/chat` body. Pure: no I/O.
 * Shapes per https://docs.cohere.com/reference/chat (`V2ChatRequest` in the `cohere-ai` SDK).
 *
 * Renamed: `max_completion_tokens` / `max_tokens` -> `max_tokens`, `top_p` -> `p`, `top_k` -> `k`,
 * `stop` -> `stop_sequences`; `response_format` json_object / json_schema -> Cohere's
 * `{type: "json_object", json_schema?}`; `tool_choice` `required` -> `REQUIRED`, `none` -> `NONE`,
 * `auto` -> left out (Cohere's default). Cohere has no named tool choice: a choice of one function
 * sends that function alone with `REQUIRED`, which forces exactly that call.
 *
 * Clamped to Cohere's ranges, each with a warning: `top_p` to 0.01..0.99, `top_k` to 500,
 * `frequency_penalty` / `presence_penalty` to 0..1. Dropped with a warning: what Cohere has no
 * equivalent for (`user`, `logit_bias`, `parallel_tool_calls: false`, `reasoning_effort`, ...).
 * Refused with a 400: what would change the answer's shape (`n` > 1, `logprobs`,
 * `top_logprobs`, the deprecated `functions`).
 *
 * `reasoning_effort` is dropped, not mapped: Cohere documents no effort levels, only
 * `thinking: {type, token_budget}`, which a client may send itself (Anthropic's `budget_tokens`
 * is read as `token_budget`). Cohere's own `safety_mode`, `documents`, `citation_options`,
 * `priority` and `strict_tools` pass through as sent.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import { echoValue } from '../../spec/echo-value.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { translateMessages } from './chat-request-messages.ts';
import { isRecord } from './json.ts';
import type { CohereChatRequest, CohereResponseFormat, CohereThinking, CohereTool } from './wire-types.ts';
import { maxTokensOf, numberIn, refuseDeprecatedFunctions, stopSequencesOf } from '../../spec/chat-params.ts';

export interface ChatRequestTranslation {
  request: CohereChatRequest;
  warnings: TranslationWarning[];
}

/** Cohere's own parameters, passed through as the client sent them. */
const COHERE_PARAMS = ['safety_mode', 'documents', 'citation_options', 'priority', 'strict_tools'] as const;

/** Keys read by this module or by the client (`stream`, `stream_options`); anything else is dropped with a warning. */
const HANDLED_KEYS = new Set<string>([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'n',
  'logprobs',
  'top_logprobs',
  'stream',
  'stream_options',
  'response_format',
  'thinking',
  'reasoning_effort',
  ...COHERE_PARAMS,
]);

/** OpenAI parameters Cohere's chat API has no equivalent for. */
const UNSUPPORTED_KEYS = new Set([
  'logit_bias',
  'user',
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

export function translateChatRequest(body: Record<string, unknown>, options: { model: string }): ChatRequestTranslation {
  refuseShapeChangingParams(body);
  const warnings: TranslationWarning[] = [];
  const request: CohereChatRequest = { model: options.model, messages: translateMessages(body.messages, warnings) };

  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined) request.max_tokens = maxTokens;
  if (body.temperature != null) request.temperature = numberIn(body.temperature, 'temperature', 0, 2);
  if (body.top_p != null) request.p = clamped(numberIn(body.top_p, 'top_p', 0, 1), 'top_p', 0.01, 0.99, warnings);
  // `top_k` is not OpenAI's; clients of OpenAI-compatible gateways send it (Cohere's `k`, 0..500).
  if (body.top_k != null) request.k = clamped(nonNegativeInteger(body.top_k, 'top_k'), 'top_k', 0, 500, warnings);
  for (const param of ['frequency_penalty', 'presence_penalty'] as const) {
    if (body[param] != null) request[param] = clamped(numberIn(body[param], param, -2, 2), param, 0, 1, warnings);
  }
  if (body.seed != null) request.seed = integer(body.seed, 'seed');
  const stopSequences = stopSequencesOf(body.stop);
  if (stopSequences !== undefined) request.stop_sequences = stopSequences;

  const tools = toolsOf(body.tools, warnings);
  const choice = toolChoiceOf(body.tool_choice, tools, warnings);
  if (choice.tools !== undefined) request.tools = choice.tools;
  if (choice.toolChoice !== undefined) request.tool_choice = choice.toolChoice;
  if (tools?.strict === true) request.strict_tools = true;
  if (body.parallel_tool_calls === false && tools !== undefined) {
    warnings.push({ param: 'parallel_tool_calls', message: "Cohere has no switch for parallel tool calls; 'parallel_tool_calls: false' was dropped." });
  }

  const format = responseFormatOf(body.response_format);
  if (format !== undefined) request.response_format = format;
  const thinking = thinkingOf(body.thinking);
  if (thinking !== undefined) request.thinking = thinking;
  if (body.reasoning_effort != null) {
    warnings.push({
      param: 'reasoning_effort',
      message: "Cohere documents no reasoning effort levels; 'reasoning_effort' was dropped (send Cohere's `thinking: {type, token_budget}` instead).",
    });
  }
  passCohereParams(body, request);

  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || isUnset(key, value)) continue;
    const reason = UNSUPPORTED_KEYS.has(key) ? 'is not supported by Cohere' : 'is not a known chat completions parameter';
    warnings.push({ param: key, message: `'${key}' ${reason} and was dropped.` });
  }
  return { request, warnings };
}

/** Cohere's own parameters, as the client sent them (Cohere checks their values); `strict_tools` wins over the tools' `strict`. */
function passCohereParams(body: Record<string, unknown>, request: CohereChatRequest): void {
  if (body.safety_mode != null) request.safety_mode = body.safety_mode;
  if (body.documents != null) request.documents = body.documents;
  if (body.citation_options != null) request.citation_options = body.citation_options;
  if (body.priority != null) request.priority = body.priority;
  if (body.strict_tools != null) {
    if (typeof body.strict_tools !== 'boolean') throw new InvalidRequestError("'strict_tools' must be a boolean.", { param: 'strict_tools' });
    request.strict_tools = body.strict_tools;
  }
}

/** Parameters whose loss would change the answer's shape: a 400, not a warning. */
function refuseShapeChangingParams(body: Record<string, unknown>): void {
  if (body.n != null && body.n !== 1) {
    throw new InvalidRequestError("Cohere deployments generate one choice per request; 'n' must be 1.", { param: 'n' });
  }
  if (body.logprobs != null && body.logprobs !== false) {
    throw new InvalidRequestError("'logprobs' is not supported on Cohere deployments.", { param: 'logprobs' });
  }
  if (body.top_logprobs != null && body.top_logprobs !== 0) {
    throw new InvalidRequestError("'top_logprobs' is not supported on Cohere deployments.", { param: 'top_logprobs' });
  }
  refuseDeprecatedFunctions(body);
}

/** A value outside Cohere's range is clamped into it, with a warning naming both. */
function clamped(value: number, param: string, min: number, max: number, warnings: TranslationWarning[]): number {
  const inRange = Math.min(max, Math.max(min, value));
  if (inRange !== value) warnings.push({ param, message: `${param} ${value} is outside Cohere's range ${min}..${max} and was clamped to ${inRange}.` });
  return inRange;
}

interface TranslatedTools {
  list: CohereTool[];
  /** Every tool asked for a strict schema: Cohere's `strict_tools`, which holds for all tools or none. */
  strict: boolean;
}

function toolsOf(value: unknown, warnings: TranslationWarning[]): TranslatedTools | undefined {
  if (value == null) return undefined;
  if (!Array.isArray(value)) throw new InvalidRequestError("'tools' must be an array.", { param: 'tools' });
  if (value.length === 0) return undefined;
  let strictCount = 0;
  const list = value.map((tool, index): CohereTool => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw new InvalidRequestError(`${param}: only tools of type 'function' are supported on Cohere deployments.`, { param });
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || fn.name === '') throw new InvalidRequestError(`${param}.function.name is required.`, { param: `${param}.function.name` });
    if (fn.strict === true) strictCount += 1;
    // Cohere requires a parameters schema; OpenAI lets a function take none.
    const translated: CohereTool = { type: 'function', function: { name: fn.name, parameters: fn.parameters ?? { type: 'object', properties: {} } } };
    if (typeof fn.description === 'string') translated.function.description = fn.description;
    return translated;
  });
  const strict = strictCount === list.length;
  if (strictCount > 0 && !strict) {
    warnings.push({ param: 'tools', message: "Cohere's strict tool mode holds for every tool or none; 'strict' on some tools only was dropped." });
  }
  return { list, strict };
}

function toolChoiceOf(
  value: unknown,
  tools: TranslatedTools | undefined,
  warnings: TranslationWarning[],
): { tools?: CohereTool[]; toolChoice?: 'REQUIRED' | 'NONE' } {
  if (tools === undefined) {
    if (value != null && value !== 'none' && value !== 'auto') {
      warnings.push({ param: 'tool_choice', message: "'tool_choice' was dropped because the request has no tools." });
    }
    return {};
  }
  if (value == null || value === 'auto') return { tools: tools.list };
  if (value === 'required') return { tools: tools.list, toolChoice: 'REQUIRED' };
  // `none` keeps the tool definitions: the history may hold calls to them.
  if (value === 'none') return { tools: tools.list, toolChoice: 'NONE' };
  if (isRecord(value) && value.type === 'function' && isRecord(value.function) && typeof value.function.name === 'string') {
    const name = value.function.name;
    const chosen = tools.list.filter((tool) => tool.function.name === name);
    if (chosen.length === 0) {
      throw new InvalidRequestError(`tool_choice names the function '${echoValue(name)}', which is not in 'tools'.`, { param: 'tool_choice' });
    }
    return { tools: chosen, toolChoice: 'REQUIRED' };
  }
  throw new InvalidRequestError("'tool_choice' must be 'auto', 'none', 'required' or {type: 'function', function: {name}}.", { param: 'tool_choice' });
}

function responseFormatOf(value: unknown): CohereResponseFormat | undefined {
  if (value == null) return undefined;
  const type = isRecord(value) ? value.type : undefined;
  if (type === 'text') return undefined;
  if (type === 'json_object') return { type: 'json_object' };
  if (type === 'json_schema' && isRecord(value)) {
    const schema = isRecord(value.json_schema) ? value.json_schema.schema : undefined;
    if (!isRecord(schema)) {
      throw new InvalidRequestError("response_format.json_schema.schema must be a JSON schema object.", { param: 'response_format.json_schema.schema' });
    }
    return { type: 'json_object', json_schema: schema };
  }
  throw new InvalidRequestError(`response_format '${echoValue(type)}' is not supported; use 'text', 'json_object' or 'json_schema'.`, { param: 'response_format' });
}

/** Cohere's own `thinking` (https://docs.cohere.com/docs/reasoning); Anthropic's `budget_tokens` is read as `token_budget`. */
function thinkingOf(value: unknown): CohereThinking | undefined {
  if (value == null) return undefined;
  if (!isRecord(value) || (value.type !== 'enabled' && value.type !== 'disabled')) {
    throw new InvalidRequestError("'thinking' must be {type: 'enabled' | 'disabled', token_budget?}.", { param: 'thinking' });
  }
  const budget = value.token_budget ?? value.budget_tokens;
  if (budget == null) return { type: value.type };
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1) {
    throw new InvalidRequestError("'thinking.token_budget' must be a positive integer.", { param: 'thinking.token_budget' });
  }
  return { type: value.type, token_budget: budget };
}

function integer(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidRequestError(`'${param}' must be an integer.`, { param });
  return value;
}

function nonNegativeInteger(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidRequestError(`'${param}' must be a non-negative integer.`, { param });
  }
  return value;
}

/** Values that mean "not set" in OpenAI's API: no warning when such a parameter is dropped. */
function isUnset(key: string, value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true;
  if (value === 0) return key === 'top_logprobs';
  return isRecord(value) && Object.keys(value).length === 0;
}
