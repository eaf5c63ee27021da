/**
 * What Cohere's `/v2/chat`, `/v2/embed` and `/v2/rerank` refuse before generating
 * (https://docs.cohere.com/reference/chat, /reference/embed, /reference/rerank, /reference/errors),
 * as the simulator checks it: required fields, unknown fields (Cohere names them: "unknown field:
 * parameter 'strict' is not a valid field"), the ranges the API reference gives, the roles and
 * content parts of messages, tool results that answer a call, `input_type` for embed v3+ models,
 * and rerank's documents (strings only in v2, not empty). Answers `null` or the status and message
 * to refuse with.
 */
import { unknownField } from './errors.ts';

type Json = Record<string, unknown>;
export interface Refusal {
  status: number;
  message: string;
}

const CHAT_FIELDS = new Set([
  'model', 'messages', 'tools', 'strict_tools', 'documents', 'citation_options', 'response_format', 'safety_mode', 'max_tokens',
  'stop_sequences', 'temperature', 'seed', 'frequency_penalty', 'presence_penalty', 'k', 'p', 'logprobs', 'tool_choice', 'thinking',
  'priority', 'stream',
]);
const MESSAGE_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  system: new Set(['role', 'content']),
  user: new Set(['role', 'content']),
  assistant: new Set(['role', 'content', 'tool_calls', 'tool_plan', 'citations']),
  tool: new Set(['role', 'content', 'tool_call_id']),
};
const FUNCTION_FIELDS = new Set(['name', 'description', 'parameters']);
const EMBED_FIELDS = new Set(['model', 'texts', 'images', 'inputs', 'input_type', 'embedding_types', 'output_dimension', 'max_tokens', 'truncate', 'priority']);
/**
 * V2RerankRequest's fields, and `return_documents` and `rank_fields`, which v2 no longer documents
 * but still takes and ignores (LiteLLM sends `return_documents: true` to `/v2/rerank` by default;
 * v2 answers no documents: https://github.com/cohere-ai/notebooks/issues/202). v1's
 * `max_chunks_per_doc` is unknown here.
 */
const RERANK_FIELDS = new Set(['model', 'query', 'documents', 'top_n', 'max_tokens_per_doc', 'priority', 'return_documents', 'rank_fields']);
const INPUT_TYPES = new Set(['search_document', 'search_query', 'classification', 'clustering', 'image']);
const EMBEDDING_TYPES = new Set(['float', 'int8', 'uint8', 'binary', 'ubinary', 'base64']);
/** "A list of up to 5 strings" (V2ChatRequest.stop_sequences); "Maximum number of texts per call is 96". */
const MAX_STOP_SEQUENCES = 5;
export const MAX_EMBED_TEXTS = 96;

const invalid = (message: string): Refusal => ({ status: 400, message: `invalid request: ${message}` });
const isRecord = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

function unknownKey(object: Json, known: ReadonlySet<string>, endpoint: 'chat' | 'embed'): Refusal | null {
  const key = Object.keys(object).find((name) => !known.has(name));
  return key === undefined ? null : { status: 400, message: unknownField(key, endpoint) };
}

function inRange(body: Json, key: string, min: number, max: number): Refusal | null {
  const value = body[key];
  if (value === undefined || value === null) return null;
  return isNumber(value) && value >= min && value <= max ? null : invalid(`${key} must be between ${min} and ${max}, inclusive`);
}

export function validateChatRequest(body: Json): Refusal | null {
  const unknown = unknownKey(body, CHAT_FIELDS, 'chat');
  if (unknown) return unknown;
  if (typeof body.model !== 'string' || body.model === '') return invalid('model must be specified');
  if (!Array.isArray(body.messages) || body.messages.length === 0) return invalid('messages must not be empty');
  const callIds = new Set<string>();
  for (const [index, message] of (body.messages as unknown[]).entries()) {
    const refusal = validateMessage(message, index, callIds);
    if (refusal) return refusal;
  }
  const tools = body.tools;
  if (tools !== undefined && tools !== null) {
    if (!Array.isArray(tools)) return invalid('tools must be a list');
    for (const tool of tools as unknown[]) {
      if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) return invalid("tools must be of type 'function'");
      const fnUnknown = unknownKey(tool.function, FUNCTION_FIELDS, 'chat');
      if (fnUnknown) return fnUnknown;
      if (typeof tool.function.name !== 'string' || tool.function.name === '') return invalid('tool name must be specified');
      if (!isRecord(tool.function.parameters)) return invalid(`tool '${tool.function.name}' must have parameters`);
    }
  }
  const hasTools = Array.isArray(tools) && tools.length > 0;
  if (body.tool_choice !== undefined && body.tool_choice !== null) {
    if (body.tool_choice !== 'REQUIRED' && body.tool_choice !== 'NONE') return invalid("tool_choice must be one of 'REQUIRED', 'NONE'");
    if (!hasTools) return invalid('tool_choice requires tools to be specified');
  }
  const format = body.response_format;
  if (format !== undefined && format !== null) {
    if (!isRecord(format) || (format.type !== 'text' && format.type !== 'json_object')) return invalid("response_format type must be one of 'text', 'json_object'");
    if (format.type === 'text' && format.json_schema !== undefined) return invalid("json_schema must not be specified when the response_format type is 'text'");
    if (hasTools) return invalid('response_format is not supported with tools.');
  }
  if (body.temperature !== undefined && body.temperature !== null && !(isNumber(body.temperature) && body.temperature >= 0)) return invalid('temperature must be a non-negative number');
  const range = inRange(body, 'p', 0.01, 0.99) ?? inRange(body, 'k', 0, 500) ?? inRange(body, 'frequency_penalty', 0, 1) ?? inRange(body, 'presence_penalty', 0, 1);
  if (range) return range;
  if (body.max_tokens !== undefined && body.max_tokens !== null && !(Number.isInteger(body.max_tokens) && (body.max_tokens as number) >= 1)) return invalid('max_tokens must be a positive integer');
  if (body.seed !== undefined && body.seed !== null && !Number.isInteger(body.seed)) return invalid('seed must be an integer');
  const stops = body.stop_sequences;
  if (stops !== undefined && stops !== null) {
    if (!Array.isArray(stops) || !stops.every((stop) => typeof stop === 'string')) return invalid('stop_sequences must be a list of strings');
    if (stops.length > MAX_STOP_SEQUENCES) return invalid(`stop_sequences can have at most ${MAX_STOP_SEQUENCES} elements - received ${stops.length}`);
  }
  const thinking = body.thinking;
  if (thinking !== undefined && thinking !== null && !(isRecord(thinking) && (thinking.type === 'enabled' || thinking.type === 'disabled'))) {
    return invalid("thinking type must be one of 'enabled', 'disabled'");
  }
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return invalid('stream must be a boolean');
  return null;
}

function validateMessage(message: unknown, index: number, callIds: Set<string>): Refusal | null {
  if (!isRecord(message)) return invalid(`message at index ${index} must be an object`);
  const fields = typeof message.role === 'string' ? MESSAGE_FIELDS[message.role] : undefined;
  if (fields === undefined) return invalid(`invalid role in messages at index ${index}. Role must be one of the following: user, assistant, system, tool`);
  const unknown = unknownKey(message, fields, 'chat');
  if (unknown) return unknown;
  const content = message.content;
  if (message.role === 'assistant') {
    const calls = message.tool_calls;
    if ((content === undefined || content === null || content === '') && !(Array.isArray(calls) && calls.length > 0)) {
      return invalid(`assistant message at index ${index} must have content or tool_calls`);
    }
    for (const call of Array.isArray(calls) ? calls : []) {
      if (!isRecord(call) || typeof call.id !== 'string' || !isRecord(call.function) || typeof call.function.name !== 'string') return invalid(`tool call in message at index ${index} is malformed`);
      if (typeof call.function.arguments !== 'string') return invalid(`tool call arguments in message at index ${index} must be a string`);
      callIds.add(call.id);
    }
    return contentRefusal(content, index, ['text', 'thinking'], true);
  }
  if (message.role === 'tool') {
    if (typeof message.tool_call_id !== 'string' || message.tool_call_id === '') return invalid(`tool message at index ${index} must have a tool_call_id`);
    if (!callIds.has(message.tool_call_id)) return invalid(`tool_call_id '${message.tool_call_id}' in message at index ${index} does not match any previous tool call`);
    return contentRefusal(content, index, ['text', 'document'], false);
  }
  return contentRefusal(content, index, message.role === 'user' ? ['text', 'image_url'] : ['text'], false);
}

function contentRefusal(content: unknown, index: number, partTypes: string[], optional: boolean): Refusal | null {
  if (content === undefined || content === null) return optional ? null : invalid(`message at index ${index} must have content`);
  if (typeof content === 'string') return null;
  if (!Array.isArray(content)) return invalid(`content of message at index ${index} must be a string or a list of content blocks`);
  for (const part of content as unknown[]) {
    if (!isRecord(part) || typeof part.type !== 'string' || !partTypes.includes(part.type)) {
      return invalid(`content block type in message at index ${index} must be one of ${partTypes.map((type) => `'${type}'`).join(', ')}`);
    }
    if (part.type === 'text' && typeof part.text !== 'string') return invalid(`text content in message at index ${index} must have text`);
    if (part.type === 'image_url' && !(isRecord(part.image_url) && typeof part.image_url.url === 'string')) return invalid(`image_url content in message at index ${index} must have a url`);
  }
  return null;
}

/** Embed models v3 and newer need an input_type (docs: "valid input_type must be provided with the provided model"). */
function needsInputType(model: string): boolean {
  return /^embed-(v[3-9]|[a-z-]*v[3-9])/.test(model);
}

export function validateEmbedRequest(body: Json): Refusal | null {
  const unknown = unknownKey(body, EMBED_FIELDS, 'embed');
  if (unknown) return unknown;
  if (typeof body.model !== 'string' || body.model === '') return invalid('model must be specified');
  const texts = body.texts;
  if (!Array.isArray(texts) || texts.length === 0 || !texts.every((text) => typeof text === 'string')) return invalid('texts must be a non-empty list of strings');
  if (texts.length > MAX_EMBED_TEXTS) return invalid(`total number of texts must be at most ${MAX_EMBED_TEXTS} - received ${texts.length}`);
  if (body.input_type === undefined || body.input_type === null) {
    if (needsInputType(body.model)) return invalid('valid input_type must be provided with the provided model');
  } else if (typeof body.input_type !== 'string' || !INPUT_TYPES.has(body.input_type)) {
    return invalid(`input_type must be one of ${[...INPUT_TYPES].map((type) => `'${type}'`).join(', ')}`);
  }
  const types = body.embedding_types;
  if (types !== undefined && types !== null && !(Array.isArray(types) && types.every((type) => typeof type === 'string' && EMBEDDING_TYPES.has(type)))) {
    return invalid(`embedding_types must be a list of ${[...EMBEDDING_TYPES].map((type) => `'${type}'`).join(', ')}`);
  }
  return null;
}

/**
 * Rerank's refusals. An unknown field is a 422 on this endpoint (as Cohere answered `top_k`:
 * https://github.com/HKUDS/LightRAG/issues/1813); "list of documents must not be empty" is
 * Cohere's own wording (https://github.com/langchain4j/langchain4j/issues/770); the other
 * messages are the simulator's, in Cohere's `invalid request: ...` form.
 */
export function validateRerankRequest(body: Json): Refusal | null {
  const key = Object.keys(body).find((name) => !RERANK_FIELDS.has(name));
  if (key !== undefined) return { status: 422, message: unknownField(key, 'rerank') };
  if (typeof body.model !== 'string' || body.model === '') return invalid('model must be specified');
  if (typeof body.query !== 'string' || body.query === '') return invalid('query must not be empty');
  const documents = body.documents;
  if (!Array.isArray(documents)) return invalid('documents must be a list of strings');
  if (documents.length === 0) return invalid('list of documents must not be empty');
  if (!documents.every((document) => typeof document === 'string')) return invalid('documents must be a list of strings');
  for (const name of ['top_n', 'max_tokens_per_doc']) {
    const value = body[name];
    if (value !== undefined && value !== null && !(Number.isInteger(value) && (value as number) >= 1)) return invalid(`${name} must be a positive integer`);
  }
  return null;
}
