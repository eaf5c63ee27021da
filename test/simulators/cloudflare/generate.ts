/**
 * The simulated models behind `POST /accounts/{account}/ai/run/{model}`, answering the input and
 * output schemas of Workers AI's model pages (https://developers.cloudflare.com/workers-ai/models/llama-3.1-8b-instruct/,
 * .../bge-base-en-v1.5/). Deterministic, on the shared fake model (`common/fake-model.ts`): the
 * reply echoes the last user text, cut at `max_tokens` (default 256, as documented); `FAIL` /
 * `FAIL:<status>` fail the request; `use tool` with tools calls the first one (`tool_calls:
 * [{name, arguments}]`, arguments an object, `response` null); JSON Mode answers an object
 * built from the schema. Inputs are checked as Workers AI checks them against the model's schema
 * (a string `content` on text-only models; on every tool a description, an object schema, and a
 * type and description on each of its properties).
 */
import { countTokens, embeddingVector, requestedFailureStatus, streamPieces, textOf, toolArguments, truncateToTokens, TOOL_TRIGGER } from '../common/fake-model.ts';
import { sseFrame, type SimReply } from '../common/simulator-server.ts';
import { randomBase62 } from '../common/ids.ts';
import { badInput, cloudflareError, success } from './errors.ts';

type Json = Record<string, unknown>;

/** The documented default of `max_tokens`. */
const DEFAULT_MAX_TOKENS = 256;
/** "Batch of text values to embed ... maxItems 100". */
const MAX_EMBEDDING_TEXTS = 100;

export function isRecord(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export interface GenerateOptions {
  vision: boolean;
  /** Whether the answer carries `usage` (older models' answers have none). */
  reportUsage: boolean;
}

/** A text generation call: JSON, or SSE when `stream` is true. */
export function generate(input: Json, options: GenerateOptions): SimReply {
  const problem = inputProblem(input, options.vision);
  if (problem !== null) return badInput(problem);
  const messages = input.messages as Json[];
  const userText = typeof input.prompt === 'string' ? input.prompt : textOf([...messages].reverse().find((message) => message.role === 'user')?.content);
  const failure = requestedFailureStatus(userText);
  if (failure !== null) return cloudflareError(failure);
  const promptTokens = countTokens(typeof input.prompt === 'string' ? input.prompt : messages.map((message) => textOf(message.content)).join('\n'));
  const tools = Array.isArray(input.tools) ? input.tools : [];
  const format = isRecord(input.response_format) ? input.response_format : undefined;
  const result: Json = {};
  if (tools.length > 0 && TOOL_TRIGGER.test(userText)) {
    const tool = tools[0] as Json;
    const fn = isRecord(tool.function) ? tool.function : tool;
    result.response = null;
    result.tool_calls = [{ name: fn.name, arguments: toolArguments(fn.parameters, userText) }];
  } else if (format?.type === 'json_schema') {
    result.response = toolArguments(format.json_schema, userText);
  } else if (format?.type === 'json_object') {
    result.response = { response: userText };
  } else {
    result.response = truncateToTokens(userText, typeof input.max_tokens === 'number' ? input.max_tokens : DEFAULT_MAX_TOKENS).text;
  }
  const completionTokens = countTokens(typeof result.response === 'string' ? result.response : JSON.stringify(result.response ?? result.tool_calls));
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  if (input.stream === true) return { status: 200, sse: streamFrames(result, options.reportUsage ? usage : undefined) };
  if (options.reportUsage) result.usage = usage;
  return success(result);
}

/** The stream: a piece of text per event (with the `p` padding Cloudflare adds), the calls, usage on the last, then `[DONE]`. */
function streamFrames(result: Json, usage: Json | undefined): string[] {
  const frames: string[] = [];
  if (typeof result.response === 'string') for (const piece of streamPieces(result.response)) frames.push(sseFrame(JSON.stringify({ response: piece, p: randomBase62(8) })));
  if (Array.isArray(result.tool_calls)) frames.push(sseFrame(JSON.stringify({ response: '', tool_calls: result.tool_calls })));
  frames.push(sseFrame(JSON.stringify({ response: '', ...(usage && { usage }) })));
  frames.push(sseFrame('[DONE]'));
  return frames;
}

/** An embedding call: `{text}` -> `{shape, data, pooling}`. */
export function embed(input: Json, dimensions: number): SimReply {
  const texts = typeof input.text === 'string' ? [input.text] : input.text;
  if (!Array.isArray(texts) || !texts.every((text) => typeof text === 'string')) return badInput("Error: oneOf at '/' not met, 0 matches: required properties at '/' are 'text'");
  if (texts.length === 0 || texts.length > MAX_EMBEDDING_TEXTS) return badInput(`Array at '/text' must hold 1 to ${MAX_EMBEDDING_TEXTS} items`);
  if (texts.some((text) => text.length === 0)) return badInput("String at '/text' is shorter than 1 character");
  const failure = requestedFailureStatus(texts[0]);
  if (failure !== null) return cloudflareError(failure);
  return success({ shape: [texts.length, dimensions], data: texts.map((text) => embeddingVector(text, dimensions)), pooling: input.pooling === 'cls' ? 'cls' : 'mean' });
}

/** What Workers AI's schema check would refuse, worded as it words it, or null. */
function inputProblem(input: Json, vision: boolean): string | null {
  if (typeof input.prompt === 'string' && input.messages === undefined) return input.prompt.length === 0 ? "String at '/prompt' is shorter than 1 character" : null;
  if (!Array.isArray(input.messages)) return "Error: oneOf at '/' not met, 0 matches: required properties at '/' are 'prompt'; required properties at '/' are 'messages'";
  for (const [index, message] of input.messages.entries()) {
    if (!isRecord(message) || typeof message.role !== 'string' || message.content === undefined) return `required properties at '/messages/${index}' are 'role,content'`;
    const content = message.content;
    if (typeof content !== 'string' && !(vision && Array.isArray(content))) return `Type mismatch of '/messages/${index}/content', '${Array.isArray(content) ? 'array' : typeof content}' not in 'string'`;
    if (Array.isArray(content)) {
      for (const part of content) {
        if (isRecord(part) && part.type === 'image_url' && !(isRecord(part.image_url) && typeof part.image_url.url === 'string' && part.image_url.url.startsWith('data:'))) return `String at '/messages/${index}/content/image_url/url' does not match pattern '^data:*'`;
      }
    }
  }
  if (input.max_tokens !== undefined && !(Number.isInteger(input.max_tokens) && (input.max_tokens as number) > 0)) return "Type mismatch of '/max_tokens', expected 'integer'";
  for (const [key, min, max] of [['temperature', 0, 5], ['top_p', 0, 2], ['top_k', 1, 50], ['seed', 1, 9_999_999_999], ['repetition_penalty', 0, 2], ['frequency_penalty', -2, 2], ['presence_penalty', -2, 2]] as const) {
    const value = input[key];
    if (value !== undefined && (typeof value !== 'number' || value < min || value > max)) return `Value of '/${key}' must be between ${min} and ${max}`;
  }
  if (input.tools !== undefined) {
    if (!Array.isArray(input.tools)) return "Type mismatch of '/tools', expected 'array'";
    for (const [index, tool] of input.tools.entries()) {
      const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : tool;
      if (!isRecord(fn) || typeof fn.name !== 'string' || typeof fn.description !== 'string' || !isRecord(fn.parameters)) return `required properties at '/tools/${index}' are 'name,description,parameters'`;
      if (typeof fn.parameters.type !== 'string' || !isRecord(fn.parameters.properties)) return `required properties at '/tools/${index}/parameters' are 'type,properties'`;
      for (const [name, property] of Object.entries(fn.parameters.properties)) {
        if (!isRecord(property) || property.type === undefined || typeof property.description !== 'string') return `required properties at '/tools/${index}/parameters/properties/${name}' are 'type,description'`;
      }
    }
  }
  if (input.response_format !== undefined) {
    const type = isRecord(input.response_format) ? input.response_format.type : undefined;
    if (type !== 'json_object' && type !== 'json_schema') return "Value of '/response_format/type' must be one of 'json_object', 'json_schema'";
  }
  return null;
}
