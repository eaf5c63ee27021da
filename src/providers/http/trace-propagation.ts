/**
 * The W3C `traceparent` of the upstream attempt in progress, which `sendHttpRequest` sends with
 * every request of that attempt, whatever the provider. The router runs an attempt inside
 * `attemptTraceparent.run(...)` only when tracing is on; otherwise nothing is stored or read.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export const attemptTraceparent = new AsyncLocalStorage<string>();

let propagating = false;

/** Turned on with tracing: from then on requests carry the attempt's `traceparent`. */
export function propagateTraceparent(on: boolean): void {
  propagating = on;
}

/** `headers` plus the current attempt's `traceparent`, when tracing is on and there is one. */
export function withTraceparent(headers: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!propagating) return headers;
  const traceparent = attemptTraceparent.getStore();
  return traceparent === undefined ? headers : { ...headers, traceparent };
}
