/**
 * A request whose answer is read whole (JSON answers, error bodies): the hot path of every
 * non-streamed model call.
 *
 * It talks to undici's dispatcher directly: the chunks go into an array as they arrive, with no
 * Readable body, no async iterator and no promise per chunk in between (`sendHttpRequest` keeps
 * those for the bodies that are streamed on). Same pool, same timeouts, same error mapping.
 */
import type { Dispatcher } from 'undici';
import { dispatchRequest } from './dispatch-target.ts';
import { sendAuthorized } from './request-auth.ts';
import type { HttpRequest, ResponseHeaders } from './request.ts';
import { watchSignal } from './signal-hold.ts';
import { transportError } from './transport-errors.ts';

export interface BufferedHttpResponse {
  status: number;
  headers: ResponseHeaders;
  /** The whole body; `undefined` for a non-2xx answer whose body was too long or broke off. */
  body: Buffer | undefined;
}

export interface BufferedRequestLimits {
  /** Largest 2xx body; beyond it the call fails (as a transport error). */
  maxBytes: number;
  /** Largest non-2xx body; beyond it (or when it breaks off) the status is kept without a body. */
  maxErrorBytes: number;
}

const EMPTY = Buffer.alloc(0);

/** A buffered answer holds nothing open. */
async function discardNothing(): Promise<void> {}

/** Sends `req` and resolves with the status, the headers and the whole body. */
export function sendHttpRequestBuffered(req: HttpRequest, limits: BufferedRequestLimits): Promise<BufferedHttpResponse> {
  if (req.auth !== undefined) return sendAuthorized(req, req.auth, (authorized) => sendHttpRequestBuffered(authorized, limits), discardNothing);
  return new Promise((resolve, reject) => {
    const handler = new BufferedHandler(req, limits, resolve, reject);
    dispatchRequest(req, handler);
  });
}

class BufferedHandler implements Dispatcher.DispatchHandler {
  readonly #req: HttpRequest;
  readonly #limits: BufferedRequestLimits;
  readonly #resolve: (response: BufferedHttpResponse) => void;
  readonly #reject: (error: unknown) => void;
  /** Releases the hold on the request's signal and stops watching it. */
  #unwatch: (() => void) | null = null;
  #controller: Dispatcher.DispatchController | null = null;
  #status = 0;
  #headers: ResponseHeaders = {};
  #chunks: Buffer[] = [];
  #size = 0;
  /** Over the limit of a non-2xx answer: the rest is dropped. */
  #cut = false;
  #settled = false;

  constructor(
    req: HttpRequest,
    limits: BufferedRequestLimits,
    resolve: (response: BufferedHttpResponse) => void,
    reject: (error: unknown) => void,
  ) {
    this.#req = req;
    this.#limits = limits;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  /**
   * Holds the request's signal (its owner, the attempt deadline, stays armed until the exchange
   * is over) and watches it for an abort.
   */
  watch(): void {
    this.#unwatch = watchSignal(this.#req.signal, this.onAbort);
  }

  /** The request's signal aborted (a function: see `watchSignal`). */
  readonly onAbort = (): void => {
    if (this.#controller !== null) {
      this.#controller.abort(this.#req.signal?.reason as Error);
      return;
    }
    // Still queued for a connection: fail now; `onRequestStart` aborts it when its turn comes.
    this.fail(this.#req.signal?.reason);
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.#controller = controller;
    if (this.#settled) controller.abort(new Error('request already settled'));
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: ResponseHeaders): void {
    this.#status = statusCode;
    this.#headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.#cut) return;
    this.#size += chunk.length;
    const success = this.#status >= 200 && this.#status < 300;
    if (this.#size > (success ? this.#limits.maxBytes : this.#limits.maxErrorBytes)) {
      if (success) {
        const limit = this.#limits.maxBytes;
        this.fail(new Error(`response body over ${limit} bytes`));
        controller.abort(new Error(`response body over ${limit} bytes`));
        return;
      }
      this.#cut = true;
      this.#chunks = [];
      this.#finish(undefined);
      controller.abort(new Error('error body too long'));
      return;
    }
    this.#chunks.push(chunk);
  }

  onResponseEnd(): void {
    const chunks = this.#chunks;
    this.#finish(chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, this.#size));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    // A non-2xx answer whose body broke off still reports its status (like a failed error-body read).
    if (this.#status !== 0 && !(this.#status >= 200 && this.#status < 300)) {
      this.#finish(undefined);
      return;
    }
    this.fail(error);
  }

  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.#reject(transportError(error, this.#req.signal, this.#req.what ?? 'upstream request'));
  }

  #finish(body: Buffer | undefined): void {
    if (this.#settled) return;
    this.#settle();
    this.#resolve({ status: this.#status, headers: this.#headers, body });
  }

  #settle(): void {
    this.#settled = true;
    const unwatch = this.#unwatch;
    this.#unwatch = null;
    unwatch?.();
  }
}
