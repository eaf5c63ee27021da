/**
 * The model routes: `POST /v1/chat/completions`, `POST /v1/embeddings`, `POST /v1/responses`,
 * `POST /v1/rerank`, ... (and without `/v1`, and rerank's `/v2/rerank`), one per live entry of the
 * endpoint table (`spec/endpoints.ts`).
 */
import { ROUTE_ENDPOINTS, unsupportedEndpoint } from '../../spec/endpoints.ts';
import type { RouteModule } from '../services.ts';
import { registerModelProxyRoute } from './model-proxy.ts';

export const inferenceRoutes: RouteModule = {
  name: 'inference',
  register(app, services) {
    for (const endpoint of ROUTE_ENDPOINTS) {
      const { call, stream } = endpoint;
      registerModelProxyRoute(app, services, {
        path: endpoint.path,
        extraPaths: endpoint.extraPaths,
        body: endpoint.body,
        call: (client, body, options) => call(client, body, options) ?? unsupportedEndpoint(client, endpoint.url),
        ...(endpoint.storesAnswers === true && services.ownedResponses !== undefined && { storedAnswers: services.ownedResponses }),
        ...(endpoint.namesFiles === true && services.managed !== undefined && { fileReferences: services.managed.fileReferences }),
        stream:
          stream === undefined ? undefined : (client, body, options) => stream(client, body, options) ?? unsupportedEndpoint(client, endpoint.url),
      });
    }
  },
};
