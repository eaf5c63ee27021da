/**
 * OpenAI's chat completions and embeddings as IBM watsonx.ai's text chat and embeddings APIs
 * (https://cloud.ibm.com/apidocs/watsonx-ai#text-chat, #text-embeddings), and back. Pure.
 *
 * watsonx.ai's chat takes OpenAI's messages and tools as they are, names the model `model_id`
 * beside the project or space it runs in, and takes a string `tool_choice` as `tool_choice_option`
 * (LiteLLM's `IBMWatsonXChatConfig` maps them so). Its answers and stream chunks are OpenAI's in
 * shape with `model_id` for `model` and without `object`; its errors are
 * `{"errors": [{"code", "message"}], "status_code"}`.
 */
import { UpstreamError, isRetryableStatus, type OpenAIErrorBody } from '../../spec/errors.ts';
import type { TranslationWarning } from '../../spec/provider.ts';
import { float32Base64 } from '../../spec/embedding-vectors.ts';

type Json = Record<string, unknown>;

function isRecord(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** OpenAI chat parameters watsonx.ai's chat takes under the same name. */
const CHAT_PARAMS = [
  'messages',
  'tools',
  'frequency_penalty',
  'presence_penalty',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'max_tokens',
  'max_completion_tokens',
  'n',
  'response_format',
  'seed',
  'stop',
  'temperature',
  'top_p',
  'reasoning_effort',
  // watsonx.ai's own, passed through when a client sends it.
  'time_limit',
] as const;

/** Fields of a chat request that are the gateway's or the transport's, never a parameter to report as dropped. */
const SILENT = new Set(['model', 'stream', 'stream_options', 'tool_choice', 'user']);

/** The watsonx.ai chat request of an OpenAI one; `context` names the model and its project or space. */
export function chatRequestOf(body: Json, context: Json): { request: Json; warnings: TranslationWarning[] } {
  const request: Json = { ...context };
  for (const name of CHAT_PARAMS) if (body[name] !== undefined && body[name] !== null) request[name] = body[name];
  const choice = body.tool_choice;
  if (typeof choice === 'string') request.tool_choice_option = choice;
  else if (isRecord(choice)) request.tool_choice = choice;
  const warnings: TranslationWarning[] = [];
  for (const name of Object.keys(body)) {
    if (!SILENT.has(name) && !(CHAT_PARAMS as readonly string[]).includes(name)) warnings.push({ param: name, message: `${name} has no watsonx.ai counterpart and was left out` });
  }
  return { request, warnings };
}

function usageOf(usage: unknown): Json | undefined {
  if (!isRecord(usage)) return undefined;
  const prompt = Number(usage.prompt_tokens ?? 0);
  const completion = Number(usage.completion_tokens ?? 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: Number(usage.total_tokens ?? prompt + completion) };
}

/** OpenAI's chat completion of a watsonx.ai chat answer. */
export function chatCompletionOf(answer: Json, model: string): Json {
  const choices = Array.isArray(answer.choices) ? answer.choices : [];
  return {
    id: typeof answer.id === 'string' ? answer.id : `chatcmpl-${Date.now()}`,
    object: 'chat.completion',
    created: typeof answer.created === 'number' ? answer.created : Math.floor(Date.now() / 1000),
    model: typeof answer.model_id === 'string' ? answer.model_id : model,
    choices: choices.map((choice: unknown, index) => {
      const c = isRecord(choice) ? choice : {};
      const message = isRecord(c.message) ? c.message : {};
      return {
        index: typeof c.index === 'number' ? c.index : index,
        message: { role: 'assistant', content: typeof message.content === 'string' ? message.content : null, ...(Array.isArray(message.tool_calls) && { tool_calls: message.tool_calls }), ...(typeof message.refusal === 'string' && { refusal: message.refusal }) },
        logprobs: c.logprobs ?? null,
        finish_reason: typeof c.finish_reason === 'string' ? c.finish_reason : null,
      };
    }),
    usage: usageOf(answer.usage) ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

/** OpenAI's chunk of a watsonx.ai stream chunk (its usage, which the last chunk carries, is sent on its own). */
export function chatChunkOf(chunk: Json, model: string): Json {
  const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
  return {
    id: typeof chunk.id === 'string' ? chunk.id : `chatcmpl-${Date.now()}`,
    object: 'chat.completion.chunk',
    created: typeof chunk.created === 'number' ? chunk.created : Math.floor(Date.now() / 1000),
    model: typeof chunk.model_id === 'string' ? chunk.model_id : model,
    choices: choices.map((choice: unknown, index) => {
      const c = isRecord(choice) ? choice : {};
      return { index: typeof c.index === 'number' ? c.index : index, delta: isRecord(c.delta) ? c.delta : {}, logprobs: c.logprobs ?? null, finish_reason: typeof c.finish_reason === 'string' ? c.finish_reason : null };
    }),
  };
}

/** The usage a watsonx.ai stream chunk carries, as OpenAI's. */
export function chunkUsageOf(chunk: Json): Json | undefined {
  return usageOf(chunk.usage);
}

/** The watsonx.ai embeddings request of an OpenAI one; whether the answer must be base64. */
export function embeddingsRequestOf(body: Json, context: Json): { request: Json; base64: boolean; warnings: TranslationWarning[] } {
  const input = body.input;
  const inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? input : [];
  const warnings: TranslationWarning[] = [];
  if (body.dimensions !== undefined) warnings.push({ param: 'dimensions', message: 'dimensions has no watsonx.ai counterpart and was left out' });
  return { request: { ...context, inputs }, base64: body.encoding_format === 'base64', warnings };
}

/** OpenAI's embedding list of a watsonx.ai embeddings answer. */
export function embeddingListOf(answer: Json, model: string, base64: boolean): Json {
  const results = Array.isArray(answer.results) ? answer.results : [];
  const tokens = Number(answer.input_token_count ?? 0);
  return {
    object: 'list',
    data: results.map((result: unknown, index) => {
      const vector = isRecord(result) && Array.isArray(result.embedding) ? (result.embedding as number[]) : [];
      return { object: 'embedding', index, embedding: base64 ? float32Base64(vector) : vector };
    }),
    model: typeof answer.model_id === 'string' ? answer.model_id : model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  };
}

/** A watsonx.ai error answer (or an error met in a stream: no status, 500) as Portico's error in OpenAI's envelope. */
export function watsonxError(httpStatus: number | undefined, body: unknown, deploymentId: string, retryAfter?: string): UpstreamError {
  const status = httpStatus !== undefined && httpStatus >= 400 ? httpStatus : 500;
  const first = isRecord(body) && Array.isArray(body.errors) && isRecord(body.errors[0]) ? body.errors[0] : undefined;
  const message = typeof first?.message === 'string' ? first.message : `watsonx.ai answered with HTTP ${httpStatus ?? status}.`;
  const code = typeof first?.code === 'string' ? first.code : null;
  const error: OpenAIErrorBody = {
    message,
    type: status === 401 ? 'authentication_error' : status === 403 ? 'permission_error' : status === 404 ? 'invalid_request_error' : status === 429 ? 'rate_limit_error' : status >= 500 ? 'api_error' : 'invalid_request_error',
    param: null,
    code: status === 404 && code === 'model_not_supported' ? 'model_not_found' : code,
  };
  return new UpstreamError(status, error, { deploymentId, isRetryable: isRetryableStatus(status), ...(retryAfter !== undefined && { headers: { 'retry-after': retryAfter } }) });
}
