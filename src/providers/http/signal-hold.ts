/**
 * Holds on an abort signal: the code that uses a signal for an HTTP exchange tells its owner
 * "I still need you armed" until the exchange is over.
 *
 * Why: the router arms a timer (the deployment's timeout, 600 s by default) and a client
 * disconnect listener for every attempt. Left to fire on their own, they kept each request's
 * whole state reachable for the timeout's length (and promoted it to the old generation), which
 * grew the heap by hundreds of MB under load. The owner disarms them once the attempt is over;
 * but a streamed body (chat stream, file content) outlives the call that opened it, and only the
 * HTTP layer knows when it ends. So the requests take a hold when they start and release it when
 * the response body is done (or the request fails).
 *
 * A signal without a registered owner (a caller's own `AbortSignal`) needs no hold: `holdSignal`
 * answers a no-op release.
 */

export interface SignalOwner {
  /**
   * Keeps the signal armed until the returned function is called (idempotent). `onAbort`, if
   * given, is called when the signal aborts while held (after `signal.aborted` is set).
   */
  hold(onAbort?: () => void): () => void;
  /**
   * The exchange made progress (a chunk of a streamed body arrived, or was taken by its reader).
   * Optional: an owner that times exchanges may count its deadline from the last progress.
   */
  progressed?(): void;
}

/**
 * The owner rides on the signal itself, not in a WeakMap: V8's young-generation collector keeps
 * the value of every WeakMap entry whose key is young (measured in isolation: nearly all of them
 * survived each scavenge), which would promote each request's state to the old generation.
 */
const OWNER = Symbol('portico.signalOwner');

type OwnedSignal = AbortSignal & { [OWNER]?: SignalOwner };

function noRelease(): void {}

export function registerSignalOwner(signal: AbortSignal, owner: SignalOwner): void {
  (signal as OwnedSignal)[OWNER] = owner;
}

/** Takes a hold on `signal` if something owns it; call the answer once the exchange is over. */
export function holdSignal(signal: AbortSignal | undefined): () => void {
  const owner = (signal as OwnedSignal | undefined)?.[OWNER];
  return owner === undefined ? noRelease : owner.hold();
}

/**
 * A hold that also calls `onAbort` if the signal aborts meanwhile. An owned signal calls it
 * directly; any other signal gets an `abort` listener (a function: Node's EventTarget keeps
 * EventListener objects reachable for the young-generation GC). The answer releases both.
 * Check `signal.aborted` after this call: an owner may abort at once when the hold re-arms it.
 */
export function watchSignal(signal: AbortSignal | undefined, onAbort: () => void): () => void {
  if (signal === undefined) return noRelease;
  const owner = (signal as OwnedSignal)[OWNER];
  if (owner !== undefined) return owner.hold(onAbort);
  signal.addEventListener('abort', onAbort);
  return () => signal.removeEventListener('abort', onAbort);
}

/**
 * What to call on each chunk of a streamed body: tells the signal's owner the exchange progressed
 * (the router's deadline then counts from the last chunk, not from the start). A no-op otherwise.
 */
export function progressReporter(signal: AbortSignal | undefined): () => void {
  const owner = (signal as OwnedSignal | undefined)?.[OWNER];
  return owner?.progressed === undefined ? noRelease : owner.progressed.bind(owner);
}
