/**
 * Anthropic's Messages API passed through to Claude on Bedrock (`/v1/messages`), as LiteLLM's
 * proxy does it: InvokeModel with the client's body as Bedrock takes it (its version in the body,
 * no `model`, no `stream`, no `metadata`: not among Bedrock's Claude fields; the client's
 * `anthropic-beta` as `anthropic_beta`), and the answer as Anthropic's. A stream
 * (`invoke-with-response-stream`) comes in AWS event-stream framing, each `chunk` event carrying
 * one of Anthropic's events as base64 JSON: relayed as Anthropic's server-sent events.
 * (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-anthropic-claude-messages.html,
 * https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModelWithResponseStream.html)
 */
import type { AnthropicMessagesRequest } from '../../spec/anthropic-messages.ts';
import type { CallOptions, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { withFirstEventChecked } from '../anthropic/messages-passthrough.ts';
import { headerValue } from '../http/request.ts';
import { BEDROCK_ANTHROPIC_VERSION } from './claude-body.ts';
import { streamErrorOf } from './converse-stream.ts';
import { decodeEventStream } from './event-stream.ts';
import { readBedrockJson, sendBedrockRequest, type BedrockEndpoint } from './http-client.ts';

function invokeBody(request: AnthropicMessagesRequest): string {
  const { model: _model, stream: _stream, metadata: _metadata, ...rest } = request.body;
  const betas = request.beta?.split(',').map((feature) => feature.trim()).filter((feature) => feature !== '');
  return JSON.stringify({ anthropic_version: BEDROCK_ANTHROPIC_VERSION, ...rest, ...(betas !== undefined && betas.length > 0 && { anthropic_beta: betas }) });
}

export async function bedrockClaudeMessages(runtime: BedrockEndpoint, path: string, request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamJsonResponse> {
  const response = await sendBedrockRequest(runtime, { method: 'POST', target: `${path}/invoke`, what: 'messages request', body: invokeBody(request), signal: options?.signal, requestId: options?.requestId, totalDeadline: true });
  const requestId = headerValue(response.headers, 'x-amzn-requestid');
  return { status: 200, body: await readBedrockJson(response, runtime, 'messages request'), ...(requestId !== undefined && { upstreamRequestId: requestId }) };
}

export async function bedrockClaudeMessagesStream(runtime: BedrockEndpoint, path: string, request: AnthropicMessagesRequest, options?: CallOptions): Promise<UpstreamStream> {
  const response = await sendBedrockRequest(runtime, {
    method: 'POST',
    target: `${path}/invoke-with-response-stream`,
    what: 'streamed messages request',
    body: invokeBody(request),
    accept: 'application/vnd.amazon.eventstream',
    signal: options?.signal,
    requestId: options?.requestId,
    totalDeadline: false,
  });
  const requestId = headerValue(response.headers, 'x-amzn-requestid');
  return { status: 200, body: await withFirstEventChecked(anthropicEventsOf(response.body, runtime), runtime.deploymentId), ...(requestId !== undefined && { upstreamRequestId: requestId }) };
}

/** The event stream's `chunk`s as Anthropic's server-sent events; an exception message is thrown as its error. */
async function* anthropicEventsOf(body: AsyncIterable<Uint8Array>, runtime: BedrockEndpoint): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for await (const message of decodeEventStream(body, runtime.upstreamName)) {
    const failure = streamErrorOf(message, runtime.deploymentId);
    if (failure !== null) throw failure;
    const bytes = (message.payload as { bytes?: unknown } | null)?.bytes;
    if (message.type !== 'chunk' || typeof bytes !== 'string') continue;
    const json = Buffer.from(bytes, 'base64').toString('utf8');
    let type = 'message';
    try {
      const parsed = JSON.parse(json) as { type?: unknown };
      if (typeof parsed.type === 'string') type = parsed.type;
    } catch {
      continue;
    }
    yield encoder.encode(`event: ${type}\ndata: ${json}\n\n`);
  }
}
