/**
 * Server-sent events, as OpenAI frames its streams (`data: {...}\n\n` ... `data: [DONE]\n\n`;
 * the Responses API adds `event:` lines). Splitting works on bytes arriving in arbitrary
 * pieces: an event may span chunks, and a chunk may hold several events.
 */

export interface SseEvent {
  /** The `event:` field, when present. */
  event?: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

const encoder = new TextEncoder();

/** Splits a byte stream into lines (without their `\n` / `\r\n`). */
export async function* sseLines(source: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of source) {
    pending += decoder.decode(chunk, { stream: true });
    let newline = pending.indexOf('\n');
    while (newline !== -1) {
      const line = pending.slice(0, newline);
      pending = pending.slice(newline + 1);
      yield line.endsWith('\r') ? line.slice(0, -1) : line;
      newline = pending.indexOf('\n');
    }
  }
  pending += decoder.decode();
  if (pending.length > 0) yield pending.endsWith('\r') ? pending.slice(0, -1) : pending;
}

/** Groups lines into events (a blank line ends an event); comments (`:`) are skipped. */
export async function* sseEvents(source: AsyncIterable<Uint8Array>): AsyncGenerator<SseEvent> {
  let event: string | undefined;
  let data: string[] = [];
  for await (const line of sseLines(source)) {
    if (line === '') {
      if (data.length > 0 || event !== undefined) yield { event, data: data.join('\n') };
      event = undefined;
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  if (data.length > 0 || event !== undefined) yield { event, data: data.join('\n') };
}

/** Encodes one event; `data` objects are JSON-serialised. */
export function encodeSseEvent(data: unknown, event?: string): Uint8Array {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  const lines = payload.split('\n').map((line) => `data: ${line}`).join('\n');
  return encoder.encode(event === undefined ? `${lines}\n\n` : `event: ${event}\n${lines}\n\n`);
}

/** The terminator of OpenAI chat streams. */
export const SSE_DONE: Uint8Array = encoder.encode('data: [DONE]\n\n');

/**
 * Reads from `source` until the first complete event (or `limitBytes`) and returns it with the
 * bytes read so far, so a caller can inspect the first event (e.g. an error sent with a 200)
 * and then replay the bytes untouched with `replayThenRest`.
 */
export async function peekFirstEvent(
  iterator: AsyncIterator<Uint8Array>,
  limitBytes = 64 * 1024,
): Promise<{ buffered: Uint8Array[]; firstEventText: string | undefined; ended: boolean }> {
  const buffered: Uint8Array[] = [];
  const decoder = new TextDecoder();
  let text = '';
  let size = 0;
  while (size < limitBytes) {
    const next = await iterator.next();
    if (next.done) return { buffered, firstEventText: text.length > 0 ? text : undefined, ended: true };
    buffered.push(next.value);
    size += next.value.byteLength;
    text += decoder.decode(next.value, { stream: true });
    const end = firstEventEnd(text);
    if (end !== -1) return { buffered, firstEventText: text.slice(0, end), ended: false };
  }
  return { buffered, firstEventText: undefined, ended: false };
}

/**
 * A stream to relay as it came, once its first event is known not to be an error: `errorOf` reads
 * the first event's text and answers the error to throw, if it is one (an error sent with a 200,
 * thrown while routing can still retry or fall back, before a byte reaches the client). The
 * source is closed when an error is thrown; otherwise its bytes are replayed as read.
 */
export async function checkedFirstEvent(body: AsyncIterable<Uint8Array>, errorOf: (firstEventText: string) => Error | undefined): Promise<AsyncIterableIterator<Uint8Array>> {
  const iterator = body[Symbol.asyncIterator]();
  let peeked;
  try {
    peeked = await peekFirstEvent(iterator);
  } catch (error) {
    await iterator.return?.();
    throw error;
  }
  const failure = peeked.firstEventText === undefined ? undefined : errorOf(peeked.firstEventText);
  if (failure !== undefined) {
    await iterator.return?.();
    throw failure;
  }
  return replayThenRest(peeked.buffered, iterator);
}

function firstEventEnd(text: string): number {
  const lf = text.indexOf('\n\n');
  const crlf = text.indexOf('\r\n\r\n');
  if (lf === -1) return crlf;
  if (crlf === -1) return lf;
  return Math.min(lf, crlf);
}

/**
 * Yields the buffered chunks, then the rest of the iterator. Closing it (`return()`, or `break`
 * in a `for await`) closes the source, even before the first chunk was pulled: a plain async
 * generator would skip its `finally` in that case and leave the upstream open.
 */
export function replayThenRest(
  buffered: readonly Uint8Array[],
  iterator: AsyncIterator<Uint8Array>,
): AsyncIterableIterator<Uint8Array> {
  return new ReplayThenRest(buffered, iterator);
}

const REPLAY_DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A class rather than an object literal of closures: one is made for every stream. */
class ReplayThenRest implements AsyncIterableIterator<Uint8Array> {
  readonly #buffered: readonly Uint8Array[];
  readonly #iterator: AsyncIterator<Uint8Array>;
  #index = 0;
  #closed = false;

  constructor(buffered: readonly Uint8Array[], iterator: AsyncIterator<Uint8Array>) {
    this.#buffered = buffered;
    this.#iterator = iterator;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#closed) return REPLAY_DONE;
    if (this.#index < this.#buffered.length) return { done: false, value: this.#buffered[this.#index++] };
    try {
      const next = await this.#iterator.next();
      if (next.done) this.#closed = true;
      return next.done ? REPLAY_DONE : next;
    } catch (error) {
      this.#closed = true;
      throw error;
    }
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#iterator.return?.();
    }
    return REPLAY_DONE;
  }
}

/** The `data:` payload of the first event in `text`, if any. */
export function firstDataPayload(text: string): string | undefined {
  // Runs on the first chunk of every stream: lines are found with indexOf, not split and regexes.
  const data: string[] = [];
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    const lineEnd = end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end;
    if (lineEnd === start) {
      if (data.length > 0) break;
    } else if (text.startsWith('data:', start)) {
      let value = start + 5;
      if (value < lineEnd && text.charCodeAt(value) === 32) value += 1;
      data.push(text.slice(value, lineEnd));
    }
    start = end + 1;
  }
  return data.length > 0 ? data.join('\n') : undefined;
}
