/**
 * Errors Fastify and Node answer before any route or hook runs: a URL that does not decode
 * (`%zz`), a malformed HTTP request, headers too large, a request that took too long to arrive.
 * By default they get Fastify's own JSON body; here they get OpenAI's envelope too, still built
 * by `errorToResponse`.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayError, InvalidRequestError } from '../spec/errors.ts';
import { errorToResponse } from './error-to-response.ts';
import { closeIfBodyUnread } from './receive-limits.ts';

/** Fastify's `frameworkErrors` option. */
export function answerFrameworkError(error: Error, request: FastifyRequest, reply: FastifyReply): void {
  const response = errorToResponse(error);
  reply.code(response.status).headers(response.headers);
  closeIfBodyUnread(request.raw, reply);
  reply.send(response.body);
}

/** Fastify's `clientErrorHandler` option (Node's `clientError` event): write the answer on the raw socket. */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const gatewayError =
    error.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new GatewayError(408, 'The request took too long to arrive.', { code: 'request_timeout' })
      : error.code === 'HPE_HEADER_OVERFLOW'
        ? new GatewayError(431, 'The request headers are too large.', { code: 'headers_too_large' })
        : new InvalidRequestError('The HTTP request is malformed.', { code: 'malformed_request' });
  answerOnSocketAndClose(socket, gatewayError, error);
}

/**
 * Writes the answer to `error` straight on the socket and closes it: for a connection no response
 * owns (a client error), or one being given up (a request body that arrives too slowly).
 */
export function answerOnSocketAndClose(socket: Socket, error: GatewayError, cause?: Error): void {
  const { status, body } = errorToResponse(error);
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json\r\nConnection: close\r\n\r\n${text}`,
    );
  }
  socket.destroy(cause);
}
