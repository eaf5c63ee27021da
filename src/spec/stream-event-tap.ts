/**
 * One reading of a relayed stream's server-sent events for every part that meters it: the key
 * rate limits and the deployment's `tpm` (`coordination/stream-usage.ts`), usage-based routing
 * (`coordination/routing-usage.ts`) and the spend ledger (`spend/stream-usage-meter.ts`). The
 * first reader wraps `stream.body` once; later readers join that wrapper, so a stream metered
 * three ways is split into events once and each event parsed at most once, instead of three
 * wrappers each decoding, splitting and parsing the same bytes. The bytes pass through unchanged.
 *
 * Readers must join before the stream is read (the router's attempt observers and the spend
 * recorder run before the relay pulls its first chunk).
 */
import type { UpstreamStream } from './provider.ts';

/** Events larger than this are not read (usage and text deltas are small). */
const MAX_EVENT_CHARS = 64 * 1024;

export interface StreamEventReader {
  /**
   * One event's `data` (never empty, never `[DONE]`); `json()` is its parsed value, parsed once
   * for every reader, undefined when it is not JSON.
   */
  event(data: string, json: () => unknown): void;
  /** The stream ended (`completed`) or was abandoned; called once. Must not throw. */
  end(completed: boolean): void;
}

const READERS = Symbol('stream event readers');

type TappedStream = UpstreamStream & { [READERS]?: StreamEventReader[] };

export function readStreamEvents(stream: UpstreamStream, reader: StreamEventReader): void {
  const tapped = stream as TappedStream;
  const joined = tapped[READERS];
  if (joined !== undefined) {
    joined.push(reader);
    return;
  }
  const readers = [reader];
  tapped[READERS] = readers;
  const source = stream.body;
  stream.body = {
    async *[Symbol.asyncIterator]() {
      const decoder = new TextDecoder();
      let pending = '';
      let completed = false;
      try {
        for await (const chunk of source) {
          pending += decoder.decode(chunk, { stream: true });
          let start = 0;
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            const data = dataOf(pending.slice(start, end));
            if (data !== undefined) announce(data, readers);
            start = end + 2;
            end = pending.indexOf('\n\n', start);
          }
          if (start > 0) pending = pending.slice(start);
          if (pending.length > MAX_EVENT_CHARS) pending = '';
          yield chunk;
        }
        completed = true;
      } finally {
        for (const each of readers) each.end(completed);
      }
    },
  };
}

function announce(data: string, readers: readonly StreamEventReader[]): void {
  let parsed: unknown;
  let tried = false;
  const json = () => {
    if (!tried) {
      tried = true;
      try {
        parsed = JSON.parse(data);
      } catch {
        parsed = undefined;
      }
    }
    return parsed;
  };
  for (const reader of readers) reader.event(data, json);
}

/**
 * The `data` of one event (the text between two blank lines): its `data:` lines joined by
 * newlines, as the SSE specification reads them; undefined for none, an empty one or `[DONE]`.
 */
export function dataOf(event: string): string | undefined {
  let data: string;
  if (event.startsWith('data:') && !event.includes('\n')) {
    // The usual event: one `data:` line and nothing else.
    data = event.slice(event.charCodeAt(5) === 32 ? 6 : 5);
  } else {
    const lines: string[] = [];
    for (const line of event.split('\n')) if (line.startsWith('data:')) lines.push(line.slice(line.charCodeAt(5) === 32 ? 6 : 5));
    if (lines.length === 0) return undefined;
    data = lines.join('\n');
  }
  return data === '' || data === '[DONE]' ? undefined : data;
}
