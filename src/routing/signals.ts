/** Abort signals of one attempt: the client's (disconnect) combined with the deployment's timeout. */
import { registerSignalOwner, type SignalOwner } from '../providers/http/signal-hold.ts';
import { UpstreamAbortedError } from '../providers/http/transport-errors.ts';
import { GatewayError } from '../spec/errors.ts';

/** setTimeout's largest delay; longer ones would fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

export interface AttemptSignal {
  /** Aborts when the client's signal aborts, or with a `TimeoutError` once `timeoutMs` passed. */
  readonly signal: AbortSignal;
  /**
   * The operation settled. The timer and the client listener are removed now, or when the last
   * hold on `signal` is released (a streamed body still being read, `signal-hold.ts`).
   */
  settle(): void;
  /**
   * Calls `done` once the attempt is over: settled, and nothing holds its signal any more (a
   * streamed body read to its end, or closed). At most one callback.
   */
  whenDone(done: () => void): void;
}

/**
 * Like `AbortSignal.any([clientSignal, AbortSignal.timeout(timeoutMs)])`, but disarmed as soon as
 * nothing uses the signal any more; and once a streamed body makes progress (`progressed()`, from
 * the HTTP layer), `timeoutMs` counts from its last chunk instead of from the start, as the SDKs'
 * and LiteLLM's read timeouts do: a long generation that keeps streaming is not cut, a stalled one
 * is.
 * `AbortSignal.timeout` keeps its timer (and, through the
 * composite signal and its listeners, the request's state) alive until it fires.
 * While disarmed the deadline still counts from the start: a hold taken later re-arms it for
 * what is left, or aborts at once when the time is up or the client is gone.
 */
export function attemptSignal(clientSignal: AbortSignal | undefined, timeoutMs: number): AttemptSignal {
  return new AttemptDeadline(clientSignal, timeoutMs);
}

function timeoutReason(): DOMException {
  // The reason AbortSignal.timeout() gives: transport errors map it to UpstreamTimeoutError.
  return new DOMException('The operation was aborted due to timeout', 'TimeoutError');
}

function fire(deadline: AttemptDeadline): void {
  deadline.timedOut();
}

class AttemptDeadline implements AttemptSignal, SignalOwner {
  readonly signal: AbortSignal;
  readonly #controller: AbortController;
  readonly #client: AbortSignal | undefined;
  readonly #timeoutMs: number;
  #deadline: number;
  /** `Date.now()` of a streamed body's last progress; 0 before any. */
  #progressAt = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  #armed = false;
  #pending = true;
  #holds = 0;
  #watchers: Array<{ onAbort: () => void }> | undefined = undefined;
  #done: (() => void) | undefined = undefined;
  /**
   * A function, not the EventListener object form: Node's EventTarget keeps object listeners
   * reachable for the young-generation GC (measured: request state promoted, throughput halved).
   */
  readonly #onClientAbort = (): void => {
    this.#disarm();
    this.#abort(this.#client?.reason);
  };

  constructor(clientSignal: AbortSignal | undefined, timeoutMs: number) {
    this.#controller = new AbortController();
    this.signal = this.#controller.signal;
    this.#client = clientSignal;
    this.#timeoutMs = timeoutMs;
    this.#deadline = Date.now() + timeoutMs;
    this.#arm(timeoutMs);
    registerSignalOwner(this.signal, this);
  }

  settle(): void {
    this.#pending = false;
    if (this.#holds === 0) this.#over();
  }

  whenDone(done: () => void): void {
    this.#done = done;
  }

  #over(): void {
    this.#disarm();
    const done = this.#done;
    if (done === undefined) return;
    this.#done = undefined;
    done();
  }

  hold(onAbort?: () => void): () => void {
    this.#holds += 1;
    if (!this.#armed) this.#arm(Math.max(this.#deadline, this.#progressAt + this.#timeoutMs) - Date.now());
    // Watchers are called directly when this aborts: no EventTarget listener per request.
    const watcher = onAbort !== undefined && !this.signal.aborted ? { onAbort } : undefined;
    if (watcher !== undefined) (this.#watchers ??= []).push(watcher);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (watcher !== undefined) {
        const index = this.#watchers?.indexOf(watcher) ?? -1;
        if (index !== -1) this.#watchers?.splice(index, 1);
      }
      this.#holds -= 1;
      if (this.#holds === 0 && !this.#pending) this.#over();
    };
  }

  progressed(): void {
    this.#progressAt = Date.now();
  }

  timedOut(): void {
    this.#timer = undefined;
    if (this.#progressAt !== 0) {
      // A streamed body: the time is counted from its last progress. (Re-armed when the timer
      // fires rather than on every chunk: one Date.now() per chunk, not a timer.)
      const deadline = this.#progressAt + this.#timeoutMs;
      const remaining = deadline - Date.now();
      if (remaining > 0) {
        this.#deadline = deadline;
        this.#timer = setTimeout(fire, Math.min(remaining, MAX_TIMER_MS), this);
        this.#timer.unref();
        return;
      }
    }
    this.#disarm();
    this.#abort(timeoutReason());
  }

  #abort(reason: unknown): void {
    this.#controller.abort(reason);
    const watchers = this.#watchers;
    if (watchers === undefined) return;
    this.#watchers = undefined;
    for (const watcher of watchers) watcher.onAbort();
  }

  #arm(remainingMs: number): void {
    if (this.signal.aborted) return;
    if (this.#client?.aborted) {
      this.#abort(this.#client.reason);
      return;
    }
    if (remainingMs <= 0) {
      this.#abort(timeoutReason());
      return;
    }
    this.#timer = setTimeout(fire, Math.min(remainingMs, MAX_TIMER_MS), this);
    // Like AbortSignal.timeout's timer: a pending deadline alone does not keep the process up.
    this.#timer.unref();
    this.#client?.addEventListener('abort', this.#onClientAbort);
    this.#armed = true;
  }

  #disarm(): void {
    if (!this.#armed) return;
    this.#armed = false;
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    this.#client?.removeEventListener('abort', this.#onClientAbort);
  }
}

/** The error to surface when the client went away mid-request. */
export function abortedError(error: unknown): GatewayError {
  return error instanceof UpstreamAbortedError ? error : new UpstreamAbortedError(undefined, { cause: error });
}
