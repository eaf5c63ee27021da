/**
 * A request whose body is relayed as it arrives (server-sent events of streamed model calls).
 *
 * Chunks go from undici's dispatcher into a small queue that the consumer pulls with `next()`:
 * no Readable and no stream async iterator in between (each of those costs a `nextTick` hop per
 * chunk, which also kept the relay from writing the chunks that arrived together in one write).
 * Chunks already queued are handed out at once, so the relay writes them in one go.
 * Backpressure: beyond `HIGH_WATER_BYTES` queued, the upstream read is paused until the consumer
 * has taken them. The consumer closing the body (`return()`) aborts the upstream request.
 * Same pool, timeouts and error mapping as `sendHttpRequest`; the signal's owner is held armed
 * until the body ends (`signal-hold.ts`).
 */
import { Readable } from 'node:stream';
import { type Dispatcher, errors } from 'undici';
import { dispatchRequest } from './dispatch-target.ts';
import { sendAuthorized } from './request-auth.ts';
import type { HttpRequest, HttpResponse, ResponseHeaders, UpstreamBody } from './request.ts';
import { progressReporter, watchSignal } from './signal-hold.ts';
import { transportError } from './transport-errors.ts';

const HIGH_WATER_BYTES = 64 * 1024;
const DEFAULT_TEXT_LIMIT = 64 * 1024 * 1024;
const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

function noProgress(): void {}

/** Sends `req`; resolves once the status and headers arrived, with the body still to come. */
export function sendHttpRequestStreamed(req: HttpRequest): Promise<HttpResponse> {
  if (req.auth !== undefined) return sendAuthorized(req, req.auth, sendHttpRequestStreamed, (response) => response.body.dump());
  return new Promise((resolve, reject) => {
    const handler = new StreamedHandler(req, resolve, reject);
    dispatchRequest(req, handler);
  });
}

interface Waiter {
  resolve(result: IteratorResult<Uint8Array>): void;
  reject(error: unknown): void;
}

class StreamedHandler implements Dispatcher.DispatchHandler, UpstreamBody, AsyncIterableIterator<Uint8Array> {
  readonly #req: HttpRequest;
  readonly #what: string;
  #resolveResponse: ((response: HttpResponse) => void) | null;
  #rejectResponse: ((error: unknown) => void) | null;
  /** Releases the hold on the request's signal and stops watching it. */
  #unwatch: (() => void) | null = null;
  /** Tells the signal's owner the body progressed (its deadline counts from the last chunk). */
  #progressed: () => void = noProgress;
  #controller: Dispatcher.DispatchController | null = null;
  readonly #chunks: Buffer[] = [];
  #queuedBytes = 0;
  #waiter: Waiter | null = null;
  #ended = false;
  #error: unknown = undefined;
  /** The consumer let go of the body (or the exchange failed): nothing more is kept. */
  #closed = false;
  #stream: Readable | undefined;

  constructor(req: HttpRequest, resolve: (response: HttpResponse) => void, reject: (error: unknown) => void) {
    this.#req = req;
    this.#what = req.what ?? 'upstream request';
    this.#resolveResponse = resolve;
    this.#rejectResponse = reject;
  }

  // --- undici's side -----------------------------------------------------------------------

  /**
   * Holds the request's signal (its owner, the attempt deadline, stays armed until the exchange
   * is over) and watches it for an abort.
   */
  watch(): void {
    this.#unwatch = watchSignal(this.#req.signal, this.onAbort);
    this.#progressed = progressReporter(this.#req.signal);
  }

  /** The request's signal aborted (a function: see `watchSignal`). */
  readonly onAbort = (): void => {
    const reason = this.#req.signal?.reason;
    if (this.#controller !== null) this.#controller.abort(reason as Error);
    // Still queued for a connection (or the abort came first): fail now.
    else this.fail(reason);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#closed) controller.abort(new Error('request already settled'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    if (statusCode < 200 || this.#resolveResponse === null) return;
    const resolve = this.#resolveResponse;
    this.#resolveResponse = null;
    this.#rejectResponse = null;
    resolve({ status: statusCode, headers, body: this });
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#closed) return;
    this.#progressed();
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve({ done: false, value: chunk });
      return;
    }
    this.#chunks.push(chunk);
    this.#queuedBytes += chunk.length;
    if (this.#queuedBytes > HIGH_WATER_BYTES && !controller.paused) controller.pause();
  }

  onResponseEnd(): void {
    this.#ended = true;
    this.#finish();
    if (this.#waiter !== null && this.#chunks.length === 0) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve(DONE);
    }
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }

  /** The exchange failed: before the headers, the call rejects; after, the next read does. */
  fail(error: unknown): void {
    if (this.#ended || this.#error !== undefined) return;
    const mapped = transportError(error, this.#req.signal, this.#what);
    this.#finish();
    if (this.#rejectResponse !== null) {
      const reject = this.#rejectResponse;
      this.#resolveResponse = null;
      this.#rejectResponse = null;
      this.#closed = true;
      reject(mapped);
      return;
    }
    if (this.#closed) return;
    this.#error = mapped;
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.reject(mapped);
    }
  }

  /** The exchange is over: the signal listener and the hold go. */
  #finish(): void {
    const unwatch = this.#unwatch;
    this.#unwatch = null;
    unwatch?.();
  }

  // --- the consumer's side (UpstreamBody) ----------------------------------------------------

  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    if (this.#chunks.length > 0) {
      // The reader taking queued chunks is progress too: an upstream paused for it is not stalled.
      this.#progressed();
      const chunk = this.#chunks.shift() as Buffer;
      this.#queuedBytes -= chunk.length;
      if (this.#queuedBytes <= HIGH_WATER_BYTES / 2 && this.#controller?.paused) this.#controller.resume();
      return Promise.resolve({ done: false, value: chunk });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#ended || this.#closed) return Promise.resolve(DONE);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /** The consumer stops early: the upstream request is aborted. */
  return(): Promise<IteratorResult<Uint8Array>> {
    this.destroy();
    return Promise.resolve(DONE);
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks.length = 0;
    this.#queuedBytes = 0;
    if (!this.#ended && this.#error === undefined) {
      // undici's own abort error, as destroying its body stream gave: observers see an abort.
      this.#controller?.abort(new errors.RequestAbortedError('the response body was closed by its reader'));
      this.#finish();
    }
    if (this.#waiter !== null) {
      const waiter = this.#waiter;
      this.#waiter = null;
      waiter.resolve(DONE);
    }
  }

  async text(maxBytes = DEFAULT_TEXT_LIMIT): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const next = await this.next();
      if (next.done) break;
      size += next.value.byteLength;
      if (size > maxBytes) {
        this.destroy();
        throw transportError(new Error(`response body over ${maxBytes} bytes`), this.#req.signal, this.#what);
      }
      chunks.push(next.value as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async dump(): Promise<void> {
    try {
      for (;;) {
        if ((await this.next()).done) return;
      }
    } catch {
      // A body we throw away cannot fail the caller.
    }
  }

  /** A Node stream over the same body, made on first use (nothing on the hot path needs one). */
  get stream(): Readable {
    this.#stream ??= Readable.from(this, { objectMode: false });
    return this.#stream;
  }
}
