/**
 * Gemini's `streamGenerateContent?alt=sse` -> OpenAI `chat.completion.chunk` server-sent events.
 *
 * Gemini sends one `GenerateContentResponse` per event, each holding the new parts of a candidate;
 * the last one of a candidate has its `finishReason`, and `usageMetadata` grows as it goes (the
 * last one counts all). A function call arrives whole in one part. The stream simply ends (no
 * terminator); an error may come as a `{"error": ...}` event. OpenAI: a first chunk with the
 * role, content and tool-call deltas, a chunk with `finish_reason`, a usage chunk when
 * `stream_options.include_usage`, then `data: [DONE]`.
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';
import { sseEvents } from '../http/sse.ts';
import { finishReasonOf, isAnswerText, isThoughtText, newCompletionId, toolCallOf, usageOf, type OpenAIFinishReason } from './chat-response.ts';
import { googleErrorToUpstreamError } from './errors.ts';
import { isRecord } from './json.ts';
import type { GeminiGenerateContentResponse, GeminiUsageMetadata } from './wire-types.ts';
import { chunkFrame, DONE_FRAME, usageChunkFrame, type ChunkHead } from '../../spec/chat-chunks.ts';

export interface ChatStreamTranslationOptions {
  created: number;
  fallbackModel: string;
  includeUsage: boolean;
  deploymentId?: string;
}

/** A Gemini stream event: a response chunk, or an error. */
export type GeminiStreamEvent = { type: 'chunk'; chunk: GeminiGenerateContentResponse } | { type: 'error'; body: unknown };

/** The state of one translated stream. Pure: feed it chunks, it answers the SSE frames to send. */
export class ChatStreamTranslator {
  readonly #options: ChatStreamTranslationOptions;
  #id = '';
  #model: string;
  #usage: GeminiUsageMetadata | undefined;
  readonly #started = new Set<number>();
  readonly #finished = new Set<number>();
  readonly #toolCalls = new Map<number, number>();

  constructor(options: ChatStreamTranslationOptions) {
    this.#options = options;
    this.#model = options.fallbackModel;
  }

  onChunk(chunk: GeminiGenerateContentResponse): string[] {
    if (this.#id === '') this.#id = chunk.responseId ? `chatcmpl-${chunk.responseId}` : newCompletionId();
    if (chunk.modelVersion) this.#model = chunk.modelVersion;
    if (chunk.usageMetadata) this.#usage = chunk.usageMetadata;
    const frames: string[] = [];
    const candidates = chunk.candidates ?? [];
    if (candidates.length === 0 && chunk.promptFeedback?.blockReason && !this.#finished.has(0)) {
      frames.push(...this.#start(0), this.#frame(0, {}, 'content_filter'));
      this.#finished.add(0);
    }
    candidates.forEach((candidate, position) => {
      const index = candidate.index ?? position;
      if (this.#finished.has(index)) return;
      frames.push(...this.#start(index));
      for (const part of candidate.content?.parts ?? []) {
        if (isAnswerText(part) && part.text !== '') frames.push(this.#frame(index, { content: part.text }));
        else if (isThoughtText(part) && part.text !== '') frames.push(this.#frame(index, { reasoning_content: part.text }));
        else if (part.functionCall !== undefined) {
          const toolIndex = this.#toolCalls.get(index) ?? 0;
          this.#toolCalls.set(index, toolIndex + 1);
          const call = toolCallOf(part);
          frames.push(this.#frame(index, { tool_calls: [{ index: toolIndex, ...call }] }));
        }
      }
      const finish = finishReasonOf(candidate.finishReason, (this.#toolCalls.get(index) ?? 0) > 0);
      if (finish !== null) {
        this.#finished.add(index);
        frames.push(this.#frame(index, {}, finish));
      }
    });
    return frames;
  }

  /** The frames after the last chunk: a stop for any candidate left open, usage, `[DONE]`. */
  end(): string[] {
    const frames: string[] = [];
    if (this.#started.size === 0) frames.push(...this.#start(0));
    for (const index of this.#started) {
      if (!this.#finished.has(index)) frames.push(this.#frame(index, {}, (this.#toolCalls.get(index) ?? 0) > 0 ? 'tool_calls' : 'stop'));
    }
    if (this.#options.includeUsage) frames.push(this.#usageFrame());
    frames.push(DONE_FRAME);
    return frames;
  }

  #start(index: number): string[] {
    if (this.#started.has(index)) return [];
    this.#started.add(index);
    return [this.#frame(index, { role: 'assistant', content: '' })];
  }

  #frame(index: number, delta: Record<string, unknown>, finishReason: OpenAIFinishReason | null = null): string {
    return chunkFrame(this.#head(), delta, finishReason, index);
  }

  #usageFrame(): string {
    return usageChunkFrame(this.#head(), usageOf(this.#usage));
  }

  #head(): ChunkHead {
    return { id: this.#id, created: this.#options.created, model: this.#model, includeUsage: this.#options.includeUsage };
  }
}

/** Gemini's SSE bytes -> its events; data that is not JSON is skipped. */
export async function* parseGeminiStreamEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<GeminiStreamEvent> {
  for await (const sse of sseEvents(body)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(sse.data);
    } catch {
      continue;
    }
    const value = Array.isArray(parsed) ? parsed[0] : parsed;
    if (!isRecord(value)) continue;
    if (isRecord(value.error)) yield { type: 'error', body: value };
    else yield { type: 'chunk', chunk: value as GeminiGenerateContentResponse };
  }
}

/**
 * Translates Gemini events into OpenAI SSE bytes, one upstream event at a time. An error event is
 * thrown as an `UpstreamError` (the server renders it as OpenAI's error frame). Returning early
 * closes the upstream iterator. A stream that ends with no chunk at all broke: that is thrown.
 */
export async function* translateGeminiStream(events: AsyncIterable<GeminiStreamEvent>, options: ChatStreamTranslationOptions): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const translator = new ChatStreamTranslator(options);
  let chunks = 0;
  for await (const event of events) {
    if (event.type === 'error') throw googleErrorToUpstreamError({ body: event.body, deploymentId: options.deploymentId });
    chunks += 1;
    for (const frame of translator.onChunk(event.chunk)) yield encoder.encode(frame);
  }
  if (chunks === 0) throw new UpstreamConnectionError('The Gemini stream ended before its first chunk.');
  for (const frame of translator.end()) yield encoder.encode(frame);
}
