/**
 * Cohere's streamed chat (https://docs.cohere.com/reference/chat-stream,
 * https://docs.cohere.com/docs/streaming) -> OpenAI `chat.completion.chunk` server-sent events,
 * event by event.
 *
 * Cohere: `message-start`, then per content part `content-start` / `content-delta`* /
 * `content-end` (text, or a reasoning model's thinking), `tool-plan-delta`*, per tool call
 * `tool-call-start` / `tool-call-delta`* / `tool-call-end`, `citation-start` / `citation-end`,
 * and `message-end` (finish reason, usage), then `data: [DONE]`. Each event is an `event:` line
 * and a JSON `data:` line carrying the same `type`.
 * OpenAI: a first chunk with the role, content and tool-call deltas, a chunk with
 * `finish_reason`, optionally a usage chunk (`stream_options.include_usage`), then `data: [DONE]`.
 * Thinking goes out as `reasoning_content` deltas and the tool plan as `tool_plan` deltas, as the
 * plain answer carries them (`chat-response.ts`); citations have no chunk equivalent.
 */
import { UpstreamConnectionError } from '../../spec/errors.ts';
import { sseEvents } from '../http/sse.ts';
import { FAILED_GENERATION, finishReasonOf, generationError, usageOf, type OpenAIFinishReason } from './chat-response.ts';
import { cohereErrorToUpstreamError } from './errors.ts';
import { isRecord } from './json.ts';
import type { CohereStreamEvent, CohereUsage } from './wire-types.ts';
import { chunkFrame, DONE_FRAME, usageChunkFrame, type ChunkHead } from '../../spec/chat-chunks.ts';

export interface ChatStreamTranslationOptions {
  /** Unix seconds stamped on every chunk. */
  created: number;
  /** The model named on every chunk (the deployment's: Cohere's events do not name it). */
  model: string;
  /** `stream_options.include_usage`: every chunk carries `usage: null`, and a last chunk the totals. */
  includeUsage: boolean;
  deploymentId?: string;
}

/**
 * The state of one translated stream. Pure: feed it events, it answers the SSE frames to send.
 * An error event, or a `message-end` saying the generation failed, is thrown as an
 * `UpstreamError`. `done` turns true after `message-end`; later events are ignored.
 */
export class ChatStreamTranslator {
  done = false;
  private readonly options: ChatStreamTranslationOptions;
  private id = '';
  /** Cohere's tool call index -> OpenAI's (numbered from 0 in order of appearance). */
  private readonly toolCallIndexes = new Map<number, number>();

  constructor(options: ChatStreamTranslationOptions) {
    this.options = options;
  }

  onEvent(event: CohereStreamEvent): string[] {
    if (this.done) return [];
    const message = event.delta?.message;
    switch (event.type) {
      case 'message-start':
        this.id = event.id ?? this.id;
        return [this.frame({ role: 'assistant', content: '' })];
      case 'content-start':
      case 'content-delta': {
        const content = message?.content;
        if (typeof content?.text === 'string' && content.text !== '') return [this.frame({ content: content.text })];
        if (typeof content?.thinking === 'string' && content.thinking !== '') return [this.frame({ reasoning_content: content.thinking })];
        return [];
      }
      case 'tool-plan-delta':
        return typeof message?.tool_plan === 'string' && message.tool_plan !== '' ? [this.frame({ tool_plan: message.tool_plan })] : [];
      case 'tool-call-start': {
        const call = message?.tool_calls;
        const index = this.toolIndexOf(event.index, true);
        const toolCall = {
          index,
          id: typeof call?.id === 'string' && call.id !== '' ? call.id : `call_${index}`,
          type: 'function',
          function: { name: call?.function?.name ?? '', arguments: call?.function?.arguments ?? '' },
        };
        return [this.frame({ tool_calls: [toolCall] })];
      }
      case 'tool-call-delta': {
        const fragment = message?.tool_calls?.function?.arguments;
        if (typeof fragment !== 'string' || fragment === '') return [];
        return [this.frame({ tool_calls: [{ index: this.toolIndexOf(event.index, false), function: { arguments: fragment } }] })];
      }
      case 'message-end':
        return this.end(event);
      case 'error':
        this.done = true;
        // Thrown, not framed here: the server renders an error after the stream began as OpenAI's
        // `data: {"error": ...}` frame, through the one error path that also redacts secrets.
        throw cohereErrorToUpstreamError({ body: event, deploymentId: this.options.deploymentId });
      default:
        return []; // content-end, tool-call-end, citation-*, debug, and event types newer than this code
    }
  }

  private end(event: CohereStreamEvent): string[] {
    this.done = true;
    const reason = event.delta?.finish_reason;
    if (reason?.toUpperCase() === FAILED_GENERATION) throw generationError(event.delta?.error, this.options.deploymentId);
    const finish = finishReasonOf(reason) ?? (this.toolCallIndexes.size > 0 ? 'tool_calls' : 'stop');
    const frames = [this.frame({}, finish)];
    if (this.options.includeUsage) frames.push(this.usageFrame(event.delta?.usage));
    frames.push(DONE_FRAME);
    return frames;
  }

  /** OpenAI's index for Cohere's; a start numbers a new call, a delta finds its call (or the latest). */
  private toolIndexOf(cohereIndex: number | null | undefined, starting: boolean): number {
    const key = typeof cohereIndex === 'number' ? cohereIndex : this.toolCallIndexes.size - (starting ? 0 : 1);
    const known = this.toolCallIndexes.get(key);
    if (known !== undefined) return known;
    const index = this.toolCallIndexes.size;
    this.toolCallIndexes.set(key, index);
    return index;
  }

  private frame(delta: Record<string, unknown>, finishReason: OpenAIFinishReason | null = null): string {
    return chunkFrame(this.head(), delta, finishReason);
  }

  private usageFrame(usage: CohereUsage | null | undefined): string {
    return usageChunkFrame(this.head(), usageOf(usage));
  }

  private head(): ChunkHead {
    return { id: this.id, created: this.options.created, model: this.options.model, includeUsage: this.options.includeUsage };
  }
}

/**
 * Cohere's SSE bytes -> its events, parsed leniently: `[DONE]` and unparseable data are skipped;
 * the event's `type` is its JSON `type`, else its `event:` name; a body with only a `message` (an
 * error sent into the stream) is an `error` event.
 */
export async function* parseCohereStreamEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<CohereStreamEvent> {
  for await (const sse of sseEvents(body)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(sse.data);
    } catch {
      continue;
    }
    if (!isRecord(parsed)) continue;
    if (typeof parsed.type !== 'string') {
      if (sse.event !== undefined) parsed.type = sse.event;
      else if (typeof parsed.message === 'string' && parsed.delta === undefined) parsed.type = 'error';
    }
    if (typeof parsed.type === 'string') yield parsed as unknown as CohereStreamEvent;
  }
}

/**
 * Translates a stream of Cohere events into OpenAI SSE bytes, pulling one upstream event per frame
 * batch: nothing is buffered beyond the current event. Returning early (the consumer breaks, or
 * aborts) closes the upstream iterator, which closes the connection. A stream that ends without
 * `message-end` broke: that is thrown.
 */
export async function* translateCohereStream(events: AsyncIterable<CohereStreamEvent>, options: ChatStreamTranslationOptions): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  const translator = new ChatStreamTranslator(options);
  for await (const event of events) {
    for (const frame of translator.onEvent(event)) yield encoder.encode(frame);
    if (translator.done) return;
  }
  throw new UpstreamConnectionError('The Cohere stream ended before message-end.');
}
