/**
 * A `ProviderClient` for one watsonx.ai deployment: chat completions (plain, and streamed from
 * `chat_stream`) and embeddings, translated by `wire.ts`. The URLs and the credentials live here:
 * `{service}/ml/v1/text/chat?version=...` (a `deployment/<id>` model at
 * `/ml/v1/deployments/{id}/text/chat`), and an IBM Cloud API key exchanged at IAM for bearer
 * tokens, cached and refreshed once for every caller (`../http/token-cache.ts`).
 * No batches (Portico's engine runs them), files or Responses API (answered through chat).
 */
import { UpstreamCredentialsError } from '../../spec/errors.ts';
import type { CallOptions, Deployment, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { errorStatusOf, isSuccessStatus, parseJsonAnswer, readErrorText } from '../http/json-api.ts';
import { headerValue, parseJsonOrUndefined, sendHttpRequest } from '../http/request.ts';
import type { RequestAuthorizer } from '../http/request-auth.ts';
import { encodeSseEvent, SSE_DONE, sseEvents } from '../http/sse.ts';
import { peekStream } from '../http/stream-peek.ts';
import { bearerTokenAuth, createTokenCache } from '../http/token-cache.ts';
import { type WatsonxCredentials, type WatsonxSettings, deploymentIdOf } from './settings.ts';
import { chatChunkOf, chatCompletionOf, chatRequestOf, chunkUsageOf, embeddingListOf, embeddingsRequestOf, watsonxError } from './wire.ts';

type Json = Record<string, unknown>;

/** IBM Cloud IAM's answer to an API key (https://cloud.ibm.com/docs/account?topic=account-iamtoken_from_apikey). */
async function iamToken(apiKey: string, iamUrl: string): Promise<{ value: string; expiresAt: number }> {
  const response = await sendHttpRequest({
    method: 'POST',
    url: iamUrl,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({ grant_type: 'urn:ibm:params:oauth:grant-type:apikey', apikey: apiKey }).toString(),
    what: 'IBM Cloud IAM token request',
  });
  const text = await response.body.text(1024 * 1024);
  const answer = parseJsonOrUndefined(text) as { access_token?: unknown; expiration?: unknown; expires_in?: unknown; errorMessage?: unknown } | undefined;
  if (!isSuccessStatus(response.status) || typeof answer?.access_token !== 'string') {
    const why = typeof answer?.errorMessage === 'string' ? answer.errorMessage : `HTTP ${response.status}`;
    throw new UpstreamCredentialsError(`IBM Cloud IAM refused the watsonx.ai API key: ${why}`, { refused: response.status === 400 || response.status === 401 });
  }
  const expiresAt = typeof answer.expiration === 'number' ? answer.expiration * 1000 : Date.now() + Number(answer.expires_in ?? 3600) * 1000;
  return { value: answer.access_token, expiresAt };
}

/** Static headers for a token or a Zen API key; an authorizer for an IAM API key. */
function authOf(credentials: WatsonxCredentials): { headers: Record<string, string>; auth?: RequestAuthorizer } {
  switch (credentials.kind) {
    case 'bearer':
      return { headers: { authorization: `Bearer ${credentials.token}` } };
    case 'zen':
      return { headers: { authorization: `ZenApiKey ${credentials.apiKey}` } };
    case 'iam':
      return { headers: {}, auth: bearerTokenAuth(createTokenCache(() => iamToken(credentials.apiKey, credentials.iamUrl), { what: 'IBM Cloud IAM token' })) };
  }
}

export function createWatsonxClient(deployment: Deployment, settings: WatsonxSettings): ProviderClient {
  const model = deployment.upstreamModel;
  const deploymentId = deploymentIdOf(model);
  const version = `version=${encodeURIComponent(settings.apiVersion)}`;
  const base = deploymentId === undefined ? `${settings.serviceUrl}/ml/v1/text` : `${settings.serviceUrl}/ml/v1/deployments/${encodeURIComponent(deploymentId)}/text`;
  const urls = { chat: `${base}/chat?${version}`, chatStream: `${base}/chat_stream?${version}`, embeddings: `${settings.serviceUrl}/ml/v1/text/embeddings?${version}` };
  // A foundation model runs in the configured project or space; a deployed model names its own.
  const foundationModel: Json = { model_id: model, ...(settings.projectId !== undefined ? { project_id: settings.projectId } : { space_id: settings.spaceId }) };
  const context: Json = deploymentId !== undefined ? {} : foundationModel;
  const { headers: authHeaders, auth } = authOf(settings.credentials);

  async function post(url: string, json: Json, what: string, options: CallOptions | undefined, accept = 'application/json') {
    const response = await sendHttpRequest({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept, ...authHeaders, ...(options?.requestId !== undefined && { 'x-request-id': options.requestId }) },
      body: JSON.stringify(json),
      signal: options?.signal,
      what: `watsonx.ai ${what}`,
      ...(auth !== undefined && { auth }),
    });
    if (!isSuccessStatus(response.status)) {
      throw watsonxError(errorStatusOf(response.status), parseJsonOrUndefined(await readErrorText(response.body)), deployment.id, headerValue(response.headers, 'retry-after'));
    }
    return response;
  }

  return {
    deployment,
    batchLineModel: model,

    async chatCompletions(body, options): Promise<UpstreamJsonResponse> {
      const { request, warnings } = chatRequestOf(body, context);
      const response = await post(urls.chat, request, 'chat request', options);
      const answer = parseJsonAnswer(await response.body.text(), 'watsonx.ai answered the chat request with a body that is not JSON.', deployment.id) as Json;
      return { status: 200, body: chatCompletionOf(answer, model), upstreamRequestId: headerValue(response.headers, 'x-global-transaction-id'), warnings };
    },

    async chatCompletionsStream(body, options): Promise<UpstreamStream> {
      const { request, warnings } = chatRequestOf(body, context);
      const response = await post(urls.chatStream, request, 'chat stream', options, 'text/event-stream');
      // An error sent as the first event is thrown while routing can still retry or fall back.
      const events = await peekStream(sseEvents(response.body), {
        upstreamName: 'watsonx.ai',
        errorOf: (event) => {
          const data = parseJsonOrUndefined(event.data);
          return event.event === 'error' || (data !== null && typeof data === 'object' && 'errors' in data) ? watsonxError(undefined, data, deployment.id) : null;
        },
      });
      const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
      return { status: 200, body: openAIChunks(events, model, includeUsage, deployment.id), upstreamRequestId: headerValue(response.headers, 'x-global-transaction-id'), warnings };
    },

    async embeddings(body, options): Promise<UpstreamJsonResponse> {
      // Embeddings always name their model: a deployed model is not an embedding model.
      const { request, base64, warnings } = embeddingsRequestOf(body, foundationModel);
      const response = await post(urls.embeddings, request, 'embeddings request', options);
      const answer = parseJsonAnswer(await response.body.text(), 'watsonx.ai answered the embeddings request with a body that is not JSON.', deployment.id) as Json;
      return { status: 200, body: embeddingListOf(answer, model, base64), upstreamRequestId: headerValue(response.headers, 'x-global-transaction-id'), warnings };
    },
  };
}

/** watsonx.ai's stream as OpenAI's chunks, its usage as a last chunk when asked, then `[DONE]`. */
async function* openAIChunks(events: AsyncGenerator<{ event?: string; data: string }>, model: string, includeUsage: boolean, deploymentId: string): AsyncGenerator<Uint8Array> {
  let usage: Json | undefined;
  let last: Json | undefined;
  try {
    for await (const event of events) {
      const data = parseJsonOrUndefined(event.data);
      if (data === null || typeof data !== 'object') continue;
      if (event.event === 'error' || 'errors' in data) throw watsonxError(undefined, data, deploymentId);
      const chunk = chatChunkOf(data as Json, model);
      usage = chunkUsageOf(data as Json) ?? usage;
      last = chunk;
      if ((chunk.choices as unknown[]).length > 0) yield encodeSseEvent(chunk);
    }
  } finally {
    await events.return(undefined);
  }
  if (includeUsage && usage !== undefined && last !== undefined) yield encodeSseEvent({ ...last, choices: [], usage });
  yield SSE_DONE;
}
