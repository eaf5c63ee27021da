/**
 * Form uploads (`POST /v1/files`, the audio routes) are read by their routes as streams: Fastify
 * must leave a `multipart/form-data` body unread. Registered once, by whichever route module
 * comes first.
 */
import type { FastifyInstance } from 'fastify';

export function leaveMultipartUnread(app: FastifyInstance): void {
  if (app.hasContentTypeParser('multipart/form-data')) return;
  app.addContentTypeParser('multipart/form-data', (_request, _payload, done) => done(null, undefined));
}
