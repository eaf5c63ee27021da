/**
 * A `ProviderClient` for one Anthropic deployment: chat completions (plain and streamed)
 * translated to and from the Messages API, the Messages API itself passed through
 * (`messages-passthrough.ts`), and native Message Batches. No embeddings,
 * responses or files: Anthropic has no such endpoints.
 */
import { peekStream } from '../http/stream-peek.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { createAnthropicBatches } from './batches.ts';
import { DEFAULT_MAX_TOKENS, translateChatRequest, type ChatRequestTranslationOptions } from './chat-request.ts';
import { translateMessageToChatCompletion } from './chat-response.ts';
import { parseAnthropicStreamEvents, translateAnthropicStream } from './chat-stream.ts';
import { anthropicErrorToUpstreamError } from './errors.ts';
import { readJson, sendAnthropicRequest, type AnthropicEndpoint } from './http-client.ts';
import type { AnthropicSettings } from './settings.ts';
import { passCountTokens, passMessages, passMessagesStream } from './messages-passthrough.ts';
import { isRecord } from './json.ts';
import type { TranslationWarning } from './warnings.ts';
import type { AnthropicMessage } from './wire-types.ts';

const MESSAGES_PATH = '/v1/messages';

/** Results carry what the translation dropped or clamped (see `warnings.ts`). */
export type AnthropicJsonResponse = UpstreamJsonResponse & { warnings: TranslationWarning[] };
export type AnthropicStream = UpstreamStream & { warnings: TranslationWarning[] };

export function createAnthropicClient(deployment: Deployment, settings: AnthropicSettings): ProviderClient {
  const endpoint = endpointOf(deployment, settings);
  const translation: ChatRequestTranslationOptions = {
    model: deployment.upstreamModel,
    defaultMaxTokens: settings.defaultMaxTokens ?? DEFAULT_MAX_TOKENS,
    modifyParams: deployment.modifyParams ?? false,
  };

  return {
    deployment,
    batchLineModel: deployment.upstreamModel,
    batches: createAnthropicBatches(endpoint, translation),
    anthropicMessages: (request, options) => passMessages(endpoint, deployment.upstreamModel, request, options),
    anthropicMessagesStream: (request, options) => passMessagesStream(endpoint, deployment.upstreamModel, request, options),
    anthropicCountTokens: (request, options) => passCountTokens(endpoint, deployment.upstreamModel, request, options),

    async chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<AnthropicJsonResponse> {
      const { params, warnings } = translateChatRequest(body, translation);
      const response = await sendAnthropicRequest(endpoint, {
        method: 'POST',
        target: MESSAGES_PATH,
        what: 'chat completion request',
        body: JSON.stringify(params),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const message = messageOf(await readJson(response, endpoint, 'chat completion request'), deployment.id);
      return {
        status: 200,
        body: translateMessageToChatCompletion(message, { created: nowSeconds(), fallbackModel: deployment.upstreamModel }),
        upstreamRequestId: response.upstreamRequestId,
        warnings,
      };
    },

    async chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<AnthropicStream> {
      const { params, warnings } = translateChatRequest(body, translation);
      const response = await sendAnthropicRequest(endpoint, {
        method: 'POST',
        target: MESSAGES_PATH,
        what: 'streamed chat completion request',
        body: JSON.stringify({ ...params, stream: true }),
        accept: 'text/event-stream',
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: false,
      });
      // The first event is read here: an error before any content (e.g. overloaded) is thrown
      // while routing can still retry or fall back, before a byte reaches the client.
      const events = await peekStream(parseAnthropicStreamEvents(response.body), {
        upstreamName: 'Anthropic',
        skip: (event) => event.type === 'ping',
        errorOf: (event) => (event.type === 'error' ? anthropicErrorToUpstreamError({ body: event, deploymentId: deployment.id }) : null),
      });
      const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return {
        status: 200,
        body: translateAnthropicStream(events, {
          created: nowSeconds(),
          fallbackModel: deployment.upstreamModel,
          includeUsage,
          deploymentId: deployment.id,
        }),
        upstreamRequestId: response.upstreamRequestId,
        warnings,
      };
    },
  };
}

export function endpointOf(deployment: Deployment, settings: AnthropicSettings): AnthropicEndpoint {
  return {
    apiBase: settings.apiBase,
    apiKey: settings.apiKey,
    timeoutMs: deployment.timeoutMs,
    deploymentId: deployment.id,
    extraHeaders: settings.extraHeaders,
  };
}



function messageOf(body: unknown, deploymentId: string): AnthropicMessage {
  if (!isRecord(body) || typeof body.id !== 'string') {
    throw badUpstreamResponse('Anthropic answered with something that is not a message.', { deploymentId, isRetryable: true });
  }
  return body as unknown as AnthropicMessage;
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
