/**
 * `origin` + `path` of a request URL, as undici's dispatcher API takes them. undici's top-level
 * `request(url)` parses the URL on every call; deployments send to a handful of fixed URLs, so
 * the parse is remembered (bounded: URLs naming a file or batch id come and go).
 */
import { withTraceparent } from './trace-propagation.ts';
import type { Dispatcher } from 'undici';
import { upstreamAgent } from './agent.ts';
import type { HttpRequest } from './request.ts';
import { withClientHeaders } from './client-headers.ts';
export interface DispatchTarget {
  readonly origin: string;
  /** Path and query string. */
  readonly path: string;
}

const MAX_REMEMBERED = 512;
const remembered = new Map<string, DispatchTarget>();

export function dispatchTarget(url: string): DispatchTarget {
  let target = remembered.get(url);
  if (target === undefined) {
    const parsed = new URL(url);
    target = Object.freeze({ origin: parsed.origin, path: parsed.search ? `${parsed.pathname}${parsed.search}` : parsed.pathname });
    if (remembered.size >= MAX_REMEMBERED) remembered.clear();
    remembered.set(url, target);
  }
  return target;
}

/** A dispatch handler that watches its request's signal and can fail before anything is sent. */
export interface WatchingHandler extends Dispatcher.DispatchHandler {
  watch(): void;
  fail(error: unknown): void;
}

/** Sends `req` through the pooled agent to `handler`, failing it early on an aborted signal or a bad URL. */
export function dispatchRequest(req: HttpRequest, handler: WatchingHandler): void {
  // Watched first: the signal's owner (the attempt deadline) may abort at once when re-armed.
  handler.watch();
  if (req.signal?.aborted) {
    handler.fail(req.signal.reason);
    return;
  }
  let target: DispatchTarget;
  try {
    target = dispatchTarget(req.url);
  } catch (error) {
    handler.fail(error);
    return;
  }
  upstreamAgent().dispatch({ origin: target.origin, path: target.path, method: req.method, headers: withTraceparent(withClientHeaders(req.headers)), body: req.body ?? null }, handler);
}
