/**
 * A streamed Workers AI text generation -> OpenAI `chat.completion.chunk` server-sent events.
 *
 * Workers AI (`"stream": true`) answers `text/event-stream`: one `data: {"response": "..."}` per
 * piece of text, newer models adding `usage` (on the last piece) and `tool_calls`, then
 * `data: [DONE]` (https://developers.cloudflare.com/workers-ai/models/llama-3.1-8b-instruct/,
 * "Worker - Streaming"; LiteLLM's `CloudflareChatResponseIterator`). No envelope, no ids, no
 * finish reason. OpenAI: a first chunk with the role, content and tool-call deltas, a chunk with
 * `finish_reason`, a usage chunk when `stream_options.include_usage` (Workers AI's, else
 * estimated), then `data: [DONE]`.
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';
import { sseEvents } from '../http/sse.ts';
import { argumentsText, newCompletionId, newToolCallId, responseTextOf, usageOf, type OpenAIFinishReason } from './chat-response.ts';
import { cloudflareErrorToUpstreamError } from './errors.ts';
import { isRecord } from './json.ts';
import { estimatedTokens } from '../../spec/text-tokens.ts';
import type { WorkersAiStreamEvent, WorkersAiToolCall, WorkersAiUsage } from './wire-types.ts';
import { chunkFrame, DONE_FRAME, usageChunkFrame, type ChunkHead } from '../../spec/chat-chunks.ts';

export interface ChatStreamTranslationOptions {
  /** Unix seconds stamped on every chunk. */
  created: number;
  /** The Workers AI model: the events do not name it. */
  model: string;
  /** `stream_options.include_usage`: every chunk carries `usage: null`, and a last chunk the totals. */
  includeUsage: boolean;
  /** Used when no event carries `usage`. */
  estimatedPromptTokens: number;
  deploymentId?: string;
}

/** A parsed stream event: a piece of the answer, an error, or the end. */
export type WorkersAiStreamItem = { type: 'event'; event: WorkersAiStreamEvent } | { type: 'error'; body: unknown } | { type: 'done' };

/** The state of one translated stream. Pure: feed it events, it answers the SSE frames to send. */
export class ChatStreamTranslator {
  readonly #options: ChatStreamTranslationOptions;
  readonly #id = newCompletionId();
  #started = false;
  #generatedChars = 0;
  #usage: WorkersAiUsage | undefined;
  /** Calls answered so far; a call streamed in pieces is keyed by its upstream `index`. */
  #toolCalls = 0;
  readonly #toolCallIndexes = new Map<number, number>();

  constructor(options: ChatStreamTranslationOptions) {
    this.#options = options;
  }

  onEvent(event: WorkersAiStreamEvent): string[] {
    const frames = this.#start();
    const text = responseTextOf(event.response);
    if (text !== '') {
      this.#generatedChars += text.length;
      frames.push(this.#frame({ content: text }));
    }
    for (const call of Array.isArray(event.tool_calls) ? event.tool_calls : []) {
      const delta = isRecord(call) ? this.#toolCallDelta(call) : undefined;
      if (delta !== undefined) frames.push(this.#frame({ tool_calls: [delta] }));
    }
    if (isRecord(event.usage)) this.#usage = event.usage;
    return frames;
  }

  /** The frames after `data: [DONE]`: the finish reason, the usage, `[DONE]`. */
  end(): string[] {
    const frames = this.#start();
    frames.push(this.#frame({}, this.#toolCalls > 0 ? 'tool_calls' : 'stop'));
    if (this.#options.includeUsage) frames.push(this.#usageFrame());
    frames.push(DONE_FRAME);
    return frames;
  }

  /**
   * A call with a name starts a tool call (whole, `{name, arguments}`, or the first piece of one
   * streamed OpenAI-style with an `index`); a piece without a name adds to the call of its index.
   */
  #toolCallDelta(call: WorkersAiToolCall): Record<string, unknown> | undefined {
    const fn = isRecord(call.function) ? call.function : undefined;
    const name = fn?.name ?? call.name;
    const args = fn !== undefined ? fn.arguments : call.arguments;
    const upstreamIndex = typeof call.index === 'number' ? call.index : undefined;
    if (typeof name === 'string' && name !== '') {
      const index = this.#toolCalls++;
      if (upstreamIndex !== undefined) this.#toolCallIndexes.set(upstreamIndex, index);
      const text = argumentsText(args);
      this.#generatedChars += name.length + text.length;
      return { index, id: typeof call.id === 'string' && call.id !== '' ? call.id : newToolCallId(), type: 'function', function: { name, arguments: text } };
    }
    const index = upstreamIndex === undefined ? undefined : this.#toolCallIndexes.get(upstreamIndex);
    if (index === undefined || args == null || args === '') return undefined;
    const piece = argumentsText(args);
    this.#generatedChars += piece.length;
    return { index, function: { arguments: piece } };
  }

  #start(): string[] {
    if (this.#started) return [];
    this.#started = true;
    return [this.#frame({ role: 'assistant', content: '' })];
  }

  #frame(delta: Record<string, unknown>, finishReason: OpenAIFinishReason | null = null): string {
    return chunkFrame(this.#head(), delta, finishReason);
  }

  #usageFrame(): string {
    return usageChunkFrame(this.#head(), usageOf(this.#usage, { promptTokens: this.#options.estimatedPromptTokens, completionTokens: estimatedTokens(this.#generatedChars) }));
  }

  #head(): ChunkHead {
    return { id: this.#id, created: this.#options.created, model: this.#options.model, includeUsage: this.#options.includeUsage };
  }
}

/** Workers AI's SSE bytes -> its events; data that is not JSON is skipped. */
export async function* parseWorkersAiStream(body: AsyncIterable<Uint8Array>): AsyncGenerator<WorkersAiStreamItem> {
  for await (const sse of sseEvents(body)) {
    if (sse.data.trim() === '[DONE]') {
      yield { type: 'done' };
      continue;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(sse.data);
    } catch {
      continue;
    }
    if (!isRecord(parsed)) continue;
    // Not documented for streams: an error as the v4 API words it (`errors`), or as `error`.
    if ((Array.isArray(parsed.errors) && parsed.errors.length > 0) || parsed.error != null || parsed.success === false) yield { type: 'error', body: parsed };
    else yield { type: 'event', event: parsed as WorkersAiStreamEvent };
  }
}

/**
 * Translates Workers AI's events into OpenAI SSE bytes, one upstream event at a time. An error
 * event is thrown as an `UpstreamError` (the server renders it as OpenAI's error frame).
 * Returning early closes the upstream iterator. A stream that ends without `data: [DONE]` broke:
 * that is thrown, so the client does not take a cut answer for a whole one.
 */
export async function* translateWorkersAiStream(items: AsyncIterable<WorkersAiStreamItem>, options: ChatStreamTranslationOptions): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const translator = new ChatStreamTranslator(options);
  for await (const item of items) {
    if (item.type === 'error') throw cloudflareErrorToUpstreamError({ body: item.body, deploymentId: options.deploymentId });
    if (item.type === 'done') {
      for (const frame of translator.end()) yield encoder.encode(frame);
      return;
    }
    for (const frame of translator.onEvent(item.event)) yield encoder.encode(frame);
  }
  throw new UpstreamConnectionError('The Workers AI stream ended before data: [DONE].');
}
