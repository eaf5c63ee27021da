/**
 * Redaction of error events inside a relayed stream of server-sent events. An upstream that fails
 * after its stream began sends its error as an event (`data: {"error": {...}}`, or the Responses
 * API's `event: error` / `{"type": "error", ...}`), and its text may echo the upstream's key. The
 * first event is checked by the provider (an error there is thrown, and the router redacts it);
 * this covers every later one.
 *
 * Redaction works on whole events, never on chunks: a chunk is relayed only up to its last event
 * boundary, and the rest waits for the chunk that completes its event, so a key split across
 * chunks cannot slip through half by half. The hot path stays cheap: a chunk that ends on a
 * boundary (the usual case) and whose bytes do not contain `error` is relayed as it came, without
 * a copy or a decode; only events that mention `error` are decoded, and only error events are
 * rewritten (anything else is relayed byte for byte).
 */
import type { Redactor } from '../spec/redaction.ts';

/**
 * An event held back longer than this (no boundary yet) is relayed as it stands, redacted as text
 * if it mentions `error`: error events are small, and holding an unbounded event would let an
 * upstream grow Portico's memory.
 */
export const MAX_HELD_EVENT_BYTES = 1024 * 1024;

const LF = 10;
const CR = 13;
const ERROR_BYTES = Buffer.from('error');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Wraps an SSE byte stream so that error events pass through `redact`. Closing it closes `source`. */
export function redactErrorEvents(source: AsyncIterable<Uint8Array>, redact: Redactor): AsyncIterableIterator<Uint8Array> {
  return new ErrorEventRedaction(source[Symbol.asyncIterator](), redact);
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/** A class rather than a generator: `return()` must close the source even before the first `next()`. */
class ErrorEventRedaction implements AsyncIterableIterator<Uint8Array> {
  readonly #source: AsyncIterator<Uint8Array>;
  readonly #redact: Redactor;
  /** Bytes after the last event boundary seen: the start of an event not complete yet. */
  #held: Buffer | undefined;
  #closed = false;

  constructor(source: AsyncIterator<Uint8Array>, redact: Redactor) {
    this.#source = source;
    this.#redact = redact;
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  async next(): Promise<IteratorResult<Uint8Array>> {
    while (!this.#closed) {
      let next: IteratorResult<Uint8Array>;
      try {
        next = await this.#source.next();
      } catch (error) {
        this.#closed = true;
        throw error;
      }
      if (next.done) {
        this.#closed = true;
        // An unterminated last event: relayed (redacted if it is an error) as the stream ends.
        const rest = this.#held;
        this.#held = undefined;
        return rest === undefined ? DONE : { done: false, value: this.#redactEvents(rest) };
      }
      const out = this.#take(next.value);
      if (out !== undefined) return { done: false, value: out };
    }
    return DONE;
  }

  async return(): Promise<IteratorResult<Uint8Array>> {
    this.#held = undefined;
    if (!this.#closed) {
      this.#closed = true;
      await this.#source.return?.();
    }
    return DONE;
  }

  /** What of `chunk` (after the held bytes) can be relayed now; undefined when nothing can. */
  #take(chunk: Uint8Array): Uint8Array | undefined {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    // The usual chunk: whole events, none mentioning `error`. Relayed as it came.
    if (this.#held === undefined && endsOnBoundary(bytes) && bytes.indexOf(ERROR_BYTES) === -1) return chunk;
    const all = this.#held === undefined ? bytes : Buffer.concat([this.#held, bytes]);
    const end = lastBoundaryEnd(all);
    if (end === -1) {
      if (all.byteLength <= MAX_HELD_EVENT_BYTES) {
        this.#held = all;
        return undefined;
      }
      this.#held = undefined;
      return this.#redactEvents(all);
    }
    this.#held = end < all.byteLength ? all.subarray(end) : undefined;
    return this.#redactEvents(all.subarray(0, end));
  }

  /** `bytes` (whole events) with every error event among them redacted. */
  #redactEvents(bytes: Buffer): Uint8Array {
    if (bytes.indexOf(ERROR_BYTES) === -1) return bytes;
    const parts: Uint8Array[] = [];
    let start = 0;
    while (start < bytes.byteLength) {
      let end = nextBoundaryEnd(bytes, start);
      if (end === -1) end = bytes.byteLength;
      const event = bytes.subarray(start, end);
      parts.push(event.indexOf(ERROR_BYTES) === -1 ? event : redactEvent(event, this.#redact));
      start = end;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
  }
}

/** One event's bytes, rewritten with its text redacted when it is an error event. */
function redactEvent(event: Buffer, redact: Redactor): Uint8Array {
  const text = decoder.decode(event);
  const clean = redactEventText(text, redact);
  return clean === text ? event : encoder.encode(clean);
}

/**
 * An event's text with secrets removed from every string of its JSON data, when it is an error
 * event; any other event is answered unchanged. Data that is not JSON is redacted as text.
 */
export function redactEventText(text: string, redact: Redactor): string {
  const lines = text.split('\n');
  const dataLines: string[] = [];
  let eventName: string | undefined;
  for (const line of lines) {
    const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (bare.startsWith('data:')) dataLines.push(bare.slice(bare.startsWith('data: ') ? 6 : 5));
    else if (bare.startsWith('event:')) eventName = bare.slice(6).trim();
  }
  const data = dataLines.join('\n');
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    // Not JSON: an error event only if it says so; its text is all there is to redact.
    return eventName === 'error' || /error/i.test(data) ? redact(text) : text;
  }
  if (eventName !== 'error' && !isErrorPayload(parsed)) return text;
  const clean = JSON.stringify(redactStrings(parsed, redact));
  if (clean === JSON.stringify(parsed)) return text;
  const kept = lines
    .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
    .filter((line) => line !== '' && !line.startsWith('data:'))
    .map((line) => redact(line));
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  return [...kept, `data: ${clean}`].join(newline) + newline + newline;
}

/**
 * OpenAI's `{"error": {...}}`, the Responses API's `{"type": "error", ...}`, or its
 * `response.failed` event, whose `response` carries the `error`.
 */
function isErrorPayload(value: unknown): boolean {
  if (!isObject(value)) return false;
  if (value.error != null || value.type === 'error') return true;
  return isObject(value.response) && value.response.error != null;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function redactStrings(value: unknown, redact: Redactor): unknown {
  if (typeof value === 'string') return redact(value);
  if (Array.isArray(value)) return value.map((item) => redactStrings(item, redact));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = redactStrings(item, redact);
    return out;
  }
  return value;
}

/** Whether `bytes` ends with a blank line (`\n\n`, or `\r\n\r\n`). */
function endsOnBoundary(bytes: Buffer): boolean {
  const n = bytes.byteLength;
  if (n < 2 || bytes[n - 1] !== LF) return false;
  return bytes[n - 2] === LF || (n >= 3 && bytes[n - 2] === CR && bytes[n - 3] === LF);
}

/** The index just after the last event boundary in `bytes`, -1 when there is none. */
function lastBoundaryEnd(bytes: Buffer): number {
  const lf = bytes.lastIndexOf('\n\n');
  const crlf = bytes.lastIndexOf('\n\r\n');
  return Math.max(lf === -1 ? -1 : lf + 2, crlf === -1 ? -1 : crlf + 3);
}

/** The index just after the first event boundary at or after `from`, -1 when there is none. */
function nextBoundaryEnd(bytes: Buffer, from: number): number {
  const lf = bytes.indexOf('\n\n', from);
  const crlf = bytes.indexOf('\n\r\n', from);
  if (lf === -1) return crlf === -1 ? -1 : crlf + 3;
  if (crlf === -1) return lf + 2;
  return Math.min(lf + 2, crlf + 3);
}
