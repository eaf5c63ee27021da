/**
 * `POST /v1/messages` (and `/messages`): Anthropic's Messages API for Anthropic's SDKs and the
 * tools built on them (Claude Code with `ANTHROPIC_BASE_URL` pointed at Portico), as LiteLLM's
 * proxy serves it. The key comes as `x-api-key` (or `Authorization: Bearer`), `model` names the
 * model group, and the request goes through the router (retries, fallbacks, limits and budgets
 * as on every model route) to a deployment whose provider speaks the Messages API, passed through
 * both ways (`spec/anthropic-messages.ts`). Errors are in Anthropic's shape. A deployment of
 * another provider answers 400: Portico does not translate the Messages API into OpenAI's.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { redactorFor } from '../../config/secret-redactor.ts';
import { ANTHROPIC_MESSAGES_PATH, type AnthropicMessagesRequest, anthropicMessagesBody } from '../../spec/anthropic-messages.ts';
import { unsupportedEndpoint } from '../../spec/endpoints.ts';
import { endUserOf, upstreamBodyOf } from '../../spec/gateway-request-fields.ts';
import type { UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { requestControlsOf } from '../../spec/request-controls.ts';
import { readStreamEvents } from '../../spec/stream-event-tap.ts';
import { AnthropicStreamUsage, anthropicUsageOf } from '../../spend/anthropic-usage.ts';
import { assertModelUsable } from '../model-access.ts';
import { parseInput } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { RouteModule } from '../services.ts';
import { relayServerSentEvents } from '../sse-relay.ts';
import { sendToModelGroup } from '../upstream-call.ts';
import { withAndWithoutV1 } from './paths.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
const MESSAGES_URL = `/v1${ANTHROPIC_MESSAGES_PATH}`;

/** The header an Anthropic client opts into beta features with; it goes upstream with the request. */
function betaOf(request: FastifyRequest): string | undefined {
  const value = request.headers['anthropic-beta'];
  return Array.isArray(value) ? value.join(',') : value;
}

export const anthropicMessagesRoutes: RouteModule = {
  name: 'anthropic-messages',
  register(app, services) {
    const bodies = new WeakMap<FastifyRequest, z.output<typeof anthropicMessagesBody>>();
    const redact = redactorFor(services.config);
    for (const url of withAndWithoutV1(ANTHROPIC_MESSAGES_PATH)) {
      app.post(
        url,
        {
          config: { modelEndpoint: ANTHROPIC_MESSAGES_PATH, errorShape: 'messages-api' },
          preValidation: async (request) => {
            const body = parseInput(anthropicMessagesBody, request.body);
            assertModelUsable(services.router, principalOf(request), body.model);
            request.portico.modelGroup = body.model;
            bodies.set(request, body);
          },
        },
        async (request: FastifyRequest, reply: FastifyReply) => {
          const body = bodies.get(request)!;
          const spend = services.spend;
          const waitForLedger = spend?.whenRoom();
          if (waitForLedger !== undefined) await waitForLedger;
          const received = request.body as Record<string, unknown>;
          // LiteLLM's fields stay here; Anthropic's own `metadata: {user_id}` goes on.
          const forwarded: AnthropicMessagesRequest = { body: upstreamBodyOf(ANTHROPIC_MESSAGES_PATH, received), ...(betaOf(request) !== undefined && { beta: betaOf(request) }) };
          const endUser = endUserOf(request.headers, received, services.config.userHeaderName);
          if (endUser !== undefined) request.portico.endUser = endUser;
          const controls = requestControlsOf(received, request.headers);
          const routing = {
            ...(controls.fallbacks !== undefined && { fallbackGroups: controls.fallbacks }),
            ...(controls.numRetries !== undefined && { maxRetries: controls.numRetries }),
            ...(controls.timeoutMs !== undefined && { timeoutMs: controls.timeoutMs }),
          };
          if (body.stream === true) {
            let stream: UpstreamStream;
            try {
              stream = await sendToModelGroup(
                services.router,
                request,
                reply,
                body.model,
                (client, options) => client.anthropicMessagesStream?.(forwarded, options) ?? unsupportedEndpoint(client, MESSAGES_URL),
                { stream: true, ...routing },
              );
            } catch (error) {
              spend?.recordFailure(request, ANTHROPIC_MESSAGES_PATH);
              throw error;
            }
            if (spend !== undefined) {
              const usage = new AnthropicStreamUsage();
              readStreamEvents(stream, { event: (_data, json) => usage.event(json()), end: (completed) => spend.recordTokens(request, ANTHROPIC_MESSAGES_PATH, usage.usage, completed) });
            }
            await relayServerSentEvents(request, reply, stream, { logger: services.logger, redact, errorShape: 'messages-api' });
            return reply;
          }
          let answer: UpstreamJsonResponse;
          try {
            answer = await sendToModelGroup(services.router, request, reply, body.model, (client, options) => client.anthropicMessages?.(forwarded, options) ?? unsupportedEndpoint(client, MESSAGES_URL), routing);
          } catch (error) {
            spend?.recordFailure(request, ANTHROPIC_MESSAGES_PATH);
            throw error;
          }
          const usage = anthropicUsageOf((answer.body as { usage?: unknown } | null)?.usage);
          spend?.recordTokens(request, ANTHROPIC_MESSAGES_PATH, usage, true);
          return reply.code(answer.status).type(JSON_CONTENT_TYPE).send(answer.body);
        },
      );
    }
  },
};
