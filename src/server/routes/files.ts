/**
 * The Files API (`/v1/files`, and without `/v1`), as the OpenAI SDKs call it. The handlers only
 * translate HTTP to the managed file service; ownership, placement and deletion live there.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { InvalidRequestError } from '../../spec/errors.ts';
import { parseLimit } from '../../managed/batches/batch-request.ts';
import type { ManagedServices } from '../../managed/managed-services.ts';
import { attachmentDisposition } from '../content-disposition.ts';
import { singleValuedQuery } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { abortSignalOnClientClose } from '../upstream-call.ts';
import { withAndWithoutV1 } from './paths.ts';
import { leaveMultipartUnread } from '../multipart-bodies.ts';

type FileRequest = FastifyRequest<{ Params: { file_id: string } }>;

const MAX_LIST_LIMIT = 10_000;

export function managedOf(services: AppServices): ManagedServices {
  if (!services.managed) throw new Error('managed files and batches are not configured');
  return services.managed;
}

export const fileRoutes: RouteModule = {
  name: 'files',
  register(app, services) {
    const managed = managedOf(services);
    // Uploads are streamed by the file service: Fastify must leave the body unread.
    leaveMultipartUnread(app);

    for (const base of withAndWithoutV1('/files')) {
      app.post(base, async (request, reply) => {
        const file = await managed.files.upload(principalOf(request), request.headers, request.raw, {
          requestId: request.id,
          signal: abortSignalOnClientClose(reply),
        });
        return reply.send(file);
      });

      app.get(base, async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) => {
        const query = singleValuedQuery(request.query);
        const order = query.order;
        if (order !== undefined && order !== 'asc' && order !== 'desc') {
          throw new InvalidRequestError(`Invalid value: '${order.slice(0, 20)}'. Supported values are: 'asc' and 'desc'.`, { param: 'order', code: 'invalid_value' });
        }
        return managed.files.list(principalOf(request), {
          purpose: query.purpose || undefined,
          order,
          after: query.after || undefined,
          limit: parseLimit(query.limit, MAX_LIST_LIMIT, MAX_LIST_LIMIT),
        });
      });

      app.get(`${base}/:file_id`, async (request: FileRequest) => managed.files.retrieve(principalOf(request), request.params.file_id));

      // Portico's own: where the file is stored and copied (the console's Files page).
      app.get(`${base}/:file_id/placement`, async (request: FileRequest) => managed.files.placement(principalOf(request), request.params.file_id));

      app.delete(`${base}/:file_id`, async (request: FileRequest) => managed.files.delete(principalOf(request), request.params.file_id));

      app.get(`${base}/:file_id/content`, async (request: FileRequest, reply: FastifyReply) => {
        const { file, stream } = await managed.files.content(principalOf(request), request.params.file_id, {
          requestId: request.id,
          signal: abortSignalOnClientClose(reply),
        });
        reply.header('content-type', 'application/octet-stream');
        if (file.blobKey) reply.header('content-length', String(file.bytes));
        reply.header('content-disposition', attachmentDisposition(file.filename));
        return reply.send(stream);
      });
    }
  },
};
