/**
 * Limits on receiving requests (`portico_settings.server`), so that slow or stalled clients
 * (slowloris) cannot hold connections forever. The server has no request timeout at all
 * (`requestTimeout: 0`): a long streamed answer must never be cut. Only the client's side is timed:
 *
 * - headers: Node's `headersTimeout`, a deadline from a request's first byte (or a new
 *   connection's start) until its headers are complete; a client that trickles them, or sends
 *   nothing, gets 408 and is closed.
 * - body: a window, not a deadline, since a 500 MB upload over a slow link may rightly take long.
 *   Every `bodyTimeoutMs` the body must have progressed (at least one byte, and at least
 *   `bodyMinBytesPerSecond` over the window) unless it is complete, else the connection is closed.
 *   A body waiting on Portico (its consumer applying backpressure) is not held against the client.
 * - connections: at most `maxConnections` at once; further ones are closed as they arrive.
 * - a request answered before its body arrived (401, 413, ...) closes its connection
 *   (`connection: close`): the rest of the body is neither read nor waited for.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServerSettings } from '../config/types.ts';

/** How often Node checks the headers deadline, at most: it holds within this. */
const MAX_CHECK_INTERVAL_MS = 1_000;

export function applyReceiveLimits(server: Server, settings: ServerSettings): void {
  server.headersTimeout = settings.headersTimeoutMs;
  // Node checks its deadlines every `connectionsCheckingInterval` (30 s by default), read when the
  // server starts listening: often enough here that the deadline holds within a second.
  // (A public option of `http.createServer`, set as a property here: @types/node does not list it.)
  (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(10, Math.min(MAX_CHECK_INTERVAL_MS, Math.floor(settings.headersTimeoutMs / 4)));
  server.maxConnections = settings.maxConnections;
}

/** Whether the request announced a body (a length above 0, or a chunked one). */
function announcesBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return length !== '0';
  return request.headers['transfer-encoding'] !== undefined;
}

/**
 * Watches the body of `request` arrive: calls `onTooSlow` (once) when a window passed with less
 * than the required progress. Stops when the body is complete or the response is over.
 */
export function watchBodyArrival(request: IncomingMessage, response: ServerResponse, settings: ServerSettings, onTooSlow: () => void): void {
  if (!announcesBody(request)) return;
  const socket = request.socket;
  const windowMs = settings.bodyTimeoutMs;
  const needed = Math.max(1, Math.ceil((settings.bodyMinBytesPerSecond * windowMs) / 1000));
  let seen = socket.bytesRead;
  const check = (): void => {
    if (request.complete || socket.destroyed) {
      stop();
      return;
    }
    const read = socket.bytesRead;
    // Bytes the request stream holds have not been taken by Portico yet: the client is not the slow one.
    if (read - seen < needed && request.readableLength === 0) {
      stop();
      onTooSlow();
      return;
    }
    seen = read;
  };
  const timer = setInterval(check, windowMs);
  timer.unref();
  const stop = (): void => {
    clearInterval(timer);
    request.off('end', stop);
    response.off('close', stop);
  };
  request.once('end', stop);
  response.once('close', stop);
}

/**
 * For an answer sent before the request's body arrived in full (an early 401 or 413, any error):
 * `connection: close`, so that Node neither reads the rest of the body to keep the connection
 * nor waits for it, and closes the connection once the answer is out.
 */
export function closeIfBodyUnread(request: IncomingMessage, reply: { header(name: string, value: string): unknown }): void {
  if (!request.complete && announcesBody(request)) reply.header('connection', 'close');
}
