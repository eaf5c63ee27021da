/**
 * A `ProviderClient` for one Bedrock deployment: chat through Converse / ConverseStream,
 * embeddings through InvokeModel (Titan, Cohere), batches as model invocation jobs staged in S3
 * (`batches.ts`, when the deployment names a bucket and a role). URLs, the region and the
 * credentials live here; the translations know none of them.
 */
import { bedrockClaudeMessages, bedrockClaudeMessagesStream } from './claude-messages.ts';
import type { AnthropicMessagesRequest } from '../../spec/anthropic-messages.ts';
import { randomUUID } from 'node:crypto';
import { CapabilityUnsupportedError } from '../../spec/errors.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { badUpstreamResponse } from '../http/json-api.ts';
import { headerValue } from '../http/request.ts';
import { peekStream } from '../http/stream-peek.ts';
import { createBedrockBatches } from './batches.ts';
import { isClaudeModel } from './claude-body.ts';
import { isConverseResponse, translateConverseResponse } from './converse-response.ts';
import { translateConverseRequest } from './converse-request.ts';
import { streamErrorOf, translateConverseStream } from './converse-stream.ts';
import { createCredentialCache, credentialProviderOf } from './credentials.ts';
import { embeddingFamilyOf, embeddingList, translateEmbeddingsRequest, vectorsOfAnswer } from './embeddings.ts';
import { isRecord } from './errors.ts';
import { decodeEventStream } from './event-stream.ts';
import { readBedrockJson, sendBedrockRequest, type BedrockEndpoint } from './http-client.ts';
import { modelIdOf, type BedrockSettings } from './settings.ts';

/** Titan answers one input per request: this many run at once. */
const TITAN_CONCURRENCY = 8;

/** `/model/{modelId}`: the id percent-encoded as one path segment (`:` and an ARN's `/` too), as the SDK sends it. */
export function modelPath(modelId: string): string {
  return `/model/${encodeURIComponent(modelId)}`;
}

export function createBedrockClient(deployment: Deployment, settings: BedrockSettings): ProviderClient {
  const credentials = createCredentialCache(credentialProviderOf(settings.credentials, settings.region));
  const runtime: BedrockEndpoint = {
    origin: settings.runtimeEndpoint,
    region: settings.region,
    timeoutMs: deployment.timeoutMs,
    deploymentId: deployment.id,
    upstreamName: 'Amazon Bedrock',
    credentials,
  };
  const modelId = modelIdOf(deployment.upstreamModel);
  const path = modelPath(modelId);
  const defaultMaxTokens = settings.defaultMaxTokens;
  const family = embeddingFamilyOf(modelId);
  const nowSeconds = () => Math.floor(Date.now() / 1000);

  async function chatCompletions(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
    const { request, warnings } = translateConverseRequest(body, { defaultMaxTokens, claudeThinking: isClaudeModel(modelId) });
    const response = await sendBedrockRequest(runtime, { method: 'POST', target: `${path}/converse`, what: 'chat completion request', body: JSON.stringify(request), signal: options?.signal, requestId: options?.requestId, totalDeadline: true });
    const answer = await readBedrockJson(response, runtime, 'chat completion request');
    if (!isConverseResponse(answer)) throw badUpstreamResponse('Amazon Bedrock answered with something that is not a Converse response.', { deploymentId: deployment.id, isRetryable: true });
    const requestId = headerValue(response.headers, 'x-amzn-requestid');
    return {
      status: 200,
      body: translateConverseResponse(answer, { id: `chatcmpl-${requestId ?? randomUUID()}`, created: nowSeconds(), model: modelId }),
      ...(requestId !== undefined && { upstreamRequestId: requestId }),
      warnings,
    };
  }

  async function chatCompletionsStream(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamStream> {
    const { request, warnings } = translateConverseRequest(body, { defaultMaxTokens, claudeThinking: isClaudeModel(modelId) });
    const response = await sendBedrockRequest(runtime, {
      method: 'POST',
      target: `${path}/converse-stream`,
      what: 'streamed chat completion request',
      body: JSON.stringify(request),
      accept: 'application/vnd.amazon.eventstream',
      signal: options?.signal,
      requestId: options?.requestId,
      totalDeadline: false,
    });
    const messages = await peekStream(decodeEventStream(response.body), {
      upstreamName: runtime.upstreamName,
      errorOf: (message) => streamErrorOf(message, deployment.id),
    });
    const requestId = headerValue(response.headers, 'x-amzn-requestid');
    const includeUsage = isRecord(body.stream_options) && body.stream_options.include_usage === true;
    return {
      status: 200,
      body: translateConverseStream(messages, { id: `chatcmpl-${requestId ?? randomUUID()}`, created: nowSeconds(), model: modelId, includeUsage, deploymentId: deployment.id }),
      ...(requestId !== undefined && { upstreamRequestId: requestId }),
      warnings,
    };
  }

  async function embeddings(body: Record<string, unknown>, options?: CallOptions): Promise<UpstreamJsonResponse> {
    if (family === undefined) throw new CapabilityUnsupportedError(`The Bedrock model '${modelId}' is not an embedding model Portico knows (amazon.titan-embed-*, cohere.embed-*).`);
    const { bodies, base64, warnings } = translateEmbeddingsRequest(body, family);
    const invoke = async (invokeBody: Record<string, unknown>) => {
      const response = await sendBedrockRequest(runtime, { method: 'POST', target: `${path}/invoke`, what: 'embeddings request', body: JSON.stringify(invokeBody), signal: options?.signal, requestId: options?.requestId, totalDeadline: true });
      const answer = vectorsOfAnswer(await readBedrockJson(response, runtime, 'embeddings request'), family);
      if (answer === null) throw badUpstreamResponse('Amazon Bedrock answered the embeddings request with something that is not an embedding.', { deploymentId: deployment.id, isRetryable: true });
      const counted = Number(headerValue(response.headers, 'x-amzn-bedrock-input-token-count'));
      return { vectors: answer.vectors, tokens: answer.tokens ?? (Number.isFinite(counted) ? counted : 0) };
    };
    const answers = await mapConcurrently(bodies, TITAN_CONCURRENCY, invoke);
    return {
      status: 200,
      body: embeddingList(answers.flatMap((answer) => answer.vectors), answers.reduce((sum, answer) => sum + answer.tokens, 0), { model: modelId, base64 }),
      warnings,
    };
  }

  // Chat models batch natively (Claude with its InvokeModel body, the others as Converse jobs); embedding models on the engine.
  const batches =
    settings.batch === undefined || family !== undefined
      ? undefined
      : createBedrockBatches({ settings, modelId, batch: settings.batch, runtime, credentials, defaultMaxTokens, modifyParams: deployment.modifyParams ?? false, format: isClaudeModel(modelId) ? 'invoke' : 'converse' });
  return {
    deployment,
    batchLineModel: modelId,
    chatCompletions,
    chatCompletionsStream,
    ...(family !== undefined && { embeddings }),
    // Claude takes Anthropic's Messages API itself (`claude-messages.ts`): passed through, not translated.
    ...(isClaudeModel(modelId) && {
      anthropicMessages: (request: AnthropicMessagesRequest, options?: CallOptions) => bedrockClaudeMessages(runtime, path, request, options),
      anthropicMessagesStream: (request: AnthropicMessagesRequest, options?: CallOptions) => bedrockClaudeMessagesStream(runtime, path, request, options),
    }),
    ...(batches !== undefined && { batches }),
  };
}

/** `items` through `call`, at most `limit` at once, answers in input order; the first failure fails all. */
async function mapConcurrently<T, R>(items: readonly T[], limit: number, call: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await call(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
