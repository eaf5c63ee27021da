/**
 * OpenAI's `chat.completion.chunk` server-sent events, as every translated provider writes them
 * (Anthropic, Bedrock's ConverseStream, Gemini, Cohere, Workers AI): a chunk per delta, a chunk
 * with the `finish_reason`, with `stream_options.include_usage` a `usage: null` on every chunk and
 * a last chunk with the totals, then `data: [DONE]`
 * (https://platform.openai.com/docs/api-reference/chat-streaming).
 */

export type OpenAIFinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ChunkChoice {
  index: number;
  delta: Record<string, unknown>;
  logprobs: null;
  finish_reason: OpenAIFinishReason | null;
}

export interface OpenAIChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: unknown;
}

/** What every chunk of one stream repeats (a translator may learn `id` and `model` as it goes). */
export interface ChunkHead {
  id: string;
  /** Unix seconds. */
  created: number;
  model: string;
  /** `stream_options.include_usage`. */
  includeUsage: boolean;
}

export const DONE_FRAME = 'data: [DONE]\n\n';

/** One chunk with one choice's delta (and its finish reason, on the choice's last chunk). */
export function chunkFrame(head: ChunkHead, delta: Record<string, unknown>, finishReason: OpenAIFinishReason | null = null, index = 0): string {
  const chunk: OpenAIChatCompletionChunk = {
    id: head.id,
    object: 'chat.completion.chunk',
    created: head.created,
    model: head.model,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (head.includeUsage) chunk.usage = null;
  return `data: ${JSON.stringify(chunk)}\n\n`;
}

/** The last chunk of a stream with `include_usage`: no choices, the totals. */
export function usageChunkFrame(head: ChunkHead, usage: unknown): string {
  const chunk: OpenAIChatCompletionChunk = { id: head.id, object: 'chat.completion.chunk', created: head.created, model: head.model, choices: [], usage };
  return `data: ${JSON.stringify(chunk)}\n\n`;
}
