/**
 * The Responses API's calls on a stored response, as the OpenAI SDKs make them
 * (`client.responses.retrieve`, `.delete`, `.cancel`, `.inputItems.list`): `GET` and `DELETE
 * /v1/responses/{id}`, `GET /v1/responses/{id}/input_items`, `POST /v1/responses/{id}/cancel`
 * (and without `/v1`). The id is the gateway's (`managed/responses/`); the handlers only translate
 * HTTP to it. Creating a response is a model route (`inference.ts`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { redactorFor } from '../../config/secret-redactor.ts';
import type { OwnedResponses } from '../../managed/responses/owned-responses.ts';
import type { UpstreamJsonResponse } from '../../spec/provider.ts';
import { principalOf } from '../request-context.ts';
import type { RouteModule } from '../services.ts';
import { relayServerSentEvents } from '../sse-relay.ts';
import { abortSignalOnClientClose } from '../upstream-call.ts';
import { withAndWithoutV1 } from './paths.ts';

type ResponseRequest = FastifyRequest<{ Params: { response_id: string } }>;

/** OpenAI's query parameters of a retrieval (`stream` is read by the route). */
const RETRIEVE_PARAMETERS = new Set(['include', 'include[]', 'starting_after', 'include_obfuscation']);
/** ... and of the input-items list. */
const INPUT_ITEMS_PARAMETERS = new Set(['include', 'include[]', 'after', 'limit', 'order']);

/** The request's query parameters among `allowed`, repeated ones kept (`include[]=a&include[]=b`). */
function passedQuery(request: FastifyRequest, allowed: ReadonlySet<string>): URLSearchParams {
  const url = request.raw.url ?? '';
  const at = url.indexOf('?');
  const passed = new URLSearchParams();
  if (at === -1) return passed;
  for (const [name, value] of new URLSearchParams(url.slice(at + 1))) if (allowed.has(name)) passed.append(name, value);
  return passed;
}

function send(reply: FastifyReply, answer: UpstreamJsonResponse): FastifyReply {
  return reply.code(answer.status).send(answer.body);
}

export const responseRoutes: RouteModule = {
  name: 'responses',
  register(app, services) {
    const owned: OwnedResponses | undefined = services.ownedResponses;
    if (owned === undefined) return;
    const redact = redactorFor(services.config);
    const callOf = (request: FastifyRequest, reply: FastifyReply) => ({ requestId: request.id, signal: abortSignalOnClientClose(reply) });
    for (const base of withAndWithoutV1('/responses')) {
      app.get(`${base}/:response_id`, async (request: ResponseRequest, reply) => {
        const query = passedQuery(request, RETRIEVE_PARAMETERS);
        const stream = new URLSearchParams((request.raw.url ?? '').split('?')[1] ?? '').get('stream');
        if (stream === 'true') {
          const upstream = await owned.retrieveStream(principalOf(request), request.params.response_id, query, callOf(request, reply));
          await relayServerSentEvents(request, reply, upstream, { logger: services.logger, redact });
          return reply;
        }
        return send(reply, await owned.retrieve(principalOf(request), request.params.response_id, query, callOf(request, reply)));
      });
      app.delete(`${base}/:response_id`, async (request: ResponseRequest, reply) =>
        send(reply, await owned.delete(principalOf(request), request.params.response_id, callOf(request, reply))),
      );
      app.get(`${base}/:response_id/input_items`, async (request: ResponseRequest, reply) =>
        send(reply, await owned.inputItems(principalOf(request), request.params.response_id, passedQuery(request, INPUT_ITEMS_PARAMETERS), callOf(request, reply))),
      );
      app.post(`${base}/:response_id/cancel`, async (request: ResponseRequest, reply) =>
        send(reply, await owned.cancel(principalOf(request), request.params.response_id, callOf(request, reply))),
      );
    }
  },
};
