/**
 * Calling a model group from a route: the client-disconnect abort signal, the request id
 * forwarded upstream, and the time spent waiting on the upstream (for the overhead metric).
 */
import { performance } from 'node:perf_hooks';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallOptions, ProviderClient } from '../spec/provider.ts';
import type { Router, SendOptions } from '../routing/router.ts';
import type { RequestControls } from '../spec/request-controls.ts';
import { addUpstreamTime } from './request-context.ts';
import { clientHeaders, forwardableHeaders, forwardingClientHeaders } from '../providers/http/client-headers.ts';

/** Why the upstream call was aborted: the client closed its connection before the answer ended. */
export class ClientClosedRequestError extends Error {
  constructor() {
    super('The client closed the connection before the response was complete.');
    this.name = 'ClientClosedRequestError';
  }
}

/** Aborts when the client goes away before the response has been fully written. */
export function abortSignalOnClientClose(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const response = reply.raw;
  response.once('close', () => {
    if (!response.writableEnded) controller.abort(new ClientClosedRequestError());
  });
  return controller.signal;
}

/** What LiteLLM's per-request controls change in the routing: the fallback groups, the retries, each attempt's timeout. */
export function routingOfControls(controls: RequestControls | undefined): Pick<SendOptions, 'fallbackGroups' | 'maxRetries' | 'timeoutMs'> {
  if (controls === undefined) return {};
  return {
    ...(controls.fallbacks !== undefined && { fallbackGroups: controls.fallbacks }),
    ...(controls.numRetries !== undefined && { maxRetries: controls.numRetries }),
    ...(controls.timeoutMs !== undefined && { timeoutMs: controls.timeoutMs }),
  };
}

export async function sendToModelGroup<T>(
  router: Pick<Router, 'send' | 'mayUse'>,
  request: FastifyRequest,
  reply: FastifyReply,
  modelGroup: string,
  call: (client: ProviderClient, options: CallOptions) => Promise<T>,
  extra: Pick<SendOptions, 'stream' | 'prefer' | 'tags' | 'fallbackGroups' | 'maxRetries' | 'timeoutMs' | 'only'> = {},
): Promise<T> {
  const startedAt = performance.now();
  try {
    // `forward_client_headers_to_llm_api`: the client's `x-` headers go with this request's calls.
    if (forwardingClientHeaders()) return await clientHeaders.run(forwardableHeaders(request.headers), () => send(router, request, reply, modelGroup, call, extra));
    return await send(router, request, reply, modelGroup, call, extra);
  } finally {
    addUpstreamTime(request.portico, performance.now() - startedAt);
  }
}

function send<T>(
  router: Pick<Router, 'send' | 'mayUse'>,
  request: FastifyRequest,
  reply: FastifyReply,
  modelGroup: string,
  call: (client: ProviderClient, options: CallOptions) => Promise<T>,
  extra: Pick<SendOptions, 'stream' | 'prefer' | 'tags' | 'fallbackGroups' | 'maxRetries' | 'timeoutMs' | 'only'>,
): Promise<T> {
  // The router hands each attempt its own options: the client's signal plus the attempt timeout.
  const principal = request.portico.principal;
  return router.send(modelGroup, call, {
    ...extra,
    signal: abortSignalOnClientClose(reply),
    requestId: request.id,
    // Accounted under the request's own context object: the request id is the client's to choose.
    accountingToken: request.portico,
    // Fallbacks stay within the key's allowlist (`model-access.ts` checked the group itself).
    mayUseGroup: principal === null || principal.allowedModels === null ? undefined : (group) => router.mayUse(principal, group),
    ...(request.portico.trace !== undefined && { trace: { parent: request.portico.trace, operation: genAiOperation(request.portico.route) } }),
  });
}

/** GenAI's `gen_ai.operation.name` of a model route (`chat`, `embeddings`, ...). */
function genAiOperation(route: string | undefined): string {
  switch (route) {
    case '/v1/chat/completions':
    case '/chat/completions':
      return 'chat';
    case '/v1/embeddings':
    case '/embeddings':
      return 'embeddings';
    case '/v1/completions':
    case '/completions':
      return 'text_completion';
    case '/v1/responses':
    case '/responses':
      return 'responses';
    case '/v1/rerank':
    case '/v2/rerank':
    case '/rerank':
      return 'rerank';
    default:
      return route?.replace(/^\/(v1\/)?/, '') ?? 'request';
  }
}
