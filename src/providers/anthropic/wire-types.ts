/**
 * Anthropic's wire objects, as far as Portico reads or writes them. Lenient on input: only the
 * fields we read, everything optional that Anthropic may omit, so a new field or block type
 * upstream does not break parsing. Shapes from `test/fixtures/anthropic/anthropic-hosted_spec.2024-11.json`
 * (`CreateMessageParams`, `Message`, `MessageStreamEvent`, `BetaMessageBatch`, ...).
 */

// ---- Requests (what Portico writes) ----

export type AnthropicImageSource =
  | { type: 'base64'; media_type: string; data: string }
  | { type: 'url'; url: string };

export interface AnthropicCacheControl {
  type: string;
  [key: string]: unknown;
}

export type AnthropicTextBlockParam = { type: 'text'; text: string; cache_control?: AnthropicCacheControl };

export type AnthropicContentBlockParam =
  | AnthropicTextBlockParam
  | { type: 'image'; source: AnthropicImageSource; cache_control?: AnthropicCacheControl }
  | { type: 'document'; source: { type: 'base64'; media_type: string; data: string } | { type: 'url'; url: string }; cache_control?: AnthropicCacheControl }
  | { type: 'tool_use'; id: string; name: string; input: unknown; cache_control?: AnthropicCacheControl }
  | AnthropicThinkingBlock
  | {
      type: 'tool_result';
      tool_use_id: string;
      content?: string | AnthropicContentBlockParam[];
      is_error?: boolean;
      cache_control?: AnthropicCacheControl;
    };

/** A block the model thought in, sent back unchanged in later turns (its signature is checked). */
export type AnthropicThinkingBlock = { type: 'thinking'; thinking: string; signature: string } | { type: 'redacted_thinking'; data: string };

/**
 * Extended thinking: `{type: "enabled", budget_tokens}`, `{type: "disabled"}`, or the newer types
 * (`adaptive`, ...) passed through as the client sent them.
 */
export interface AnthropicThinkingConfig {
  type: string;
  budget_tokens?: number;
  [key: string]: unknown;
}

export interface AnthropicMessageParam {
  role: 'user' | 'assistant';
  content: AnthropicContentBlockParam[];
}

export interface AnthropicToolParam {
  name: string;
  description?: string;
  input_schema: unknown;
  cache_control?: AnthropicCacheControl;
}

export type AnthropicToolChoice =
  | { type: 'auto'; disable_parallel_tool_use?: boolean }
  | { type: 'any'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean }
  | { type: 'none' };

/** `CreateMessageParams` (without `stream`, which the client adds). */
export interface AnthropicMessageParams {
  model: string;
  messages: AnthropicMessageParam[];
  max_tokens: number;
  system?: string | AnthropicTextBlockParam[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  stop_sequences?: string[];
  tools?: AnthropicToolParam[];
  tool_choice?: AnthropicToolChoice;
  metadata?: { user_id: string };
  thinking?: AnthropicThinkingConfig;
  stream?: boolean;
}

// ---- Responses (what Portico reads) ----

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}

export type AnthropicContentBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown }
  | { type: string; [key: string]: unknown };

export interface AnthropicMessage {
  id: string;
  type?: string;
  role?: string;
  model?: string;
  content?: AnthropicContentBlock[] | null;
  stop_reason?: string | null;
  stop_sequence?: string | null;
  usage?: AnthropicUsage | null;
}

export interface AnthropicErrorDetail {
  type?: string;
  message?: string;
}

/** `ErrorResponse`: the body of every Anthropic error, and of the `error` stream event. */
export interface AnthropicErrorResponse {
  type?: 'error' | string;
  error?: AnthropicErrorDetail;
  request_id?: string | null;
}

export type AnthropicStreamEvent =
  | { type: 'message_start'; message: AnthropicMessage }
  | { type: 'content_block_start'; index: number; content_block: AnthropicContentBlock }
  | {
      type: 'content_block_delta';
      index: number;
      delta: { type: 'text_delta'; text: string } | { type: 'input_json_delta'; partial_json: string } | { type: string; [key: string]: unknown };
    }
  | { type: 'content_block_stop'; index: number }
  | { type: 'message_delta'; delta: { stop_reason?: string | null; stop_sequence?: string | null }; usage?: AnthropicUsage | null }
  | { type: 'message_stop' }
  | { type: 'ping' }
  | { type: 'error'; error: AnthropicErrorDetail };

// ---- Message Batches ----

export interface AnthropicBatchRequestCounts {
  processing?: number;
  succeeded?: number;
  errored?: number;
  canceled?: number;
  expired?: number;
}

/** `MessageBatch`: timestamps are RFC 3339 strings. */
export interface AnthropicMessageBatch {
  id: string;
  type?: string;
  processing_status: 'in_progress' | 'canceling' | 'ended' | string;
  request_counts?: AnthropicBatchRequestCounts | null;
  ended_at?: string | null;
  created_at?: string | null;
  expires_at?: string | null;
  archived_at?: string | null;
  cancel_initiated_at?: string | null;
  results_url?: string | null;
}

/** One line of the results JSONL (`MessageBatchIndividualResponse`). */
export interface AnthropicBatchResultLine {
  custom_id: string;
  result:
    | { type: 'succeeded'; message: AnthropicMessage }
    | { type: 'errored'; error: AnthropicErrorResponse | AnthropicErrorDetail }
    | { type: 'canceled' }
    | { type: 'expired' }
    | { type: string; [key: string]: unknown };
}
