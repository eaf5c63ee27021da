/**
 * Holds on an abort signal: the code that uses a signal for an HTTP exchange tells its owner
 * "I still need you armed" until the exchange is over.
 *
 * Why: the router arms a timer (the deployment's timeout, 600 s by default) and a client
 * disconnect listener for every attempt. Left to fire on their own, they kept each request's
 * whole state reachable for the timeout's length (and promoted it to the old generation), which
 * grew the heap by hundreds of MB under load. The owner disarms them once the attempt is over;
 * but a streamed body (chat stream, file content) outlives the call that opened it, and only the
 * HTTP layer knows when it ends. So `sendHttpRequest` takes a hold when it starts a request and
 * releases it when the response body closes (or the request fails).
 *
 * A signal without a registered owner (a caller's own `AbortSignal`) needs no hold: `holdSignal`
 * answers a no-op release.
 */

export interface SignalOwner {
  /** Keeps the signal armed until the returned function is called (idempotent). */
  hold(): () => void;
}

/**
 * The owner rides on the signal itself, not in a WeakMap: V8's young-generation collector keeps
 * every WeakMap value whose key is young, which promoted each request's state to the old
 * generation (measured: a fifth of all allocations survived).
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
