/**
 * Workers AI's native REST shapes, as far as this folder reads or writes them (lenient: the
 * fields we read are optional). Sources:
 * - the v4 envelope: https://developers.cloudflare.com/api/resources/ai/methods/run/
 *   (`{result, success, errors: [{code, message}], messages}`);
 * - text generation input and output, e.g. https://developers.cloudflare.com/workers-ai/models/llama-3.1-8b-instruct/
 *   (and the model's JSON schema in cloudflare-docs `src/content/workers-ai-models/*.json`);
 * - embeddings, e.g. https://developers.cloudflare.com/workers-ai/models/bge-base-en-v1.5/.
 */

/** Every answer of `api.cloudflare.com/client/v4` but a stream. */
export interface CloudflareEnvelope<Result = unknown> {
  result?: Result | null;
  success?: boolean;
  errors?: CloudflareErrorItem[];
  messages?: unknown[];
}

export interface CloudflareErrorItem {
  code?: number | string;
  message?: string;
}

/** A text part or an image (a `data:` URL only) of a vision model's message content. */
export type WorkersAiContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface WorkersAiMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** A string for every model; parts (text and `data:` images) for vision models only. */
  content: string | WorkersAiContentPart[];
  /** On `tool` messages: the call answered (documented for Mistral and Llama 4 models). */
  tool_call_id?: string;
  /** On `assistant` messages that called tools, in OpenAI's shape (undocumented: passed as LiteLLM passes them). */
  tool_calls?: unknown[];
}

/** OpenAI's function tool, one of the two tool shapes Workers AI documents. */
export interface WorkersAiTool {
  type: 'function';
  function: { name: string; description: string; parameters: Record<string, unknown> };
}

/** Workers AI's "JSON Mode": `json_schema` is the JSON Schema itself, not OpenAI's `{name, schema}` wrapper. */
export type WorkersAiResponseFormat = { type: 'json_object' } | { type: 'json_schema'; json_schema: unknown };

/** The "Messages" input of a text generation model. */
export interface WorkersAiChatInput {
  messages: WorkersAiMessage[];
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  repetition_penalty?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  stream?: boolean;
  tools?: WorkersAiTool[];
  response_format?: WorkersAiResponseFormat;
}

/**
 * A tool call as a model answers it: `{name, arguments}` (arguments an object) for the Llama 3
 * models; newer models may answer OpenAI's `{id, type, function: {name, arguments}}`.
 */
export interface WorkersAiToolCall {
  id?: string;
  name?: string;
  arguments?: unknown;
  function?: { name?: string; arguments?: unknown };
  /** In stream events of models that stream a call in pieces, OpenAI-style. */
  index?: number;
}

export interface WorkersAiUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/** `result` of a text generation call. `response` is an object when JSON Mode answered one. */
export interface WorkersAiChatResult {
  response?: unknown;
  tool_calls?: WorkersAiToolCall[];
  usage?: WorkersAiUsage;
}

/** One `data:` event of a streamed text generation (`data: [DONE]` ends the stream). */
export interface WorkersAiStreamEvent {
  response?: unknown;
  tool_calls?: WorkersAiToolCall[];
  usage?: WorkersAiUsage;
}

/** `result` of an embedding model: `shape` is `[inputs, dimensions]`. */
export interface WorkersAiEmbeddingResult {
  shape?: number[];
  data?: number[][];
  pooling?: string;
  usage?: WorkersAiUsage;
}
