/**
 * OpenAI's Uploads API (`/v1/uploads`, and without `/v1`), as the SDKs call it (Python's
 * `client.uploads.upload_file_chunked`, `client.uploads.create` / `.parts.create` / `.complete` /
 * `.cancel`). The handlers only translate HTTP to the managed upload service.
 */
import type { FastifyRequest } from 'fastify';
import { principalOf } from '../request-context.ts';
import type { RouteModule } from '../services.ts';
import { abortSignalOnClientClose } from '../upstream-call.ts';
import { leaveMultipartUnread } from '../multipart-bodies.ts';
import { managedOf } from './files.ts';
import { withAndWithoutV1 } from './paths.ts';

type UploadRequest = FastifyRequest<{ Params: { upload_id: string } }>;

export const uploadRoutes: RouteModule = {
  name: 'uploads',
  register(app, services) {
    const uploads = managedOf(services).uploads;
    // Parts are streamed by the upload service: Fastify must leave the body unread.
    leaveMultipartUnread(app);
    for (const base of withAndWithoutV1('/uploads')) {
      app.post(base, async (request) => uploads.create(principalOf(request), request.body));
      app.post(`${base}/:upload_id/parts`, async (request: UploadRequest) => uploads.addPart(principalOf(request), request.params.upload_id, request.headers, request.raw));
      app.post(`${base}/:upload_id/complete`, async (request: UploadRequest, reply) =>
        uploads.complete(principalOf(request), request.params.upload_id, request.body, { requestId: request.id, signal: abortSignalOnClientClose(reply) }),
      );
      app.post(`${base}/:upload_id/cancel`, async (request: UploadRequest) => uploads.cancel(principalOf(request), request.params.upload_id));
    }
  },
};
