/**
 * OpenAI `POST /v1/chat/completions` body -> Gemini `GenerateContentRequest`. Pure: no URL, no
 * auth, no I/O, so that Vertex AI (same body, other URL and auth) reuses it as is.
 * Mapping per https://ai.google.dev/api/generate-content (`docs/specs/gemini-api.md`): a
 * parameter Gemini cannot honour is dropped with a recorded warning, or refused with a 400 when
 * dropping it would change what the client asked for (the deprecated `functions`).
 */
import { InvalidRequestError } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { translateMessages } from './chat-request-contents.ts';
import { translateJsonSchema } from './json-schema.ts';
import { isRecord } from './json.ts';
import { thinkingConfigOf } from './thinking.ts';
import type { GeminiFunctionDeclaration, GeminiGenerateContentRequest, GeminiGenerationConfig } from './wire-types.ts';
import { numberIn, positiveInteger, refuseDeprecatedFunctions, stopSequencesOf } from '../../spec/chat-params.ts';

export interface ChatRequestTranslation {
  request: GeminiGenerateContentRequest;
  warnings: TranslationWarning[];
}

/** Keys read by this module or by the client (`stream`, `stream_options`, `model`). */
const HANDLED_KEYS = new Set([
  'model',
  'messages',
  'max_tokens',
  'max_completion_tokens',
  'temperature',
  'top_p',
  'top_k',
  'stop',
  'n',
  'seed',
  'presence_penalty',
  'frequency_penalty',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'stream',
  'stream_options',
  'safety_settings',
  'reasoning_effort',
  'thinking',
]);

/** OpenAI parameters the Gemini API has no equivalent for. */
const UNSUPPORTED_KEYS = new Set([
  'logprobs',
  'top_logprobs',
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

export function translateChatRequest(body: Record<string, unknown>): ChatRequestTranslation {
  const warnings: TranslationWarning[] = [];
  refuseDeprecatedFunctions(body);
  const { contents, systemInstruction } = translateMessages(body.messages, warnings);
  const request: GeminiGenerateContentRequest = { contents };
  if (systemInstruction !== undefined) request.systemInstruction = systemInstruction;

  const tools = toolsOf(body.tools, warnings);
  if (tools !== undefined) request.tools = [{ functionDeclarations: tools }];
  const toolConfig = toolConfigOf(body.tool_choice, tools !== undefined, warnings);
  if (toolConfig !== undefined) request.toolConfig = toolConfig;
  if (body.parallel_tool_calls === false && tools !== undefined) {
    warnings.push({ param: 'parallel_tool_calls', message: "Gemini cannot be told to call one tool at a time; 'parallel_tool_calls' was dropped." });
  }
  // LiteLLM passes Gemini's own `safety_settings` through; so does Portico.
  if (Array.isArray(body.safety_settings)) request.safetySettings = body.safety_settings as GeminiGenerateContentRequest['safetySettings'];

  const generationConfig = generationConfigOf(body, warnings);
  if (Object.keys(generationConfig).length > 0) request.generationConfig = generationConfig;

  for (const [key, value] of Object.entries(body)) {
    if (HANDLED_KEYS.has(key) || isUnset(value)) continue;
    const reason = UNSUPPORTED_KEYS.has(key) ? 'is not supported by Gemini' : 'is not a known chat completions parameter';
    warnings.push({ param: key, message: `'${key}' ${reason} and was dropped.` });
  }
  return { request, warnings };
}

function generationConfigOf(body: Record<string, unknown>, warnings: TranslationWarning[]): GeminiGenerationConfig {
  const config: GeminiGenerationConfig = {};
  const maxParam = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  if (body[maxParam] != null) config.maxOutputTokens = positiveInteger(body[maxParam], maxParam);
  if (body.temperature != null) config.temperature = numberIn(body.temperature, 'temperature', 0, 2);
  if (body.top_p != null) config.topP = numberIn(body.top_p, 'top_p', 0, 1);
  if (body.top_k != null) config.topK = positiveInteger(body.top_k, 'top_k');
  if (body.n != null) config.candidateCount = positiveInteger(body.n, 'n');
  if (body.seed != null) config.seed = integer(body.seed, 'seed');
  if (body.presence_penalty != null && body.presence_penalty !== 0) config.presencePenalty = numberIn(body.presence_penalty, 'presence_penalty', -2, 2);
  if (body.frequency_penalty != null && body.frequency_penalty !== 0) config.frequencyPenalty = numberIn(body.frequency_penalty, 'frequency_penalty', -2, 2);
  const stop = stopSequencesOf(body.stop);
  if (stop !== undefined) config.stopSequences = stop;
  Object.assign(config, responseFormatOf(body.response_format, warnings));
  const thinking = thinkingConfigOf(body);
  if (thinking !== undefined) config.thinkingConfig = thinking;
  return config;
}

/** `response_format` -> `responseMimeType` / `responseSchema`. */
function responseFormatOf(value: unknown, warnings: TranslationWarning[]): GeminiGenerationConfig {
  if (value == null) return {};
  if (!isRecord(value)) throw new InvalidRequestError("'response_format' must be an object.", { param: 'response_format' });
  switch (value.type) {
    case 'text':
      return {};
    case 'json_object':
      return { responseMimeType: 'application/json' };
    case 'json_schema': {
      const spec = isRecord(value.json_schema) ? value.json_schema : undefined;
      if (spec === undefined) throw new InvalidRequestError("response_format.json_schema is required.", { param: 'response_format.json_schema' });
      if (spec.schema == null) return { responseMimeType: 'application/json' };
      const { schema, dropped } = translateJsonSchema(spec.schema);
      if (dropped.length > 0) {
        warnings.push({ param: 'response_format.json_schema.schema', message: `Gemini's response schema cannot express these and they were dropped: ${dropped.join('; ')}.` });
      }
      if (spec.strict === true) {
        warnings.push({ param: 'response_format.json_schema.strict', message: "Gemini has no strict schema mode; 'strict' was dropped (the schema still constrains the answer)." });
      }
      return { responseMimeType: 'application/json', responseSchema: schema };
    }
    default:
      throw new InvalidRequestError(`response_format type '${String(value.type)}' is not supported; use 'text', 'json_object' or 'json_schema'.`, {
        param: 'response_format.type',
      });
  }
}

function toolsOf(value: unknown, warnings: TranslationWarning[]): GeminiFunctionDeclaration[] | undefined {
  if (value == null) return undefined;
  if (!Array.isArray(value)) throw new InvalidRequestError("'tools' must be an array.", { param: 'tools' });
  if (value.length === 0) return undefined;
  return value.map((tool, index) => {
    const param = `tools[${index}]`;
    if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
      throw new InvalidRequestError(`${param}: only tools of type 'function' are supported on Gemini deployments.`, { param });
    }
    const fn = tool.function;
    if (typeof fn.name !== 'string' || fn.name === '') throw new InvalidRequestError(`${param}.function.name is required.`, { param: `${param}.function.name` });
    const declaration: GeminiFunctionDeclaration = { name: fn.name };
    if (typeof fn.description === 'string') declaration.description = fn.description;
    if (isRecord(fn.parameters) && !isEmptyObjectSchema(fn.parameters)) {
      const { schema, dropped } = translateJsonSchema(fn.parameters);
      if (dropped.length > 0) {
        warnings.push({ param: `${param}.function.parameters`, message: `Gemini's parameter schema cannot express these and they were dropped: ${dropped.join('; ')}.` });
      }
      declaration.parameters = schema;
    }
    if (fn.strict === true) warnings.push({ param: `${param}.function.strict`, message: "Gemini has no strict schema mode; 'strict' was dropped." });
    return declaration;
  });
}

/** `{type: object, properties: {}}`: Gemini refuses an OBJECT without properties. */
function isEmptyObjectSchema(schema: Record<string, unknown>): boolean {
  return schema.type === 'object' && (!isRecord(schema.properties) || Object.keys(schema.properties).length === 0);
}

function toolConfigOf(value: unknown, hasTools: boolean, warnings: TranslationWarning[]): GeminiGenerateContentRequest['toolConfig'] {
  if (value == null) return undefined;
  if (!hasTools) {
    if (value !== 'none' && value !== 'auto') warnings.push({ param: 'tool_choice', message: "'tool_choice' was dropped because the request has no tools." });
    return undefined;
  }
  if (value === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (value === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (value === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (isRecord(value) && value.type === 'function' && isRecord(value.function) && typeof value.function.name === 'string') {
    return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [value.function.name] } };
  }
  throw new InvalidRequestError("'tool_choice' must be 'auto', 'none', 'required' or {type: 'function', function: {name}}.", { param: 'tool_choice' });
}

function integer(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new InvalidRequestError(`'${param}' must be an integer.`, { param });
  return value;
}

/** Values that mean "not set" in OpenAI's API: no warning when such a parameter is dropped. */
function isUnset(value: unknown): boolean {
  if (value === null || value === undefined || value === false) return true;
  return isRecord(value) && Object.keys(value).length === 0;
}
