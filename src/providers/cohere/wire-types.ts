/**
 * Cohere's v2 wire objects (https://docs.cohere.com/reference/chat, /reference/chat-stream,
 * /reference/embed, /reference/rerank), as far as Portico reads or writes them, in the snake_case the API speaks
 * (the `cohere-ai` SDK's `serialization/` folder names each field as it goes on the wire).
 * Lenient on input: only the fields we read, everything optional, so a new field or event type
 * upstream does not break parsing.
 */

// ---- Chat requests (what Portico writes) ----

export type CohereTextContent = { type: 'text'; text: string };
export type CohereImageContent = { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } };
/** A reasoning model's thoughts, sent back in its turn (`AssistantMessageV2ContentOneItem.Thinking`). */
export type CohereThinkingContent = { type: 'thinking'; thinking: string };

export interface CohereToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export type CohereChatMessage =
  | { role: 'system'; content: string | CohereTextContent[] }
  | { role: 'user'; content: string | (CohereTextContent | CohereImageContent)[] }
  | { role: 'assistant'; content?: string | (CohereTextContent | CohereThinkingContent)[]; tool_calls?: CohereToolCall[]; tool_plan?: string }
  | { role: 'tool'; tool_call_id: string; content: string | CohereTextContent[] };

export interface CohereTool {
  type: 'function';
  function: { name: string; description?: string; parameters: unknown };
}

/** `{type: "json_object", json_schema?}`; `text` is Cohere's default and is not sent. */
export interface CohereResponseFormat {
  type: 'json_object';
  json_schema?: unknown;
}

/** Reasoning models' thinking (https://docs.cohere.com/docs/reasoning). */
export interface CohereThinking {
  type: 'enabled' | 'disabled';
  token_budget?: number;
}

/** `V2ChatRequest` (`stream` is added by the client). */
export interface CohereChatRequest {
  model: string;
  messages: CohereChatMessage[];
  tools?: CohereTool[];
  strict_tools?: boolean;
  tool_choice?: 'REQUIRED' | 'NONE';
  response_format?: CohereResponseFormat;
  max_tokens?: number;
  stop_sequences?: string[];
  temperature?: number;
  seed?: number;
  frequency_penalty?: number;
  presence_penalty?: number;
  k?: number;
  p?: number;
  thinking?: CohereThinking;
  /** Cohere's own parameters a client may send, passed through as they are. */
  safety_mode?: unknown;
  documents?: unknown;
  citation_options?: unknown;
  priority?: unknown;
  stream?: boolean;
}

// ---- Chat responses (what Portico reads) ----

export interface CohereUsage {
  billed_units?: { input_tokens?: number | null; output_tokens?: number | null } | null;
  tokens?: { input_tokens?: number | null; output_tokens?: number | null } | null;
  cached_tokens?: number | null;
}

export type CohereResponseContent = { type: 'text'; text?: string } | { type: 'thinking'; thinking?: string } | { type: string; [key: string]: unknown };

export interface CohereResponseToolCall {
  id?: string;
  type?: string;
  function?: { name?: string | null; arguments?: string | null } | null;
}

/** `V2ChatResponse`. */
export interface CohereChatResponse {
  id: string;
  finish_reason?: string | null;
  message?: {
    role?: string;
    content?: CohereResponseContent[] | null;
    tool_calls?: CohereResponseToolCall[] | null;
    tool_plan?: string | null;
    citations?: unknown[] | null;
  } | null;
  usage?: CohereUsage | null;
}

/**
 * One event of a streamed chat (`StreamedChatResponseV2`): `message-start`, `content-start`,
 * `content-delta`, `content-end`, `tool-plan-delta`, `tool-call-start`, `tool-call-delta`,
 * `tool-call-end`, `citation-start`, `citation-end`, `message-end`, `debug`; `error` is
 * Portico's name for an error body met in the stream.
 */
export interface CohereStreamEvent {
  type: string;
  id?: string | null;
  index?: number | null;
  delta?: {
    message?: {
      role?: string | null;
      content?: { type?: string | null; text?: string | null; thinking?: string | null } | null;
      tool_plan?: string | null;
      tool_calls?: CohereResponseToolCall | null;
    } | null;
    finish_reason?: string | null;
    usage?: CohereUsage | null;
    error?: string | null;
  } | null;
  /** An error event's text. */
  message?: string | null;
}

// ---- Embeddings ----

/** `V2EmbedRequest`, as Portico writes it. */
export interface CohereEmbedRequest {
  model: string;
  texts: string[];
  input_type: string;
  embedding_types: ['float'];
  output_dimension?: number;
  truncate?: string;
}

/** `EmbedByTypeResponse`, as far as it is read. */
export interface CohereEmbedResponse {
  id?: string;
  embeddings?: { float?: number[][] | null } | null;
  meta?: { billed_units?: { input_tokens?: number | null } | null; tokens?: { input_tokens?: number | null } | null } | null;
}

// ---- Rerank ----

/**
 * `V2RerankRequest`, as Portico writes it: documents are strings only in v2 (no `rank_fields`,
 * `return_documents` or `max_chunks_per_doc`, which v1 took).
 */
export interface CohereRerankRequest {
  model: string;
  query: string;
  documents: string[];
  top_n?: number;
  max_tokens_per_doc?: number;
  priority?: number;
}

/** `V2RerankResponse`, as far as it is read; the rest is passed on as Cohere sent it. */
export interface CohereRerankResponse {
  id?: string | null;
  results: { index: number; relevance_score: number }[];
  meta?: { billed_units?: { search_units?: number | null } | null; [field: string]: unknown } | null;
  [field: string]: unknown;
}
