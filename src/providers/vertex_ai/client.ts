/**
 * A `ProviderClient` for one Vertex AI deployment. The model's publisher decides the API:
 * Claude models (`claude-...@date`) are Anthropic's, served through `rawPredict` with the
 * Anthropic translations (`claude-models.ts`); every other model is Google's, served through
 * `generateContent` with the Gemini translations (`gemini-models.ts`). Batches of both run as
 * batch prediction jobs (`batches.ts`), each family writing its own lines (`batch-family.ts`);
 * those of embedding models run on Portico's engine.
 * URLs, the project and location, and the OAuth token live here; the translations know none of them.
 */
import type { Deployment, ProviderClient, StagedBatchesCapability } from '../../spec/provider.ts';
import { DEFAULT_MAX_TOKENS } from '../anthropic/chat-request.ts';
import { isEmbeddingModel } from '../gemini/embedding-models.ts';
import { bearerTokenAuth } from '../http/token-cache.ts';
import { accessTokenFetcherOf, createAccessTokenCache } from './access-token.ts';
import type { VertexBatchFamily } from './batch-family.ts';
import { createVertexBatches } from './batches.ts';
import { claudeBatchFamily } from './claude-batch-family.ts';
import { claudeModelMethods } from './claude-models.ts';
import { geminiBatchFamily } from './gemini-batch-family.ts';
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
    const translation = { model, defaultMaxTokens: settings.defaultMaxTokens ?? DEFAULT_MAX_TOKENS, modifyParams: deployment.modifyParams ?? false };
    const methods = claudeModelMethods(endpoint, translation, modelPath);
    const batches = batchesOf(endpoint, settings, model, claudeBatchFamily(translation));
    return { deployment, batchLineModel: model, ...methods, ...(batches !== undefined && { batches }) };
  }
  const methods = googleModelMethods(endpoint, model, modelPath);
  // An embedding model's batches run on Portico's engine: the jobs Portico stages take chat lines only (`gemini/embedding-models.ts`).
  const batches = isEmbeddingModel(model) ? undefined : batchesOf(endpoint, settings, model, geminiBatchFamily);
  return { deployment, batchLineModel: model, ...methods, ...(batches !== undefined && { batches }) };
}

/** Batch prediction jobs staged in the configured bucket; none (Portico's engine runs the batches) without one. */
function batchesOf(endpoint: VertexEndpoint, settings: VertexSettings, model: string, family: VertexBatchFamily): StagedBatchesCapability | undefined {
  if (settings.staging === undefined) return undefined;
  return createVertexBatches(endpoint, {
    model,
    family,
    locationPath: locationPath(settings),
    staging: settings.staging,
    storage: { ...endpoint, apiRoot: settings.gcsApiRoot, upstreamName: 'Cloud Storage' },
  });
}
