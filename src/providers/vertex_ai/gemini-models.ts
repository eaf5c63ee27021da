/**
 * Google's models on Vertex AI (`publishers/google/models/{model}`): chat completions through
 * `generateContent` and `streamGenerateContent?alt=sse`, with the Gemini API's translations as
 * they are (Vertex takes and answers the same `GenerateContentRequest` / `GenerateContentResponse`,
 * https://cloud.google.com/vertex-ai/generative-ai/docs/reference/rest/v1/projects.locations.publishers.models/generateContent),
 * and embeddings through `:predict` (`embeddings.ts`).
 */
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { translateChatRequest } from '../gemini/chat-request.ts';
import { translateGenerateContentResponse } from '../gemini/chat-response.ts';
import { parseGeminiStreamEvents, translateGeminiStream } from '../gemini/chat-stream.ts';
import { googleErrorToUpstreamError } from '../gemini/errors.ts';
import { isRecord } from '../gemini/json.ts';
import type { GeminiGenerateContentResponse } from '../gemini/wire-types.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { translateEmbeddingsRequest, translateEmbeddingsResponse } from './embeddings.ts';
import { readVertexJson, sendVertexRequest, type VertexEndpoint } from './http-client.ts';
import { peekStream } from '../http/stream-peek.ts';

export interface GoogleModelMethods {
  chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream>;
  embeddings(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
}

/** `modelPath`: `/v1/projects/{p}/locations/{l}/publishers/google/models/{model}`. */
export function googleModelMethods(endpoint: VertexEndpoint, model: string, modelPath: string): GoogleModelMethods {
  return {
    async chatCompletions(body, options) {
      const { request, warnings } = translateChatRequest(body);
      const response = await sendVertexRequest(endpoint, {
        method: 'POST',
        target: `${modelPath}:generateContent`,
        what: 'chat completion request',
        body: JSON.stringify(request),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const answer = await readVertexJson(response, endpoint, 'chat completion request');
      if (!isRecord(answer) || (!Array.isArray(answer.candidates) && !isRecord(answer.promptFeedback))) {
        throw badUpstreamResponse('Vertex AI answered with something that is not a GenerateContentResponse.', { deploymentId: endpoint.deploymentId, isRetryable: true });
      }
      return { status: 200, body: translateGenerateContentResponse(answer as GeminiGenerateContentResponse, { created: nowSeconds(), fallbackModel: model }), warnings };
    },

    async chatCompletionsStream(body, options) {
      const { request, warnings } = translateChatRequest(body);
      const response = await sendVertexRequest(endpoint, {
        method: 'POST',
        target: `${modelPath}:streamGenerateContent?alt=sse`,
        what: 'streamed chat completion request',
        body: JSON.stringify(request),
        accept: 'text/event-stream',
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: false,
      });
      const events = await peekStream(parseGeminiStreamEvents(response.body), {
        upstreamName: endpoint.upstreamName,
        errorOf: (event) => (event.type === 'error' ? googleErrorToUpstreamError({ body: event.body, deploymentId: endpoint.deploymentId, upstream: endpoint.upstreamName }) : null),
      });
      const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return { status: 200, body: translateGeminiStream(events, { created: nowSeconds(), fallbackModel: model, includeUsage, deploymentId: endpoint.deploymentId }), warnings };
    },

    async embeddings(body, options) {
      const { request, base64, warnings } = translateEmbeddingsRequest(body);
      const response = await sendVertexRequest(endpoint, {
        method: 'POST',
        target: `${modelPath}:predict`,
        what: 'embeddings request',
        body: JSON.stringify(request),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const list = translateEmbeddingsResponse(await readVertexJson(response, endpoint, 'embeddings request'), { model, base64 });
      if (list === null) throw badUpstreamResponse('Vertex AI answered the embeddings request with something that is not a text-embeddings prediction.', { deploymentId: endpoint.deploymentId, isRetryable: true });
      return { status: 200, body: list, warnings };
    },
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
