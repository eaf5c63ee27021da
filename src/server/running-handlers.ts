/**
 * Route handlers still running, for the graceful stop.
 *
 * Fastify's `close()` waits for connections, not for handlers: once the grace period cuts a
 * connection (an upload still arriving, say), the handler is still cleaning up after its aborted
 * work (closing and removing a half-written blob, deleting a provider copy) when the server counts
 * as closed. The stop then closed the database and the process exited under it, leaving the
 * half-written blob behind. So every handler is counted while it runs, and `app.close()` waits for
 * the count to reach zero (bounded: a handler stuck on something else must not hold the stop).
 *
 * A counter and two shared callbacks: no per-request allocation besides the one `then`.
 */
import type { FastifyInstance, RouteHandlerMethod } from 'fastify';

/** How long a stop waits for handlers once their connections are gone, by default (and at most, `start.ts`). */
export const HANDLER_SETTLE_MS = 5_000;

export class RunningHandlers {
  #count = 0;
  #onIdle: (() => void) | undefined;
  readonly #settled = (): void => {
    this.#count -= 1;
    if (this.#count === 0) this.#onIdle?.();
  };

  get size(): number {
    return this.#count;
  }

  /** Counts `result` (a handler's answer) until it settles, if it is a promise. */
  track(result: unknown): void {
    if (result === null || typeof result !== 'object' || typeof (result as Promise<unknown>).then !== 'function') return;
    this.#count += 1;
    (result as Promise<unknown>).then(this.#settled, this.#settled);
  }

  /** Resolves when no handler runs, or after `maxWaitMs`; answers whether they all settled. */
  idle(maxWaitMs: number): Promise<boolean> {
    if (this.#count === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#onIdle = undefined;
        resolve(false);
      }, maxWaitMs);
      this.#onIdle = () => {
        clearTimeout(timer);
        this.#onIdle = undefined;
        resolve(true);
      };
    });
  }
}

/**
 * Counts every route's handler from now on (call before the routes are registered), and makes
 * `app.close()` wait for them, up to `settleMs`, after the server stopped.
 */
export function waitForHandlersOnClose(
  app: FastifyInstance,
  onTimeout: (running: number) => void,
  settleMs: number = HANDLER_SETTLE_MS,
): RunningHandlers {
  const running = new RunningHandlers();
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, request, reply) {
      const result: unknown = handler.call(this, request, reply);
      running.track(result);
      return result;
    } as RouteHandlerMethod;
  });
  // onClose runs once the server stopped, i.e. after every connection closed (or was cut).
  app.addHook('onClose', async () => {
    if (!(await running.idle(settleMs))) onTimeout(running.size);
  });
  return running;
}
