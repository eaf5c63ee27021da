/**
 * Anthropic's Messages API passed through (`/v1/messages` of Anthropic's SDKs, through Portico):
 * the client's body with the deployment's model, its `anthropic-beta` joined to the deployment's,
 * and Anthropic's answer as it came (JSON, or the event stream byte for byte). Errors are thrown
 * as for every Anthropic call (`http-client.ts`); the route renders them in Anthropic's shape.
 */
import type { AnthropicMessagesRequest } from '../../spec/anthropic-messages.ts';
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { readJson, sendAnthropicRequest, type AnthropicEndpoint } from './http-client.ts';
import { checkedFirstEvent, firstDataPayload } from '../http/sse.ts';
import { anthropicErrorToUpstreamError } from './errors.ts';

const MESSAGES_PATH = '/v1/messages';
const COUNT_TOKENS_PATH = '/v1/messages/count_tokens';

function upstreamBody(request: AnthropicMessagesRequest, model: string, stream: boolean): string {
  return JSON.stringify({ ...request.body, model, ...(stream ? { stream: true } : { stream: undefined }) });
}

export async function passMessages(endpoint: AnthropicEndpoint, model: string, request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamJsonResponse> {
  const response = await sendAnthropicRequest(endpoint, {
    method: 'POST',
    target: MESSAGES_PATH,
    what: 'messages request',
    body: upstreamBody(request, model, false),
    signal: options?.signal,
    requestId: options?.requestId,
    ...(request.beta !== undefined && { beta: request.beta }),
    totalDeadline: true,
  });
  return { status: response.status, body: await readJson(response, endpoint, 'messages request'), upstreamRequestId: response.upstreamRequestId };
}

export async function passMessagesStream(endpoint: AnthropicEndpoint, model: string, request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamStream> {
  const response = await sendAnthropicRequest(endpoint, {
    method: 'POST',
    target: MESSAGES_PATH,
    what: 'streamed messages request',
    body: upstreamBody(request, model, true),
    accept: 'text/event-stream',
    signal: options?.signal,
    requestId: options?.requestId,
    ...(request.beta !== undefined && { beta: request.beta }),
    totalDeadline: false,
  });
  return { status: response.status, body: await withFirstEventChecked(response.body, endpoint.deploymentId), upstreamRequestId: response.upstreamRequestId };
}

/**
 * A Messages event stream to relay as it came, once its first event is known not to be an error:
 * Anthropic may send one there (an `overloaded_error` under load,
 * https://docs.anthropic.com/en/api/messages-streaming#error-events), thrown here while the router
 * can still retry or fall back, before a byte reaches the client. Then replayed as read. Claude on
 * Vertex AI streams the same events (`vertex_ai/claude-models.ts`).
 */
export function withFirstEventChecked(body: AsyncIterable<Uint8Array>, deploymentId: string): Promise<AsyncIterableIterator<Uint8Array>> {
  return checkedFirstEvent(body, (firstEventText) => {
    const failure = errorEventOf(firstEventText);
    return failure === undefined ? undefined : anthropicErrorToUpstreamError({ body: failure, deploymentId });
  });
}

/** The body of an `error` event (`{"type": "error", "error": {...}}`), if the event is one. */
function errorEventOf(eventText: string): unknown {
  const data = firstDataPayload(eventText);
  if (data === undefined || !data.includes('"error"')) return undefined;
  try {
    const parsed = JSON.parse(data) as { type?: unknown };
    return parsed !== null && typeof parsed === 'object' && parsed.type === 'error' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Anthropic's own count of a Messages request's input tokens. */
export async function passCountTokens(endpoint: AnthropicEndpoint, model: string, request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamJsonResponse> {
  const response = await sendAnthropicRequest(endpoint, {
    method: 'POST',
    target: COUNT_TOKENS_PATH,
    what: 'token count request',
    body: JSON.stringify({ ...request.body, model }),
    signal: options?.signal,
    requestId: options?.requestId,
    ...(request.beta !== undefined && { beta: request.beta }),
    totalDeadline: true,
  });
  return { status: response.status, body: await readJson(response, endpoint, 'token count request'), upstreamRequestId: response.upstreamRequestId };
}
