/**
 * OpenAI `POST /v1/chat/completions` body -> a Workers AI text generation input
 * (`POST .../ai/run/{model}`). Pure: no I/O.
 *
 * The input a text generation model documents (https://developers.cloudflare.com/workers-ai/models/llama-3.1-8b-instruct/):
 * messages, max_tokens, temperature, top_p, top_k, seed, repetition_penalty, frequency_penalty,
 * presence_penalty, stream, tools, and JSON Mode's response_format
 * (https://developers.cloudflare.com/workers-ai/features/json-mode/). Everything else is dropped
 * with a warning; `n` > 1 and log probabilities are refused (400), since dropping them would
 * change the answer's shape.
 *
 * `max_tokens`: when the client sets none, none is sent, as LiteLLM does: the model's default
 * then applies (256 tokens on the Llama models), which may cut long answers short.
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { echoValue } from '../../spec/echo-value.ts';
import { translateMessages } from './chat-request-messages.ts';
import { isRecord } from './json.ts';
import type { WorkersAiChatInput, WorkersAiResponseFormat, WorkersAiTool } from './wire-types.ts';
import { maxTokensOf, numberIn, positiveInteger, refuseDeprecatedFunctions } from '../../spec/chat-params.ts';

export interface ChatRequestTranslation {
  input: WorkersAiChatInput;
  warnings: TranslationWarning[];
}

/** Keys this module reads (or the client: `stream_options`); any other is dropped with a warning. */
const HANDLED_KEYS = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'seed',
  'repetition_penalty',
  'frequency_penalty',
  'presence_penalty',
  'stream',
  'stream_options',
  'tools',
  'tool_choice',
  'response_format',
  'n',
  'logprobs',
  'top_logprobs',
  'functions',
  'function_call',
]);

/** OpenAI parameters with no Workers AI equivalent (the rest of the unknown keys are "not known"). */
const UNSUPPORTED_KEYS = new Set([
  'stop',
  'user',
  'logit_bias',
  'parallel_tool_calls',
  'service_tier',
  'store',
  'metadata',
  'modalities',
  'audio',
  'prediction',
  'reasoning_effort',
  'web_search_options',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);

/** Workers AI's `seed` range (the models' input schema). */
const SEED_MIN = 1;
const SEED_MAX = 9_999_999_999;

export function translateChatRequest(body: Record<string, unknown>, options: { stream: boolean }): ChatRequestTranslation {
  refuseShapeChangingParams(body);
  const warnings: TranslationWarning[] = [];
  const input: WorkersAiChatInput = { messages: translateMessages(body.messages, warnings) };

  const maxTokens = maxTokensOf(body);
  if (maxTokens !== undefined) input.max_tokens = maxTokens;
  if (body.temperature != null) input.temperature = numberIn(body.temperature, 'temperature', 0, 2);
  if (body.top_p != null) input.top_p = numberIn(body.top_p, 'top_p', 0, 1);
  if (body.frequency_penalty != null) input.frequency_penalty = numberIn(body.frequency_penalty, 'frequency_penalty', -2, 2);
  if (body.presence_penalty != null) input.presence_penalty = numberIn(body.presence_penalty, 'presence_penalty', -2, 2);
  // Not OpenAI's, but Workers AI's own: clients of OpenAI-compatible gateways send them (extra_body).
  if (body.top_k != null) input.top_k = positiveInteger(body.top_k, 'top_k');
  if (body.repetition_penalty != null) input.repetition_penalty = numberIn(body.repetition_penalty, 'repetition_penalty', 0, 2);
  const seed = seedOf(body.seed, warnings);
  if (seed !== undefined) input.seed = seed;
  if (options.stream) input.stream = true;

  const tools = toolsOf(body.tools, body.tool_choice, warnings);
  if (tools !== undefined) input.tools = tools;
  const responseFormat = responseFormatOf(body.response_format, options.stream);
  if (responseFormat !== undefined) input.response_format = responseFormat;

  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || isUnset(key, value)) continue;
    const reason = UNSUPPORTED_KEYS.has(key) ? 'is not supported by Cloudflare Workers AI' : 'is not a known chat completions parameter';
    warnings.push({ param: key, message: `'${key}' ${reason} and was dropped.` });
  }
  return { input, warnings };
}

/** Parameters whose loss would change the answer's shape: a 400, not a warning. */
function refuseShapeChangingParams(body: Record<string, unknown>): void {
  if (body.n != null && body.n !== 1) {
    throw new InvalidRequestError("Cloudflare Workers AI generates one choice per request; 'n' must be 1.", { param: 'n' });
  }
  if (body.logprobs === true || (typeof body.top_logprobs === 'number' && body.top_logprobs > 0)) {
    const param = body.logprobs === true ? 'logprobs' : 'top_logprobs';
    throw new InvalidRequestError(`Cloudflare Workers AI does not return log probabilities; '${param}' is not supported.`, { param });
  }
  // Workers AI's own `functions` means something else (embedded function calling: `{name, code}`).
  refuseDeprecatedFunctions(body);
}

/** OpenAI takes any integer; Workers AI 1..9999999999: a seed outside is dropped, with a warning. */
function seedOf(value: unknown, warnings: TranslationWarning[]): number | undefined {
  if (value == null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidRequestError("'seed' must be an integer.", { param: 'seed' });
  if (value >= SEED_MIN && value <= SEED_MAX) return value;
  warnings.push({ param: 'seed', message: `seed ${value} is outside Workers AI's range ${SEED_MIN}..${SEED_MAX} and was dropped.` });
  return undefined;
}

/**
 * OpenAI function tools, in the shape Workers AI documents as one of its two
 * (`{type: "function", function: {name, description, parameters}}`). Its schema requires what
 * OpenAI leaves optional: a description, an object schema with `type` and `properties`, and a
 * `description` on each property. Those missing are filled in empty (the model reads no more or
 * less than it was given). `tool_choice: "none"` sends no tools (no call can come); Workers AI
 * cannot force a call, so `required` or a named function is dropped with a warning.
 */
function toolsOf(value: unknown, toolChoice: unknown, warnings: TranslationWarning[]): WorkersAiTool[] | undefined {
  if (value == null) {
    if (toolChoice != null && toolChoice !== 'none' && toolChoice !== 'auto') {
      warnings.push({ param: 'tool_choice', message: "'tool_choice' was dropped because the request has no tools." });
    }
    return undefined;
  }
  if (!Array.isArray(value)) throw new InvalidRequestError("'tools' must be an array.", { param: 'tools' });
  const tools = value.map((tool, index): WorkersAiTool => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw new InvalidRequestError(`${param}: only tools of type 'function' are supported on Cloudflare Workers AI deployments.`, { param });
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || fn.name === '') throw new InvalidRequestError(`${param}.function.name is required.`, { param: `${param}.function.name` });
    if (fn.parameters != null && !isRecord(fn.parameters)) throw new InvalidRequestError(`${param}.function.parameters must be a JSON Schema object.`, { param: `${param}.function.parameters` });
    if (fn.strict === true) warnings.push({ param: `${param}.function.strict`, message: "Workers AI has no strict schema mode; 'strict' was dropped." });
    return {
      type: 'function',
      function: {
        name: fn.name,
        description: typeof fn.description === 'string' ? fn.description : '',
        parameters: parametersOf(isRecord(fn.parameters) ? fn.parameters : undefined),
      },
    };
  });
  if (toolChoice === 'none') return undefined;
  if (toolChoice != null && toolChoice !== 'auto') {
    if (toolChoice !== 'required' && !(isRecord(toolChoice) && toolChoice.type === 'function')) {
      throw new InvalidRequestError("'tool_choice' must be 'auto', 'none', 'required' or {type: 'function', function: {name}}.", { param: 'tool_choice' });
    }
    warnings.push({ param: 'tool_choice', message: "Workers AI cannot force a tool call; 'tool_choice' was dropped (the model chooses)." });
  }
  return tools.length > 0 ? tools : undefined;
}

/** A function's parameters as Workers AI's tool schema requires them (see `toolsOf`); the client's object is not changed. */
function parametersOf(parameters: Record<string, unknown> | undefined): Record<string, unknown> {
  if (parameters === undefined) return { type: 'object', properties: {} };
  const properties = isRecord(parameters.properties) ? parameters.properties : {};
  const described = Object.fromEntries(
    Object.entries(properties).map(([name, property]) => [name, isRecord(property) && typeof property.description !== 'string' ? { ...property, description: '' } : property]),
  );
  return { ...parameters, type: typeof parameters.type === 'string' ? parameters.type : 'object', properties: described };
}

/**
 * OpenAI's `response_format` -> Workers AI's JSON Mode, whose `json_schema` is the schema itself.
 * JSON Mode "doesn't support streaming" (its documentation): asked in a stream, it is a 400.
 */
function responseFormatOf(value: unknown, stream: boolean): WorkersAiResponseFormat | undefined {
  if (value == null) return undefined;
  const type = isRecord(value) ? value.type : undefined;
  if (type === 'text') return undefined;
  if (type !== 'json_object' && type !== 'json_schema') {
    throw new InvalidRequestError(`response_format ${echoValue(type)} is not supported; use 'text', 'json_object' or 'json_schema'.`, { param: 'response_format' });
  }
  if (stream) {
    throw new InvalidRequestError("Cloudflare Workers AI's JSON Mode does not support streaming; send response_format without stream.", { param: 'response_format' });
  }
  if (type === 'json_object') return { type: 'json_object' };
  const jsonSchema = isRecord(value) ? value.json_schema : undefined;
  if (!isRecord(jsonSchema) || !isRecord(jsonSchema.schema)) {
    throw new InvalidRequestError("response_format.json_schema.schema must be a JSON Schema object.", { param: 'response_format.json_schema.schema' });
  }
  return { type: 'json_schema', json_schema: jsonSchema.schema };
}

/** Values that mean "not set" in OpenAI's API: no warning when such a parameter is dropped. */
function isUnset(key: string, value: unknown): boolean {
  if (value === null || value === undefined) return true;
  // `parallel_tool_calls: false` asks for something; `true` is the default.
  if (value === false) return key !== 'parallel_tool_calls';
  if (value === true) return key === 'parallel_tool_calls';
  return isRecord(value) && Object.keys(value).length === 0;
}
