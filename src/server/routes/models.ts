/**
 * `GET /v1/models` and `GET /v1/models/{model}` (OpenAI's list and retrieve shapes): only the
 * model groups the caller's key may use.
 */
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../spec/errors.ts';
import { echoName, mayUse, usableModelGroups } from '../model-access.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { withAndWithoutV1 } from './paths.ts';

interface OpenAIModel {
  id: string;
  object: 'model';
  created: number;
  owned_by: string;
}

function modelObject(id: string, services: AppServices): OpenAIModel {
  return { id, object: 'model', created: services.startedAt, owned_by: 'portico' };
}

export const modelRoutes: RouteModule = {
  name: 'models',
  register(app, services) {
    for (const url of withAndWithoutV1('/models')) {
      app.get(url, async (request) => ({
        object: 'list',
        data: usableModelGroups(services.router, principalOf(request)).map((id) => modelObject(id, services)),
      }));
      // Model group names may contain `/` (`openai/gpt-4o`), hence the wildcard.
      app.get(`${url}/*`, async (request: FastifyRequest<{ Params: { '*': string } }>) => {
        const id = request.params['*'];
        // Any name the caller could send is retrievable (a wildcard route serves more than it lists).
        if (!services.router.hasModelGroup(id) || !mayUse(services.router, principalOf(request), id)) {
          throw new NotFoundError(`The model \`${echoName(id)}\` does not exist or you do not have access to it.`, {
            param: 'model',
            code: 'model_not_found',
          });
        }
        return modelObject(id, services);
      });
    }
  },
};
