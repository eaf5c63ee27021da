/**
 * A `ProviderClient` for any OpenAI-shaped API, assembled from an `OpenAIApiConfig`.
 * OpenAI, Azure OpenAI and OpenAI-compatible servers are all this client with another config.
 */
import type { AudioUpload } from '../../spec/audio.ts';
import type { CallOptions, Deployment, ProviderClient } from '../../spec/provider.ts';
import type { OpenAIApiConfig } from './api-config.ts';
import { createFileBatchesCapability } from './batches.ts';
import type { CallContext } from './call.ts';
import { createFilesCapability } from './files.ts';
import * as inference from './inference.ts';
import * as audio from './audio.ts';
import { createStoredResponsesCapability } from './stored-responses.ts';

export function createOpenAIShapedClient(deployment: Deployment, config: OpenAIApiConfig): ProviderClient {
  const ctx: CallContext = { config, deploymentId: deployment.id };
  const files = config.supportsFiles ? createFilesCapability(ctx) : undefined;
  const batches = files && config.supportsBatches ? createFileBatchesCapability(ctx, files) : undefined;
  return Object.freeze({
    deployment,
    batchLineModel: config.upstreamModel,
    chatCompletions: (body, options) => inference.chatCompletions(ctx, body, options),
    chatCompletionsStream: (body, options) => inference.chatCompletionsStream(ctx, body, options),
    embeddings: (body, options) => inference.embeddings(ctx, body, options),
    responses: (body, options) => inference.responses(ctx, body, options),
    responsesStream: (body, options) => inference.responsesStream(ctx, body, options),
    storedResponses: createStoredResponsesCapability(ctx),
    completions: (body, options) => inference.completions(ctx, body, options),
    completionsStream: (body, options) => inference.completionsStream(ctx, body, options),
    ...(config.hasModerations !== false && { moderations: (body: Record<string, unknown>, options?: CallOptions) => inference.moderations(ctx, body, options) }),
    imageGenerations: (body, options) => inference.imageGenerations(ctx, body, options),
    ...(config.hasAudio !== false && {
      audioSpeech: (body: Record<string, unknown>, options?: CallOptions) => audio.speech(ctx, body, options),
      audioTranscriptions: (upload: AudioUpload, options?: CallOptions) => audio.transcriptions(ctx, upload, options),
      audioTranslations: (upload: AudioUpload, options?: CallOptions) => audio.translations(ctx, upload, options),
    }),
    files,
    batches,
  } satisfies ProviderClient);
}
