/**
 * A `ProviderClient` for one Cohere deployment: chat completions (plain and streamed), embeddings
 * and rerank translated to and from Cohere's v2 API (`/v2/chat`, `/v2/embed`, `/v2/rerank`). No
 * files or batches: Cohere has no OpenAI-style batch API for chat, so batches run on Portico's
 * engine (`defaultBatchMode: 'emulate'`). The URLs and the key live here; the translations are in their
 * own modules, free of both.
 */
import { peekStream } from '../http/stream-peek.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { billedSearchesOf } from '../../spec/rerank.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { FAILED_GENERATION, generationError, translateChatResponse } from './chat-response.ts';
import { translateChatRequest } from './chat-request.ts';
import { parseCohereStreamEvents, translateCohereStream } from './chat-stream.ts';
import { embeddingListOf, embedResponseOf, translateEmbeddingsRequest } from './embeddings.ts';
import { cohereErrorToUpstreamError } from './errors.ts';
import { readCohereJson, sendCohereRequest, type CohereEndpoint } from './http-client.ts';
import { isRecord } from './json.ts';
import { rerankResponseOf, translateRerankRequest, translateRerankResponse } from './rerank.ts';
import type { CohereSettings } from './settings.ts';
import type { CohereChatResponse } from './wire-types.ts';

const CHAT_PATH = '/v2/chat';
const EMBED_PATH = '/v2/embed';
const RERANK_PATH = '/v2/rerank';

export function createCohereClient(deployment: Deployment, settings: CohereSettings): ProviderClient {
  const endpoint: CohereEndpoint = {
    apiBase: settings.apiBase,
    apiKey: settings.apiKey,
    timeoutMs: deployment.timeoutMs,
    deploymentId: deployment.id,
    extraHeaders: settings.extraHeaders,
  };
  const model = deployment.upstreamModel;

  return {
    deployment,
    batchLineModel: model,

    async chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { request, warnings } = translateChatRequest(body, { model });
      const answer = await sendCohereRequest(endpoint, {
        path: CHAT_PATH,
        what: 'chat completion request',
        body: JSON.stringify(request),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const response = chatResponseOf(await readCohereJson(answer, endpoint, 'chat completion request'), deployment.id);
      if (response.finish_reason?.toUpperCase() === FAILED_GENERATION) throw generationError(undefined, deployment.id);
      return { status: 200, body: translateChatResponse(response, { created: nowSeconds(), model }), warnings };
    },

    async chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
      const { request, warnings } = translateChatRequest(body, { model });
      const answer = await sendCohereRequest(endpoint, {
        path: CHAT_PATH,
        what: 'streamed chat completion request',
        body: JSON.stringify({ ...request, stream: true }),
        accept: 'text/event-stream',
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: false,
      });
      // The first event is read here: an error before any content is thrown while routing can
      // still retry or fall back, before a byte reaches the client.
      const events = await peekStream(parseCohereStreamEvents(answer), {
        upstreamName: 'Cohere',
        errorOf: (event) => (event.type === 'error' ? cohereErrorToUpstreamError({ body: event, deploymentId: deployment.id }) : null),
      });
      const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return {
        status: 200,
        body: translateCohereStream(events, { created: nowSeconds(), model, includeUsage, deploymentId: deployment.id }),
        warnings,
      };
    },

    async embeddings(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { requests, base64, warnings } = translateEmbeddingsRequest(body, model);
      const answers: { vectors: number[][]; tokens: number }[] = [];
      // One after the other: a long input list is one client request, not a burst against the rate limit.
      for (const request of requests) {
        const answer = await sendCohereRequest(endpoint, {
          path: EMBED_PATH,
          what: 'embeddings request',
          body: JSON.stringify(request),
          signal: options?.signal,
          requestId: options?.requestId,
          totalDeadline: true,
        });
        const embedded = embedResponseOf(await readCohereJson(answer, endpoint, 'embeddings request'), request.texts.length);
        if (embedded === null) throw badUpstreamResponse('Cohere answered the embeddings request with something that is not an embed response with float embeddings.', { deploymentId: deployment.id, isRetryable: true });
        answers.push(embedded);
      }
      return { status: 200, body: embeddingListOf(answers, { model, base64 }), warnings };
    },

    async rerank(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { request, returned, warnings } = translateRerankRequest(body, model);
      const answer = await sendCohereRequest(endpoint, {
        path: RERANK_PATH,
        what: 'rerank request',
        body: JSON.stringify(request),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const response = rerankResponseOf(await readCohereJson(answer, endpoint, 'rerank request'));
      if (response === null) throw badUpstreamResponse('Cohere answered the rerank request with something that is not a rerank response.', { deploymentId: deployment.id, isRetryable: true });
      return { status: 200, body: translateRerankResponse(response, returned), warnings, billedQueries: billedSearchesOf(response) };
    },
  };
}



function chatResponseOf(body: unknown, deploymentId: string): CohereChatResponse {
  if (!isRecord(body) || typeof body.id !== 'string' || !isRecord(body.message)) {
    throw badUpstreamResponse('Cohere answered with something that is not a chat response.', { deploymentId, isRetryable: true });
  }
  return body as unknown as CohereChatResponse;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
