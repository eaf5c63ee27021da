/**
 * Anthropic's Claude models on Vertex AI (`publishers/anthropic/models/{model}`): the Anthropic
 * translations as they are, with Vertex's differences
 * (https://docs.anthropic.com/en/api/claude-on-vertex-ai, `docs/specs/vertex-ai.md` §Claude):
 * the model is named by the URL (`:rawPredict`, `:streamRawPredict`), not by the body;
 * the body carries `anthropic_version: "vertex-2023-10-16"` instead of the `anthropic-version`
 * header; auth is Google's bearer token, not `x-api-key`. A Messages request (`/v1/messages`) is
 * passed through the same way (the client's `anthropic-beta` is not sent: Vertex takes betas its own way).
 */
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { translateChatRequest, type ChatRequestTranslationOptions } from '../anthropic/chat-request.ts';
import { translateMessageToChatCompletion } from '../anthropic/chat-response.ts';
import { parseAnthropicStreamEvents, translateAnthropicStream } from '../anthropic/chat-stream.ts';
import { anthropicErrorToUpstreamError } from '../anthropic/errors.ts';
import type { AnthropicMessage, AnthropicMessageParams } from '../anthropic/wire-types.ts';
import { isRecord } from '../gemini/json.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { readVertexJson, sendClaudeRequest, type VertexEndpoint } from './http-client.ts';
import { peekStream } from '../http/stream-peek.ts';
import { withFirstEventChecked } from '../anthropic/messages-passthrough.ts';
import type { AnthropicMessagesRequest } from '../../spec/anthropic-messages.ts';

/** The version Claude on Vertex takes in the body. */
export const VERTEX_ANTHROPIC_VERSION = 'vertex-2023-10-16';

export interface ClaudeModelMethods {
  chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse>;
  chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream>;
  /** Anthropic's Messages API passed through (`/v1/messages`): the client's body less `model`, Vertex's version in it. */
  anthropicMessages(request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamJsonResponse>;
  anthropicMessagesStream(request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamStream>;
}

/** The Messages API params as Vertex takes them: no `model`, the version in the body. */
export function vertexClaudeBody(params: AnthropicMessageParams, stream: boolean): Record<string, unknown> {
  const { model: _model, ...rest } = params as AnthropicMessageParams & { model?: string };
  return { anthropic_version: VERTEX_ANTHROPIC_VERSION, ...rest, ...(stream && { stream: true }) };
}

/** `modelPath`: `/v1/projects/{p}/locations/{l}/publishers/anthropic/models/{model}`. */
export function claudeModelMethods(endpoint: VertexEndpoint, translation: ChatRequestTranslationOptions, modelPath: string): ClaudeModelMethods {
  const model = translation.model;
  return {
    async chatCompletions(body, options) {
      const { params, warnings } = translateChatRequest(body, translation);
      const response = await sendClaudeRequest(endpoint, {
        target: `${modelPath}:rawPredict`,
        what: 'chat completion request',
        body: JSON.stringify(vertexClaudeBody(params, false)),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      const message = await readVertexJson(response, endpoint, 'chat completion request');
      if (!isRecord(message) || typeof message.id !== 'string') {
        throw badUpstreamResponse('Vertex AI answered with something that is not a Claude message.', { deploymentId: endpoint.deploymentId, isRetryable: true });
      }
      return { status: 200, body: translateMessageToChatCompletion(message as unknown as AnthropicMessage, { created: nowSeconds(), fallbackModel: model }), warnings };
    },

    async anthropicMessages(request, options) {
      const response = await sendClaudeRequest(endpoint, {
        target: `${modelPath}:rawPredict`,
        what: 'messages request',
        body: JSON.stringify(vertexClaudeBody({ ...request.body, stream: undefined } as unknown as AnthropicMessageParams, false)),
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: true,
      });
      return { status: 200, body: await readVertexJson(response, endpoint, 'messages request') };
    },

    async anthropicMessagesStream(request, options) {
      const response = await sendClaudeRequest(endpoint, {
        target: `${modelPath}:streamRawPredict`,
        what: 'streamed messages request',
        body: JSON.stringify(vertexClaudeBody(request.body as unknown as AnthropicMessageParams, true)),
        accept: 'text/event-stream',
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: false,
      });
      return { status: 200, body: await withFirstEventChecked(response.body, endpoint.deploymentId) };
    },

    async chatCompletionsStream(body, options) {
      const { params, warnings } = translateChatRequest(body, translation);
      const response = await sendClaudeRequest(endpoint, {
        target: `${modelPath}:streamRawPredict`,
        what: 'streamed chat completion request',
        body: JSON.stringify(vertexClaudeBody(params, true)),
        accept: 'text/event-stream',
        signal: options?.signal,
        requestId: options?.requestId,
        totalDeadline: false,
      });
      const events = await peekStream(parseAnthropicStreamEvents(response.body), {
        upstreamName: endpoint.upstreamName,
        skip: (event) => event.type === 'ping',
        errorOf: (event) => (event.type === 'error' ? anthropicErrorToUpstreamError({ body: event, deploymentId: endpoint.deploymentId }) : null),
      });
      const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
      return { status: 200, body: translateAnthropicStream(events, { created: nowSeconds(), fallbackModel: model, includeUsage, deploymentId: endpoint.deploymentId }), warnings };
    },
  };
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
