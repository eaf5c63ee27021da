/**
 * The HTTP request helpers providers build on: open a request on the pooled agent, read a
 * bounded error body, read JSON, and hand a streamed body out as an `AsyncIterable` that
 * closes the upstream when the consumer stops.
 */
import type { Readable } from 'node:stream';
import { upstreamAgent } from './agent.ts';
import { dispatchTarget } from './dispatch-target.ts';
import { type RequestAuthorizer, sendAuthorized } from './request-auth.ts';
import { holdSignal, progressReporter } from './signal-hold.ts';
import { transportError } from './transport-errors.ts';
import { withTraceparent } from './trace-propagation.ts';
import { withClientHeaders } from './client-headers.ts';

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT' | 'PATCH';

export interface HttpRequest {
  method: HttpMethod;
  url: string;
  headers?: Record<string, string>;
  body?: string | Buffer | Readable | null;
  signal?: AbortSignal;
  /** Names the operation in error messages ("chat completion request"). */
  what?: string;
  /**
   * Authorises the request just before it is sent (SigV4, an OAuth2 bearer token): see
   * `request-auth.ts`. Absent: `headers` already carry the credentials (static keys).
   */
  auth?: RequestAuthorizer;
  /**
   * A fresh copy of a streamed `body`, for sending it again after a 401 (`auth`): absent, a
   * request with a streamed body is not resent.
   */
  replayBody?: () => Readable;
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

export interface HttpResponse {
  status: number;
  headers: ResponseHeaders;
  /** The body, pulled at the consumer's pace; errors are already Portico errors. */
  body: UpstreamBody;
}

/** A response body: an async iterable of chunks, plus helpers that read it whole. */
export interface UpstreamBody extends AsyncIterable<Uint8Array> {
  /** Reads the whole body as text, failing beyond `maxBytes`. */
  text(maxBytes?: number): Promise<string>;
  /** Discards the rest of the body and frees the connection. */
  dump(): Promise<void>;
  /** Closes the upstream body now. */
  destroy(): void;
  /** The underlying Node stream (file downloads hand it out as is). */
  readonly stream: Readable;
}

const DEFAULT_TEXT_LIMIT = 64 * 1024 * 1024;

/** Sends a request on the pooled agent. Resolves when the status and headers arrived. */
export async function sendHttpRequest(req: HttpRequest): Promise<HttpResponse> {
  if (req.auth !== undefined) return sendAuthorized(req, req.auth, sendHttpRequest, (response) => response.body.dump());
  const what = req.what ?? 'upstream request';
  // The signal's owner (the router's attempt deadline) stays armed until the body is done.
  const release = holdSignal(req.signal);
  if (req.signal?.aborted) {
    release();
    throw transportError(req.signal.reason, req.signal, what);
  }
  let response;
  try {
    const target = dispatchTarget(req.url);
    response = await upstreamAgent().request({
      origin: target.origin,
      path: target.path,
      method: req.method,
      headers: withTraceparent(withClientHeaders(req.headers)),
      body: req.body ?? null,
      signal: req.signal,
    });
  } catch (error) {
    release();
    throw transportError(error, req.signal, what);
  }
  const stream = response.body as unknown as Readable;
  // 'close' follows the end of the body, an error, and destroy(): every way a body finishes.
  if (stream.closed) release();
  else stream.once('close', release);
  return {
    status: response.statusCode,
    headers: response.headers,
    body: wrapBody(stream, req.signal, what),
  };
}

function wrapBody(stream: Readable, signal: AbortSignal | undefined, what: string): UpstreamBody {
  /**
   * An iterator over the body that reports transport failures as Portico errors and, when the
   * consumer stops early (even before its first `next()`), destroys the body, which aborts the
   * upstream request instead of leaving it running.
   */
  // Each chunk read is progress: the router's deadline counts from the last one (`signals.ts`).
  const progressed = progressReporter(signal);
  function iterate(): AsyncIterableIterator<Uint8Array> {
    let source: AsyncIterator<unknown> | undefined;
    const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
    return {
      [Symbol.asyncIterator]() {
        return this;
      },
      async next(): Promise<IteratorResult<Uint8Array>> {
        source ??= stream[Symbol.asyncIterator]();
        try {
          const next = await source.next();
          if (next.done) return done;
          progressed();
          return { done: false, value: next.value as Uint8Array };
        } catch (error) {
          throw transportError(error, signal, what);
        }
      },
      async return(): Promise<IteratorResult<Uint8Array>> {
        if (!stream.readableEnded) stream.destroy();
        await source?.return?.().catch(() => undefined);
        return done;
      },
    };
  }
  return {
    stream,
    [Symbol.asyncIterator]: iterate,
    async text(maxBytes = DEFAULT_TEXT_LIMIT) {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of { [Symbol.asyncIterator]: iterate }) {
        size += chunk.byteLength;
        if (size > maxBytes) {
          stream.destroy();
          throw transportError(new Error(`response body over ${maxBytes} bytes`), signal, what);
        }
        chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      }
      return Buffer.concat(chunks).toString('utf8');
    },
    async dump() {
      try {
        for await (const _chunk of { [Symbol.asyncIterator]: iterate }) {
          // discard
        }
      } catch {
        // A body we throw away cannot fail the caller.
      }
    },
    destroy() {
      stream.destroy();
    },
  };
}

/** First value of a header, lower-case name. */
export function headerValue(headers: ResponseHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Parses a JSON body leniently: `undefined` when it is not JSON. */
export function parseJsonOrUndefined(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
