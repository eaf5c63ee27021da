/**
 * A `ProviderClient` for one Gemini API deployment: chat completions (plain and streamed) and
 * embeddings translated to and from `generateContent`, `streamGenerateContent` and
 * `batchEmbedContents`, and Gemini batch mode behind OpenAI's Batches API (`batches.ts`) for
 * chat models (an embedding model's batches run on Portico's engine).
 * The URLs and the API key live here; the translations are in their own modules, free of both.
 */
import { peekStream } from '../http/stream-peek.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { createGeminiBatches } from './batches.ts';
import { translateChatRequest } from './chat-request.ts';
import { translateGenerateContentResponse } from './chat-response.ts';
import { parseGeminiStreamEvents, translateGeminiStream } from './chat-stream.ts';
import { isEmbeddingModel } from './embedding-models.ts';
import { translateEmbeddingsRequest, translateEmbeddingsResponse } from './embeddings.ts';
import { googleErrorToUpstreamError } from './errors.ts';
import { readGoogleJson, sendGoogleRequest, type GoogleApiEndpoint } from './http-client.ts';
import { isRecord } from './json.ts';
import type { GeminiSettings } from './settings.ts';
import type { GeminiGenerateContentResponse } from './wire-types.ts';

/** The API version Portico speaks (https://ai.google.dev/gemini-api/docs/api-versions). */
export const GEMINI_API_VERSION = 'v1beta';

export function createGeminiClient(deployment: Deployment, settings: GeminiSettings): ProviderClient {
  const endpoint: GoogleApiEndpoint = {
    apiRoot: settings.apiRoot,
    timeoutMs: deployment.timeoutMs,
    deploymentId: deployment.id,
    upstreamName: 'Gemini',
    // https://ai.google.dev/api#authentication: the key in `x-goog-api-key`, never in the URL (logs keep URLs).
    headers: Object.freeze(settings.apiKey === undefined ? {} : { 'x-goog-api-key': settings.apiKey }) as Readonly<Record<string, string>>,
  };
  const model = deployment.upstreamModel;
  const modelPath = `/${GEMINI_API_VERSION}/models/${encodeURIComponent(model)}`;

  return {
    deployment,
    batchLineModel: model,
    // An embedding model's batches run on Portico's engine: batch mode as staged here takes chat lines only (`embedding-models.ts`).
    ...(!isEmbeddingModel(model) && { batches: createGeminiBatches(endpoint, { model, apiVersion: GEMINI_API_VERSION, inlineMaxBytes: settings.batchInlineMaxBytes }) }),

    async chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { request, warnings } = translateChatRequest(body);
      const response = await sendGoogleRequest(endpoint, {
        method: 'POST',
        target: `${modelPath}:generateContent`,
        what: 'chat completion request',
        body: JSON.stringify(request),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const answer = generateContentResponseOf(await readGoogleJson(response, endpoint, 'chat completion request'), deployment.id);
      return { status: 200, body: translateGenerateContentResponse(answer, { created: nowSeconds(), fallbackModel: model }), warnings };
    },

    async chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
      const { request, warnings } = translateChatRequest(body);
      const response = await sendGoogleRequest(endpoint, {
        method: 'POST',
        target: `${modelPath}:streamGenerateContent?alt=sse`,
        what: 'streamed chat completion request',
        body: JSON.stringify(request),
        accept: 'text/event-stream',
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: false,
      });
      // The first event is read here: an error before any content is thrown while routing can
      // still retry or fall back, before a byte reaches the client.
      const events = await peekStream(parseGeminiStreamEvents(response.body), {
        upstreamName: 'Gemini',
        errorOf: (event) => (event.type === 'error' ? googleErrorToUpstreamError({ body: event.body, deploymentId: deployment.id }) : null),
      });
      const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return {
        status: 200,
        body: translateGeminiStream(events, { created: nowSeconds(), fallbackModel: model, includeUsage, deploymentId: deployment.id }),
        warnings,
      };
    },

    async embeddings(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { request, base64, warnings } = translateEmbeddingsRequest(body, model);
      const response = await sendGoogleRequest(endpoint, {
        method: 'POST',
        target: `${modelPath}:batchEmbedContents`,
        what: 'embeddings request',
        body: JSON.stringify(request),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const list = translateEmbeddingsResponse(await readGoogleJson(response, endpoint, 'embeddings request'), { model, base64 });
      if (list === null) throw badUpstreamResponse('Gemini answered the embeddings request with something that is not a batchEmbedContents response.', { deploymentId: deployment.id, isRetryable: true });
      return { status: 200, body: list, warnings };
    },
  };
}



function generateContentResponseOf(body: unknown, deploymentId: string): GeminiGenerateContentResponse {
  if (!isRecord(body) || (!Array.isArray(body.candidates) && !isRecord(body.promptFeedback))) {
    throw badUpstreamResponse('Gemini answered with something that is not a GenerateContentResponse.', { deploymentId, isRetryable: true });
  }
  return body as GeminiGenerateContentResponse;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
