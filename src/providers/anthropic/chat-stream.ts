/**
 * Anthropic's streamed Message (https://docs.anthropic.com/en/api/messages-streaming) ->
 * OpenAI `chat.completion.chunk` server-sent events, event by event.
 *
 * Anthropic: message_start, then per content block content_block_start / _delta* / _stop,
 * then message_delta (stop_reason, output usage), message_stop; `ping` anywhere; an `error`
 * event may replace the rest. OpenAI: a first chunk with the role, content and tool-call
 * deltas, a chunk with `finish_reason`, optionally a usage chunk (`stream_options.include_usage`),
 * then `data: [DONE]`.
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';
import { sseEvents } from '../http/sse.ts';
import { finishReasonOf, usageOf, type OpenAIFinishReason } from './chat-response.ts';
import { anthropicErrorToUpstreamError } from './errors.ts';
import { isRecord } from './json.ts';
import type { AnthropicStreamEvent, AnthropicUsage } from './wire-types.ts';
import { chunkFrame, DONE_FRAME, usageChunkFrame, type ChunkHead } from '../../spec/chat-chunks.ts';

export interface ChatStreamTranslationOptions {
  /** Unix seconds stamped on every chunk. */
  created: number;
  /** Used until (or unless) `message_start` names the model. */
  fallbackModel: string;
  /** `stream_options.include_usage`: every chunk carries `usage: null`, and a last chunk the totals. */
  includeUsage: boolean;
  deploymentId?: string;
}

/**
 * The state of one translated stream. Pure: feed it events, it answers the SSE frames to send.
 * An `error` event is thrown as an `UpstreamError`. `done` turns true after `message_stop` or an
 * `error` event; later events are ignored.
 */
export class ChatStreamTranslator {
  done = false;
  private readonly options: ChatStreamTranslationOptions;
  private id = '';
  private model: string;
  private usage: AnthropicUsage = {};
  private finishSent = false;
  private stopReason: string | null = null;
  /** Anthropic content block index -> OpenAI tool call index (tool calls are numbered from 0). */
  private readonly toolCallIndexes = new Map<number, number>();

  constructor(options: ChatStreamTranslationOptions) {
    this.options = options;
    this.model = options.fallbackModel;
  }

  onEvent(event: AnthropicStreamEvent): string[] {
    if (this.done) return [];
    switch (event.type) {
      case 'message_start': {
        this.id = event.message.id ?? this.id;
        this.model = event.message.model ?? this.model;
        this.usage = { ...event.message.usage };
        return [this.frame({ role: 'assistant', content: '' })];
      }
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'tool_use' && typeof block.id === 'string' && typeof block.name === 'string') {
          const toolIndex = this.toolCallIndexes.size;
          this.toolCallIndexes.set(event.index, toolIndex);
          return [this.frame({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })];
        }
        if (block.type === 'text' && typeof block.text === 'string' && block.text !== '') return [this.frame({ content: block.text })];
        // Redacted thinking arrives whole; a thinking block's text and signature come as deltas.
        if (block.type === 'redacted_thinking' && typeof block.data === 'string') return [this.frame({ thinking_blocks: [{ type: 'redacted_thinking', data: block.data }] })];
        return [];
      }
      case 'content_block_delta': {
        const delta = event.delta;
        if (delta.type === 'text_delta' && typeof delta.text === 'string' && delta.text !== '') {
          return [this.frame({ content: delta.text })];
        }
        const toolIndex = this.toolCallIndexes.get(event.index);
        if (delta.type === 'input_json_delta' && toolIndex !== undefined && typeof delta.partial_json === 'string' && delta.partial_json !== '') {
          return [this.frame({ tool_calls: [{ index: toolIndex, function: { arguments: delta.partial_json } }] })];
        }
        // Extended thinking as LiteLLM streams it: the text in `reasoning_content` and in a
        // `thinking_blocks` piece, the block's signature in a last piece of its own.
        if (delta.type === 'thinking_delta' && typeof delta.thinking === 'string' && delta.thinking !== '') {
          return [this.frame({ reasoning_content: delta.thinking, thinking_blocks: [{ type: 'thinking', thinking: delta.thinking }] })];
        }
        if (delta.type === 'signature_delta' && typeof delta.signature === 'string') {
          return [this.frame({ thinking_blocks: [{ type: 'thinking', thinking: '', signature: delta.signature }] })];
        }
        return [];
      }
      case 'message_delta': {
        // message_delta's usage counts are cumulative: they replace, not add to, the start's.
        for (const [key, value] of Object.entries(event.usage ?? {})) {
          if (typeof value === 'number') (this.usage as Record<string, number>)[key] = value;
        }
        this.stopReason = event.delta?.stop_reason ?? this.stopReason;
        const finish = finishReasonOf(this.stopReason);
        if (finish === null || this.finishSent) return [];
        this.finishSent = true;
        return [this.frame({}, finish)];
      }
      case 'message_stop': {
        this.done = true;
        const frames: string[] = [];
        if (!this.finishSent) {
          this.finishSent = true;
          frames.push(this.frame({}, 'stop'));
        }
        if (this.options.includeUsage) frames.push(this.usageFrame());
        frames.push(DONE_FRAME);
        return frames;
      }
      case 'error': {
        this.done = true;
        // Thrown, not framed here: the server renders an error after the stream began as OpenAI's
        // `data: {"error": ...}` frame, through the one error path that also redacts secrets.
        throw anthropicErrorToUpstreamError({ body: event, deploymentId: this.options.deploymentId });
      }
      default:
        return []; // ping, content_block_stop, and event types newer than this code
    }
  }

  private frame(delta: Record<string, unknown>, finishReason: OpenAIFinishReason | null = null): string {
    return chunkFrame(this.head(), delta, finishReason);
  }

  private usageFrame(): string {
    return usageChunkFrame(this.head(), usageOf(this.usage));
  }

  private head(): ChunkHead {
    return { id: this.id, created: this.options.created, model: this.model, includeUsage: this.options.includeUsage };
  }
}

/** Anthropic's SSE bytes -> its events, parsed leniently (unparseable data is skipped). */
export async function* parseAnthropicStreamEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<AnthropicStreamEvent> {
  for await (const sse of sseEvents(body)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(sse.data);
    } catch {
      continue;
    }
    if (!isRecord(parsed)) continue;
    if (typeof parsed.type !== 'string' && sse.event !== undefined) parsed.type = sse.event;
    if (typeof parsed.type === 'string') yield parsed as AnthropicStreamEvent;
  }
}

/**
 * Translates a stream of Anthropic events into OpenAI SSE bytes, pulling one upstream event
 * per frame batch: nothing is buffered beyond the current event. Returning early (the
 * consumer breaks, or aborts) closes the upstream iterator, which closes the connection.
 * A stream that ends without `message_stop` or an `error` event broke: that is thrown.
 */
export async function* translateAnthropicStream(
  events: AsyncIterable<AnthropicStreamEvent>,
  options: ChatStreamTranslationOptions,
): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const translator = new ChatStreamTranslator(options);
  for await (const event of events) {
    for (const frame of translator.onEvent(event)) yield encoder.encode(frame);
    if (translator.done) return;
  }
  throw new UpstreamConnectionError('The Anthropic stream ended before message_stop.');
}
