/**
 * The shape shared by the model routes (the live entries of `spec/endpoints.ts`): validate the
 * body, check the key may use the model group, send it through the router, answer JSON or relay
 * the stream.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { z } from 'zod';
import type { ModelRequestBody } from '../../spec/endpoints.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { assertModelUsable } from '../model-access.ts';
import { parseInput } from '../parse-input.ts';
import { redactorFor } from '../../config/secret-redactor.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices } from '../services.ts';
import { relayServerSentEvents } from '../sse-relay.ts';
import { routingOfControls, sendToModelGroup } from '../upstream-call.ts';
import { modelEndpointUrls } from './paths.ts';
import { WARNINGS_HEADER, warningsHeaderValue, warningsOf } from '../warnings-header.ts';
import { acceptable, cacheUseOf } from '../../caching/response-cache.ts';
import { chatCompletionAsStream, chatCompletionAssembler } from '../../caching/chat-stream-cache.ts';
import { readStreamEvents } from '../../spec/stream-event-tap.ts';
import type { DeploymentPreference } from '../../routing/deployment-preference.ts';
import { estimatedTokens, promptCharsOf } from '../../spec/text-tokens.ts';
import { carriesTags, requestTagsOf, TAGS_HEADER, upstreamBodyOf, withHeaderTags } from '../../spec/gateway-request-fields.ts';
import { admitEndUser } from '../end-user-limits.ts';
import { type RequestControls, requestControlsOf } from '../../spec/request-controls.ts';
import { mockAnswerClient } from '../../providers/registry.ts';
import { NotFoundError } from '../../spec/errors.ts';
import type { OwnedResponses, ResolvedReference } from '../../managed/responses/owned-responses.ts';
import type { FileReferences } from '../../managed/files/file-references.ts';

/** What Fastify sends for a serialised object. */
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** The key of a cached answer, on an answer from the cache (LiteLLM's header). */
export const CACHE_KEY_HEADER = 'x-litellm-cache-key';

/**
 * LiteLLM's `enable_pre_call_checks`: the deployments whose context window holds the request's
 * prompt, estimated from its text (`promptCharsOf`, about 4 characters a token; LiteLLM counts
 * with a tokenizer). The router keeps the whole pool when none does (`deployment-preference.ts`).
 */
function fittingContextWindow(body: Record<string, unknown>): DeploymentPreference {
  const promptTokens = estimatedTokens(promptCharsOf(body));
  return (pool) => pool.filter((deployment) => deployment.maxInputTokens === undefined || deployment.maxInputTokens >= promptTokens);
}

/** A request's tags followed by its key's, each once. */
function withKeyTags(requestTags: readonly string[], keyTags: readonly string[] | undefined): readonly string[] {
  if (keyTags === undefined) return requestTags;
  return requestTags.length === 0 ? keyTags : [...new Set([...requestTags, ...keyTags])];
}

/** A request without pre-call checks prefers no deployment. */
const NO_ROUTING_PREFERENCE = Object.freeze({});

/** Whether a streamed request asked for the usage chunk (`stream_options.include_usage`). */
function includesUsage(body: Record<string, unknown>): boolean {
  const options = body.stream_options;
  return options !== null && typeof options === 'object' && (options as { include_usage?: unknown }).include_usage === true;
}

/** Names the parameters `drop_params` removed (LiteLLM drops silently; here the client can see it). */
export const DROPPED_PARAMS_HEADER = 'x-portico-dropped-params';

/**
 * Tells the client what Portico changed in its request: the parameters `drop_params` removed
 * (their own header, as LiteLLM users expect it) and every change, the provider's translation's
 * included, in `x-portico-warnings`; the log gets each in full.
 */
function announceChanges(request: FastifyRequest, reply: FastifyReply, answer: UpstreamJsonResponse | UpstreamStream): void {
  const dropped = answer.droppedParams;
  if (dropped !== undefined && dropped.length > 0) {
    reply.header(DROPPED_PARAMS_HEADER, dropped.join(', '));
    request.log.info({ model_group: request.portico.modelGroup, dropped_params: dropped }, 'request parameters dropped for the deployment (drop_params)');
  }
  if (answer.warnings !== undefined && answer.warnings.length > 0) {
    request.log.info({ model_group: request.portico.modelGroup, translation_warnings: answer.warnings }, 'request parameters changed for the provider');
  }
  const warnings = warningsOf(answer);
  if (warnings.length > 0) reply.header(WARNINGS_HEADER, warningsHeaderValue(warnings));
}

export interface ModelProxyRoute<S extends z.ZodType<ModelRequestBody>> {
  /** Path without `/v1` (`/chat/completions`): served with and without `/v1`. */
  path: string;
  /** Further paths served as they are (`/v2/rerank`). */
  extraPaths?: readonly string[];
  body: S;
  call(client: ProviderClient, body: Record<string, unknown>, options: CallOptions): Promise<UpstreamJsonResponse>;
  /** Absent when the endpoint has no streaming form. */
  stream?(client: ProviderClient, body: Record<string, unknown>, options: CallOptions): Promise<UpstreamStream>;
  /**
   * The Responses API's stored answers (`managed/responses/`): answers leave with the gateway's ids
   * for their owner, and a request naming one (`previous_response_id`) goes to the deployments
   * that can read it. Absent on the other endpoints.
   */
  storedAnswers?: OwnedResponses;
  /** Requests may name the caller's files by id: sent with their bytes inline (`managed/files/file-references.ts`). */
  fileReferences?: FileReferences;
}

const NO_CONTROLS = requestControlsOf({});

export function registerModelProxyRoute<S extends z.ZodType<ModelRequestBody>>(
  app: FastifyInstance,
  services: AppServices,
  route: ModelProxyRoute<S>,
): void {
  const redact = redactorFor(services.config);
  const stream = route.stream;
  const cache = services.responseCache;
  const preCallChecks = services.config.router.preCallChecks;
  const tagFiltering = services.config.router.tagFiltering;
  const userHeaderName = services.config.userHeaderName;
  // Each as written (the tag) and as Node keys it (lower case), once at start.
  const spendTagHeaders = services.config.spendTagHeaders?.map((name) => [name, name.toLowerCase()] as const);
  const endUserLimits = services.endUserLimits;
  // The body and the model are checked before the key's budgets and limits (preHandler hooks,
  // `rate-limit-hook.ts`): a request refused for what it asks (a malformed body, a model the key
  // may not use or the config lacks) never reached a model, so it takes no request per minute
  // and no parallel slot, as with LiteLLM, whose key auth checks the model before its limiter.
  const parsedBodies = new WeakMap<FastifyRequest, z.output<S>>();
  /** LiteLLM's request controls, for the requests that carry any (`spec/request-controls.ts`). */
  const requestControls = new WeakMap<FastifyRequest, RequestControls>();
  const storedAnswers = route.storedAnswers;
  const fileReferences = route.fileReferences;
  /** The stored responses continued by requests (`previous_response_id`), checked with the body. */
  const storedReferences = new WeakMap<FastifyRequest, ResolvedReference>();
  const checkRequest = (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    try {
      const body = parseInput(route.body, request.body);
      const principal = principalOf(request);
      assertModelUsable(services.router, principal, body.model);
      const controls = requestControlsOf(request.body as Record<string, unknown>, request.headers);
      if (controls !== NO_CONTROLS) requestControls.set(request, controls);
      request.portico.modelGroup = body.model;
      parsedBodies.set(request, body);
      const reference = storedAnswers?.resolveReference(request.body as Record<string, unknown>, principal, body.model);
      // A response the gateway stored is read from the database first.
      if (reference instanceof Promise) {
        reference.then((resolved) => {
          storedReferences.set(request, resolved);
          done();
        }, done);
        return;
      }
      if (reference !== undefined) storedReferences.set(request, reference);
    } catch (error) {
      done(error as Error);
      return;
    }
    done();
  };
  /**
   * LiteLLM's `mock_response`: the endpoint's answer built by the gateway (`mockAnswerClient`),
   * with no upstream call and no spend; a 400 where the mock has no such answer.
   */
  const answerMock = async (request: FastifyRequest, reply: FastifyReply, body: ModelRequestBody, upstreamBody: Record<string, unknown>, mockResponse: string): Promise<FastifyReply> => {
    const deployment = services.router.deploymentsOf(body.model)[0];
    if (deployment === undefined) throw new NotFoundError(`The model \`${body.model}\` has no deployments.`, { param: 'model', code: 'model_not_found' });
    const client = mockAnswerClient(deployment, mockResponse);
    if (body.stream === true && stream !== undefined) {
      await relayServerSentEvents(request, reply, await stream(client, upstreamBody, {}), { logger: services.logger, redact });
      return reply;
    }
    const answer = await route.call(client, upstreamBody, {});
    return reply.code(answer.status).send(answer.body);
  };
  for (const url of modelEndpointUrls(route)) {
    app.post(url, { config: { modelEndpoint: route.path }, preValidation: checkRequest }, async (request, reply) => {
      const body = parsedBodies.get(request)!;
      const spend = services.spend;
      const waitForLedger = spend?.whenRoom();
      if (waitForLedger !== undefined) await waitForLedger;
      // The body goes upstream as the client sent it, less the gateway's own fields (LiteLLM's cache
      // controls, tags and metadata: `gateway-request-fields.ts`); the provider rewrites `model`.
      const received = request.body as Record<string, unknown>;
      let upstreamBody = upstreamBodyOf(route.path, received);
      const reference = storedAnswers === undefined ? undefined : storedReferences.get(request);
      if (reference !== undefined && storedAnswers !== undefined) upstreamBody = storedAnswers.continuing(upstreamBody, reference);
      const controls = requestControls.get(request);
      if (controls?.mockResponse !== undefined) return answerMock(request, reply, body, upstreamBody, controls.mockResponse);
      const principal = request.portico.principal;
      if (fileReferences !== undefined && principal !== null) {
        const inlined = fileReferences.inline(route.path, upstreamBody, principal);
        if (inlined !== undefined) upstreamBody = await inlined;
      }
      // The request's tags, for tag routing and its spend row (LiteLLM's `request_tags`).
      // The request's own, then its key's (`metadata.tags` of the key, as LiteLLM adds them).
      const keyTags = request.portico.principal?.tags;
      const tags =
        tagFiltering || keyTags !== undefined || carriesTags(received, request.headers[TAGS_HEADER]) ? withKeyTags(requestTagsOf(received, request.headers[TAGS_HEADER]), keyTags) : undefined;
      if (tags !== undefined && tags.length > 0) request.portico.tags = tags;
      // LiteLLM's `extra_spend_tag_headers`: spend tags only, never routing ones.
      if (spendTagHeaders !== undefined) request.portico.tags = withHeaderTags(request.portico.tags, request.headers, spendTagHeaders);
      // A blocked customer, or one over its budget (a wait only for a request that names an end user).
      const endUserCheck = admitEndUser(request, received, userHeaderName, endUserLimits);
      if (endUserCheck !== undefined) await endUserCheck;
      const routing =
        preCallChecks || tagFiltering || controls !== undefined || reference?.kind === 'upstream'
          ? {
              ...(preCallChecks && { prefer: fittingContextWindow(received) }),
              ...(tagFiltering && { tags }),
              ...routingOfControls(controls),
              // A continued response is read where it is stored: only there, and no fallback elsewhere.
              ...(reference?.kind === 'upstream' && { only: reference.deployments }),
            }
          : NO_ROUTING_PREFERENCE;
      // The Responses API's answers leave with the gateway's ids, for the caller: the deployment
      // whose attempt answered (attempts run one after another, so the last one set is it).
      const owner = principal?.owner ?? 'master';
      let answeredBy: ProviderClient | undefined;
      const noteAnswerer = <T>(run: (client: ProviderClient, options: CallOptions) => Promise<T>) =>
        storedAnswers === undefined
          ? run
          : (client: ProviderClient, options: CallOptions) => {
              answeredBy = client;
              return run(client, options);
            };
      // LiteLLM's response cache: an answer stored for the same request is sent as it was stored
      // (a stream played back from it), with no call upstream and no row in the spend ledger.
      // A stored Response is its caller's object (its id only its owner may use): cached per owner.
      const cacheUse = cache === undefined ? undefined : cacheUseOf(route.path, body.model, received, cache.settings, storedAnswers === undefined ? undefined : owner);
      const cached = cacheUse?.read ? await cache!.store.get(cacheUse.key) : undefined;
      const hit = cacheUse !== undefined && acceptable(cached, cacheUse, Date.now()) ? cached : undefined;
      if (body.stream === true && stream !== undefined) {
        const replay = hit === undefined ? undefined : chatCompletionAsStream(hit.text, includesUsage(received));
        if (replay !== undefined) {
          return reply.code(200).header(CACHE_KEY_HEADER, cacheUse!.key).header('cache-control', 'no-cache').type('text/event-stream; charset=utf-8').send(replay);
        }
        let upstream: UpstreamStream;
        try {
          upstream = await sendToModelGroup(services.router, request, reply, body.model, noteAnswerer((client, options) => stream(client, upstreamBody, options)), { stream: true, ...routing });
          // After the routing: keeping the answer is not part of the attempt (a failure there is
          // no reason to ask the model again).
          if (storedAnswers !== undefined && answeredBy !== undefined) upstream = storedAnswers.ownStream(upstream, answeredBy, owner, reference, received);
        } catch (error) {
          spend?.recordFailure(request, route.path);
          throw error;
        }
        if (cacheUse?.write) {
          const use = cacheUse;
          readStreamEvents(upstream, chatCompletionAssembler((text) => void cache!.store.set(use.key, { text, storedAt: Date.now() }, use.ttlSeconds)));
        }
        spend?.meterStream(request, route.path, upstream, upstreamBody);
        announceChanges(request, reply, upstream);
        await relayServerSentEvents(request, reply, upstream, { logger: services.logger, redact });
        return reply;
      }
      if (hit !== undefined) return reply.code(200).header(CACHE_KEY_HEADER, cacheUse!.key).type(JSON_CONTENT_TYPE).send(hit.text);
      let answer: UpstreamJsonResponse;
      try {
        answer = await sendToModelGroup(services.router, request, reply, body.model, noteAnswerer((client, options) => route.call(client, upstreamBody, options)), routing);
        if (storedAnswers !== undefined && answeredBy !== undefined) answer = await storedAnswers.ownAnswer(answer, answeredBy, owner, reference, received);
      } catch (error) {
        spend?.recordFailure(request, route.path);
        throw error;
      }
      if (cacheUse?.write && answer.status === 200) {
        // Not awaited: the client's answer does not wait for the store (which fails open).
        void cache!.store.set(cacheUse.key, { text: answer.rawBody === undefined ? JSON.stringify(answer.body) : answer.rawBody.toString(), storedAt: Date.now() }, cacheUse.ttlSeconds);
      }
      spend?.recordAnswer(request, route.path, answer);
      announceChanges(request, reply, answer);
      // The upstream's own JSON text when the body is its unmodified parse: no second serialisation.
      if (answer.rawBody !== undefined) return reply.code(answer.status).type(JSON_CONTENT_TYPE).send(answer.rawBody);
      return reply.code(answer.status).send(answer.body);
    });
  }
}
