/**
 * An OpenAI chat completion as an Anthropic Message (https://docs.anthropic.com/en/api/messages),
 * and a stream of `chat.completion.chunk`s as Anthropic's stream of events
 * (https://docs.anthropic.com/en/api/messages-streaming): the answer of a deployment whose
 * provider does not speak the Messages API, for a client that does. Pure, but for the stream's
 * byte handling.
 *
 * `finish_reason` -> `stop_reason`: `stop` -> `end_turn`, `length` -> `max_tokens`,
 * `tool_calls` -> `tool_use`, `content_filter` -> `refusal`. Usage: the prompt's tokens less
 * the cached ones are `input_tokens`, the cached ones `cache_read_input_tokens`.
 */
import { randomBytes } from 'node:crypto';
import { translateServerSentEvents } from '../../spec/sse-translation.ts';

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

export function stopReasonOf(finishReason: unknown): string {
  switch (finishReason) {
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    default:
      return 'end_turn';
  }
}

/** Anthropic's `usage` of an OpenAI `usage`. */
export function messageUsageOf(usage: unknown): { input_tokens: number; output_tokens: number; cache_read_input_tokens: number; cache_creation_input_tokens: number } {
  const u = isObject(usage) ? usage : {};
  const prompt = count(u.prompt_tokens) || count(u.input_tokens);
  const details = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : {};
  const cached = Math.min(prompt, count(details.cached_tokens));
  return { input_tokens: prompt - cached, output_tokens: count(u.completion_tokens) || count(u.output_tokens), cache_read_input_tokens: cached, cache_creation_input_tokens: 0 };
}

/** `msg_` and the chat completion's own id (a fresh one when it had none). */
function messageIdOf(id: unknown): string {
  return `msg_${typeof id === 'string' && id !== '' ? id.replace(/^chatcmpl-/, '') : randomBytes(12).toString('hex')}`;
}

function toolInputOf(args: unknown): unknown {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    return JSON.parse(args) as unknown;
  } catch {
    // A model that wrote broken JSON: kept as text, so the client sees what it sent.
    return { _raw_arguments: args };
  }
}

export function messageOfChatCompletion(completion: unknown, model: string): Json {
  const body = isObject(completion) ? completion : {};
  const choice = Array.isArray(body.choices) && isObject(body.choices[0]) ? body.choices[0] : {};
  const message = isObject(choice.message) ? choice.message : {};
  const content: Json[] = [];
  if (typeof message.content === 'string' && message.content !== '') content.push({ type: 'text', text: message.content });
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls as unknown[]) {
      if (!isObject(call) || !isObject(call.function)) continue;
      content.push({ type: 'tool_use', id: typeof call.id === 'string' ? call.id : `toolu_${randomBytes(12).toString('hex')}`, name: String(call.function.name ?? ''), input: toolInputOf(call.function.arguments) });
    }
  }
  return {
    id: messageIdOf(body.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReasonOf(choice.finish_reason),
    stop_sequence: null,
    usage: messageUsageOf(body.usage),
  };
}

/** One server-sent event of Anthropic's stream: its name on the `event:` line, as Anthropic sends it. */
function frame(event: Json): string {
  return `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * Turns a chat completion stream's events into Anthropic's, event by event: `message_start`
 * on the first chunk, a text block while text arrives, a `tool_use` block per tool call (its
 * arguments as `input_json_delta`s), and at the end `message_delta` (stop reason, usage) and
 * `message_stop`. An `{"error": ...}` event becomes Anthropic's `error` event.
 */
export class MessageStreamTranslator {
  readonly #model: string;
  #started = false;
  #finished = false;
  /** The index and kind of the content block open now. */
  #open: { index: number; kind: 'text' | 'tool'; toolIndex?: number } | undefined;
  #nextIndex = 0;
  #finishReason: unknown = null;
  #usage: unknown;

  constructor(model: string) {
    this.#model = model;
  }

  /** The frames for one chunk's `data` (already parsed), or for `[DONE]` (`undefined`). */
  onData(chunk: unknown): string[] {
    if (this.#finished) return [];
    if (chunk === undefined) return this.finish();
    if (!isObject(chunk)) return [];
    if (isObject(chunk.error)) {
      this.#finished = true;
      const error = chunk.error;
      return [frame({ type: 'error', error: { type: 'api_error', message: String(error.message ?? 'The upstream stream failed.') } })];
    }
    const frames: string[] = [];
    if (!this.#started) {
      this.#started = true;
      frames.push(frame({ type: 'message_start', message: { id: messageIdOf(chunk.id), type: 'message', role: 'assistant', model: this.#model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } }));
    }
    if (chunk.usage !== undefined && chunk.usage !== null) this.#usage = chunk.usage;
    const choice = Array.isArray(chunk.choices) && isObject(chunk.choices[0]) ? chunk.choices[0] : undefined;
    if (choice === undefined) return frames;
    const delta = isObject(choice.delta) ? choice.delta : {};
    if (typeof delta.content === 'string' && delta.content !== '') {
      if (this.#open?.kind !== 'text') frames.push(...this.#startBlock('text', { type: 'text', text: '' }));
      frames.push(frame({ type: 'content_block_delta', index: this.#open!.index, delta: { type: 'text_delta', text: delta.content } }));
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls as unknown[]) {
        if (!isObject(call)) continue;
        const fn = isObject(call.function) ? call.function : {};
        const toolIndex = typeof call.index === 'number' ? call.index : 0;
        if (this.#open?.kind !== 'tool' || this.#open.toolIndex !== toolIndex) {
          frames.push(...this.#startBlock('tool', { type: 'tool_use', id: typeof call.id === 'string' ? call.id : `toolu_${randomBytes(12).toString('hex')}`, name: String(fn.name ?? ''), input: {} }, toolIndex));
        }
        if (typeof fn.arguments === 'string' && fn.arguments !== '') {
          frames.push(frame({ type: 'content_block_delta', index: this.#open!.index, delta: { type: 'input_json_delta', partial_json: fn.arguments } }));
        }
      }
    }
    if (choice.finish_reason !== undefined && choice.finish_reason !== null) this.#finishReason = choice.finish_reason;
    return frames;
  }

  /** The closing frames (the stream ended: `[DONE]`, or its last byte). */
  finish(): string[] {
    if (this.#finished) return [];
    this.#finished = true;
    const frames: string[] = [];
    if (!this.#started) {
      frames.push(frame({ type: 'message_start', message: { id: messageIdOf(undefined), type: 'message', role: 'assistant', model: this.#model, content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } }));
    }
    if (this.#open !== undefined) frames.push(frame({ type: 'content_block_stop', index: this.#open.index }));
    this.#open = undefined;
    frames.push(frame({ type: 'message_delta', delta: { stop_reason: stopReasonOf(this.#finishReason), stop_sequence: null }, usage: messageUsageOf(this.#usage) }));
    frames.push(frame({ type: 'message_stop' }));
    return frames;
  }

  #startBlock(kind: 'text' | 'tool', block: Json, toolIndex?: number): string[] {
    const frames: string[] = [];
    if (this.#open !== undefined) frames.push(frame({ type: 'content_block_stop', index: this.#open.index }));
    this.#open = { index: this.#nextIndex, kind, ...(toolIndex !== undefined && { toolIndex }) };
    this.#nextIndex += 1;
    frames.push(frame({ type: 'content_block_start', index: this.#open.index, content_block: block }));
    return frames;
  }
}

/** A chat completion stream's bytes as Anthropic's event stream, translated as the bytes arrive. */
export function messageEventsOf(chunks: AsyncIterable<Uint8Array>, model: string): AsyncGenerator<Uint8Array> {
  return translateServerSentEvents(chunks, new MessageStreamTranslator(model));
}
