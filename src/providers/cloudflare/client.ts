/**
 * A `ProviderClient` for one Workers AI deployment: chat completions (plain and streamed) and
 * embeddings, translated to and from the model's native input and output. No batches (Portico's
 * engine runs them, `defaultBatchMode: 'emulate'`), files or responses. The URL and the key live
 * here; the translations are in their own modules, free of both.
 */
import { peekStream } from '../http/stream-peek.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { translateChatRequest } from './chat-request.ts';
import { translateResultToChatCompletion } from './chat-response.ts';
import { parseWorkersAiStream, translateWorkersAiStream } from './chat-stream.ts';
import { translateEmbeddingsRequest, translateEmbeddingsResult } from './embeddings.ts';
import { cloudflareErrorToUpstreamError } from './errors.ts';
import { modelUrlOf, readResult, sendWorkersAiRequest, type WorkersAiEndpoint } from './http-client.ts';
import { isRecord } from './json.ts';
import type { CloudflareSettings } from './settings.ts';
import { estimatedTokens, promptCharsOf } from '../../spec/text-tokens.ts';
import type { WorkersAiChatResult } from './wire-types.ts';

export function createCloudflareClient(deployment: Deployment, settings: CloudflareSettings): ProviderClient {
  const model = deployment.upstreamModel;
  const endpoint: WorkersAiEndpoint = {
    modelUrl: modelUrlOf(settings.runUrlPrefix, model),
    apiKey: settings.apiKey,
    timeoutMs: deployment.timeoutMs,
    deploymentId: deployment.id,
  };

  return {
    deployment,
    batchLineModel: model,

    async chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { input, warnings } = translateChatRequest(body, { stream: false });
      const response = await sendWorkersAiRequest(endpoint, {
        what: 'chat completion request',
        body: JSON.stringify(input),
        signal: options?.signal,
        totalDeadline: true,
      });
      const result = await readResult(response, endpoint, 'chat completion request');
      return {
        status: 200,
        body: translateResultToChatCompletion(result as WorkersAiChatResult, { created: nowSeconds(), model, estimatedPromptTokens: estimatedTokens(promptCharsOf(body)) }),
        upstreamRequestId: response.upstreamRequestId,
        warnings,
      };
    },

    async chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
      const { input, warnings } = translateChatRequest(body, { stream: true });
      const response = await sendWorkersAiRequest(endpoint, {
        what: 'streamed chat completion request',
        body: JSON.stringify(input),
        accept: 'text/event-stream',
        signal: options?.signal,
        totalDeadline: false,
      });
      // The first event is read here: an error before any content is thrown while routing can
      // still retry or fall back, before a byte reaches the client.
      const items = await peekStream(parseWorkersAiStream(response.body), {
        upstreamName: 'Workers AI',
        errorOf: (item) => (item.type === 'error' ? cloudflareErrorToUpstreamError({ body: item.body, deploymentId: deployment.id }) : null),
      });
      const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return {
        status: 200,
        body: translateWorkersAiStream(items, {
          created: nowSeconds(),
          model,
          includeUsage,
          estimatedPromptTokens: estimatedTokens(promptCharsOf(body)),
          deploymentId: deployment.id,
        }),
        upstreamRequestId: response.upstreamRequestId,
        warnings,
      };
    },

    async embeddings(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
      const { input, base64, estimatedPromptTokens: promptTokens, warnings } = translateEmbeddingsRequest(body);
      const response = await sendWorkersAiRequest(endpoint, {
        what: 'embeddings request',
        body: JSON.stringify(input),
        signal: options?.signal,
        totalDeadline: true,
      });
      const result = await readResult(response, endpoint, 'embeddings request');
      const list = translateEmbeddingsResult(result, { model, base64, estimatedPromptTokens: promptTokens });
      if (list === null) {
        throw badUpstreamResponse(`Cloudflare Workers AI answered the embeddings request with something that is not embeddings (is ${model} an embedding model?).`, { deploymentId: deployment.id, isRetryable: false });
      }
      return { status: 200, body: list, upstreamRequestId: response.upstreamRequestId, warnings };
    },
  };
}



function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
