/**
 * The Batches API (`/v1/batches`, and without `/v1`), as the OpenAI SDKs call it. The handlers
 * only translate HTTP to the managed batch service.
 */
import type { FastifyRequest } from 'fastify';
import { parseBatchListQuery } from '../../managed/batches/batch-request.ts';
import { singleValuedQuery } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { RouteModule } from '../services.ts';
import { abortSignalOnClientClose } from '../upstream-call.ts';
import { managedOf } from './files.ts';
import { withAndWithoutV1 } from './paths.ts';

type BatchRequest = FastifyRequest<{ Params: { batch_id: string } }>;

export const batchRoutes: RouteModule = {
  name: 'batches',
  register(app, services) {
    const managed = managedOf(services);
    for (const base of withAndWithoutV1('/batches')) {
      app.post(base, async (request, reply) =>
        managed.batches.create(principalOf(request), request.body, { requestId: request.id, signal: abortSignalOnClientClose(reply) }),
      );
      app.get(base, async (request: FastifyRequest<{ Querystring: Record<string, unknown> }>) =>
        managed.batches.list(principalOf(request), parseBatchListQuery(singleValuedQuery(request.query))),
      );
      app.get(`${base}/:batch_id`, async (request: BatchRequest) => managed.batches.retrieve(principalOf(request), request.params.batch_id));
      app.post(`${base}/:batch_id/cancel`, async (request: BatchRequest) => managed.batches.cancel(principalOf(request), request.params.batch_id));
    }
  },
};
