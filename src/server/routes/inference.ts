/**
 * `POST /v1/chat/completions`, `POST /v1/embeddings`, `POST /v1/responses` (and without `/v1`).
 * Only the fields Portico needs are validated; the rest goes upstream untouched.
 */
import { z } from 'zod';
import { CapabilityUnsupportedError } from '../../spec/errors.ts';
import type { ProviderClient } from '../../spec/provider.ts';
import type { RouteModule } from '../services.ts';
import { registerModelProxyRoute } from './model-proxy.ts';

const model = z.string().min(1);
const stream = z.boolean().nullish();

const chatCompletionsBody = z.looseObject({ model, messages: z.array(z.unknown()), stream });
const embeddingsBody = z.looseObject({ model, input: z.union([z.string(), z.array(z.unknown())]) });
const responsesBody = z.looseObject({ model, stream });

function unsupported(client: ProviderClient, endpoint: string): never {
  throw new CapabilityUnsupportedError(
    `The deployment \`${client.deployment.id}\` of model \`${client.deployment.modelGroup}\` does not support ${endpoint}.`,
  );
}

export const inferenceRoutes: RouteModule = {
  name: 'inference',
  register(app, services) {
    registerModelProxyRoute(app, services, {
      path: '/chat/completions',
      body: chatCompletionsBody,
      call: (client, body, options) => client.chatCompletions(body, options),
      stream: (client, body, options) => client.chatCompletionsStream(body, options),
    });
    registerModelProxyRoute(app, services, {
      path: '/embeddings',
      body: embeddingsBody,
      call: (client, body, options) => (client.embeddings ? client.embeddings(body, options) : unsupported(client, '/v1/embeddings')),
    });
    registerModelProxyRoute(app, services, {
      path: '/responses',
      body: responsesBody,
      call: (client, body, options) => (client.responses ? client.responses(body, options) : unsupported(client, '/v1/responses')),
      stream: (client, body, options) =>
        client.responsesStream ? client.responsesStream(body, options) : unsupported(client, '/v1/responses'),
    });
  },
};
