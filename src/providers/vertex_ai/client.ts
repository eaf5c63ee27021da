/**
 * A `ProviderClient` for one Vertex AI deployment. The model's publisher decides the API:
 * Claude models (`claude-...@date`) are Anthropic's, served through `rawPredict` with the
 * Anthropic translations (`claude-models.ts`); every other model is Google's, served through
 * `generateContent` with the Gemini translations (`gemini-models.ts`). URLs, the project and
 * location, and the OAuth token live here; the translations know none of them.
 */
import type { Deployment, ProviderClient } from '../../spec/provider.ts';
import { DEFAULT_MAX_TOKENS } from '../anthropic/chat-request.ts';
import { bearerTokenAuth } from '../http/token-cache.ts';
import { accessTokenFetcherOf, createAccessTokenCache } from './access-token.ts';
import { createVertexBatches } from './batches.ts';
import { claudeModelMethods } from './claude-models.ts';
import { googleModelMethods } from './gemini-models.ts';
import type { VertexEndpoint } from './http-client.ts';
import type { VertexSettings } from './settings.ts';

/** The Vertex AI REST version Portico speaks. */
export const VERTEX_API_VERSION = 'v1';

export type VertexPublisher = 'google' | 'anthropic';

/** Claude models are Anthropic's; the rest Google's. */
export function publisherOf(model: string): VertexPublisher {
  return /^claude-/i.test(model) ? 'anthropic' : 'google';
}

/** `/v1/projects/{project}/locations/{location}` */
export function locationPath(settings: Pick<VertexSettings, 'project' | 'location'>): string {
  return `/${VERTEX_API_VERSION}/projects/${encodeURIComponent(settings.project)}/locations/${encodeURIComponent(settings.location)}`;
}

/** A model id in a URL path: `@` (Claude's version separator) stays as Google writes it. */
export function modelSegment(model: string): string {
  return encodeURIComponent(model).replace(/%40/g, '@');
}

export function createVertexClient(deployment: Deployment, settings: VertexSettings): ProviderClient {
  // One token cache per deployment, shared by Vertex AI and Cloud Storage requests.
  const auth = bearerTokenAuth(createAccessTokenCache(accessTokenFetcherOf(settings.credentials)));
  const endpoint: VertexEndpoint = { apiRoot: settings.apiRoot, timeoutMs: deployment.timeoutMs, deploymentId: deployment.id, upstreamName: 'Vertex AI', auth };
  const model = deployment.upstreamModel;
  const publisher = publisherOf(model);
  const modelPath = `${locationPath(settings)}/publishers/${publisher}/models/${modelSegment(model)}`;

  if (publisher === 'anthropic') {
    const methods = claudeModelMethods(
      endpoint,
      { model, defaultMaxTokens: settings.defaultMaxTokens ?? DEFAULT_MAX_TOKENS, modifyParams: deployment.modifyParams ?? false },
      modelPath,
    );
    return { deployment, batchLineModel: model, ...methods };
  }
  const methods = googleModelMethods(endpoint, model, modelPath);
  const batches =
    settings.staging === undefined
      ? undefined
      : createVertexBatches(endpoint, {
          model,
          locationPath: locationPath(settings),
          staging: settings.staging,
          storage: { ...endpoint, apiRoot: settings.gcsApiRoot, upstreamName: 'Cloud Storage' },
        });
  return { deployment, batchLineModel: model, ...methods, ...(batches !== undefined && { batches }) };
}
