/**
 * Relays an upstream stream of OpenAI-framed server-sent events to the client, chunk by chunk.
 *
 * - Backpressure: the next upstream chunk is pulled only after the previous one was accepted by
 *   the socket (`write()` true, or `drain`), so a slow client slows the upstream read instead of
 *   filling memory.
 * - The first chunk is awaited before any header is sent: an upstream error at that point still
 *   gets a real status and OpenAI's error envelope (via the error handler).
 * - After the first byte the status is committed: an error becomes a final
 *   `data: {"error": {...}}` frame, which the OpenAI SDKs raise as an `APIError`.
 * - Error events the upstream sends after the first are redacted like every other upstream error
 *   text (`sse-error-redaction.ts`, whole events only; other events pass byte for byte).
 * - A client that disconnects stops the loop; returning the iterator (and the abort signal given
 *   to the upstream call) closes the upstream connection.
 */
import { performance } from 'node:perf_hooks';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { UpstreamStream } from '../spec/provider.ts';
import type { Logger } from '../observability/logger.ts';
import { errorToSseFrame } from './error-to-response.ts';
import { addUpstreamTime } from './request-context.ts';
import { redactErrorEvents } from './sse-error-redaction.ts';

const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  // Tells nginx-style proxies in front of Portico not to buffer the stream.
  'x-accel-buffering': 'no',
};

export interface RelayOptions {
  logger: Logger;
  redact: (text: string) => string;
  /** `messages-api`: an error after the first byte is written as Anthropic's `error` event (an Anthropic stream relayed). */
  errorShape?: 'messages-api';
}

export async function relayServerSentEvents(
  request: FastifyRequest,
  reply: FastifyReply,
  upstream: UpstreamStream,
  options: RelayOptions,
): Promise<void> {
  const context = request.portico;
  const iterator = redactErrorEvents(upstream.body, options.redact);
  let pulledAt = performance.now();
  // Errors here propagate to the error handler: nothing has been sent yet.
  let result = await iterator.next();
  addUpstreamTime(context, performance.now() - pulledAt);

  const response = reply.raw;
  reply.hijack();
  response.writeHead(upstream.status >= 200 && upstream.status < 300 ? upstream.status : 200, {
    ...(reply.getHeaders() as Record<string, string>),
    ...SSE_HEADERS,
  });

  try {
    while (!result.done) {
      if (response.destroyed) break;
      if (!response.write(result.value)) {
        const waitStartedAt = performance.now();
        await drainOrClose(response);
        context.clientWaitMs += performance.now() - waitStartedAt;
        if (response.destroyed) break;
      }
      pulledAt = performance.now();
      result = await iterator.next();
      addUpstreamTime(context, performance.now() - pulledAt);
    }
  } catch (error) {
    if (!response.destroyed) {
      options.logger.warn({ req_id: request.id, err: error }, 'upstream stream failed after the first byte');
      response.write(errorToSseFrame(error, { requestId: request.id, redact: options.redact, ...(options.errorShape !== undefined && { shape: options.errorShape }) }));
    }
  } finally {
    if (!result.done) {
      // The client left (or the write failed): close the upstream read now.
      await iterator.return?.().catch(() => {});
    }
    if (!response.destroyed) response.end();
  }
}

function drainOrClose(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const finish = () => {
      response.off('drain', finish);
      response.off('close', finish);
      resolve();
    };
    response.on('drain', finish);
    response.on('close', finish);
  });
}
