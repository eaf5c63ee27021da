/**
 * `POST /v1/messages` (and `/messages`): Anthropic's Messages API for Anthropic's SDKs and the
 * tools built on them (Claude Code with `ANTHROPIC_BASE_URL` pointed at Portico), as LiteLLM's
 * proxy serves it. The key comes as `x-api-key` (or `Authorization: Bearer`), `model` names the
 * model group, and the request goes through the router (retries, fallbacks, limits and budgets
 * as on every model route). A deployment whose provider speaks the Messages API gets it passed
 * through both ways (`spec/anthropic-messages.ts`); any other gets it as an OpenAI chat completion
 * (`messages-api/message-request.ts`), whose answer or stream comes back as Anthropic's
 * (`messages-api/message-answer.ts`), as LiteLLM's `/v1/messages` serves every provider. Errors
 * are in Anthropic's shape.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { redactorFor } from '../../config/secret-redactor.ts';
import { ANTHROPIC_COUNT_TOKENS_PATH, ANTHROPIC_MESSAGES_PATH, type AnthropicMessagesRequest, anthropicCountTokensBody, anthropicMessagesBody } from '../../spec/anthropic-messages.ts';
import { estimatedTokens, promptCharsOf } from '../../spec/text-tokens.ts';
import { upstreamBodyOf } from '../../spec/gateway-request-fields.ts';
import { admitEndUser } from '../end-user-limits.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse, UpstreamStream } from '../../spec/provider.ts';
import { chatRequestOfMessages } from '../messages-api/message-request.ts';
import { messageEventsOf, messageOfChatCompletion } from '../messages-api/message-answer.ts';
import { WARNINGS_HEADER, warningsHeaderValue, warningsOf } from '../warnings-header.ts';
import { requestControlsOf } from '../../spec/request-controls.ts';
import { readStreamEvents } from '../../spec/stream-event-tap.ts';
import { AnthropicStreamUsage, anthropicUsageOf } from '../../spend/anthropic-usage.ts';
import { assertModelUsable } from '../model-access.ts';
import { parseInput } from '../parse-input.ts';
import { principalOf } from '../request-context.ts';
import type { AppServices, RouteModule } from '../services.ts';
import { relayServerSentEvents } from '../sse-relay.ts';
import { routingOfControls, sendToModelGroup } from '../upstream-call.ts';
import { withAndWithoutV1 } from './paths.ts';

const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

/** A Messages request on a deployment: passed through where the provider speaks it, else through OpenAI's chat. */
async function messagesCall(client: ProviderClient, request: AnthropicMessagesRequest, model: string, options: CallOptions): Promise<UpstreamJsonResponse> {
  if (client.anthropicMessages !== undefined) return client.anthropicMessages(request, options);
  const { chat, warnings } = chatRequestOfMessages(request.body);
  const answer = await client.chatCompletions(chat, options);
  return { status: answer.status, body: messageOfChatCompletion(answer.body, model), ...(answer.upstreamRequestId !== undefined && { upstreamRequestId: answer.upstreamRequestId }), ...(answer.droppedParams !== undefined && { droppedParams: answer.droppedParams }), warnings: [...warnings, ...(answer.warnings ?? [])] };
}

async function messagesStreamCall(client: ProviderClient, request: AnthropicMessagesRequest, model: string, options: CallOptions): Promise<UpstreamStream> {
  if (client.anthropicMessagesStream !== undefined) return client.anthropicMessagesStream(request, options);
  const { chat, warnings } = chatRequestOfMessages({ ...request.body, stream: true });
  const stream = await client.chatCompletionsStream(chat, options);
  return { status: stream.status, body: messageEventsOf(stream.body, model), ...(stream.upstreamRequestId !== undefined && { upstreamRequestId: stream.upstreamRequestId }), ...(stream.droppedParams !== undefined && { droppedParams: stream.droppedParams }), warnings: [...warnings, ...(stream.warnings ?? [])] };
}

/** What Portico changed in the request for the deployment (a translation to OpenAI's chat), in `x-portico-warnings`. */
function announceChanges(reply: FastifyReply, answer: UpstreamJsonResponse | UpstreamStream): void {
  const warnings = warningsOf(answer);
  if (warnings.length > 0) reply.header(WARNINGS_HEADER, warningsHeaderValue(warnings));
}

/** The header an Anthropic client opts into beta features with; it goes upstream with the request. */
function betaOf(request: FastifyRequest): string | undefined {
  const value = request.headers['anthropic-beta'];
  return Array.isArray(value) ? value.join(',') : value;
}

/** The hook that checks a body and its model group (the key may use it, the config has it) before the key's limits. */
function checkedBody<S extends z.ZodType<{ model: string }>>(services: AppServices, schema: S, bodies: WeakMap<FastifyRequest, z.output<S>>): (request: FastifyRequest) => Promise<void> {
  return async (request) => {
    const body = parseInput(schema, request.body);
    assertModelUsable(services.router, principalOf(request), body.model);
    request.portico.modelGroup = body.model;
    bodies.set(request, body);
  };
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
          preValidation: checkedBody(services, anthropicMessagesBody, bodies),
        },
        async (request: FastifyRequest, reply: FastifyReply) => {
          const body = bodies.get(request)!;
          const spend = services.spend;
          const waitForLedger = spend?.whenRoom();
          if (waitForLedger !== undefined) await waitForLedger;
          const received = request.body as Record<string, unknown>;
          // LiteLLM's fields stay here; Anthropic's own `metadata: {user_id}` goes on.
          const forwarded: AnthropicMessagesRequest = { body: upstreamBodyOf(ANTHROPIC_MESSAGES_PATH, received), ...(betaOf(request) !== undefined && { beta: betaOf(request) }) };
          const endUserCheck = admitEndUser(request, received, services.config.userHeaderName, services.endUserLimits);
          if (endUserCheck !== undefined) await endUserCheck;
          const controls = requestControlsOf(received, request.headers);
          const routing = routingOfControls(controls);
          if (body.stream === true) {
            let stream: UpstreamStream;
            try {
              stream = await sendToModelGroup(
                services.router,
                request,
                reply,
                body.model,
                (client, options) => messagesStreamCall(client, forwarded, body.model, options),
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
            announceChanges(reply, stream);
            await relayServerSentEvents(request, reply, stream, { logger: services.logger, redact, errorShape: 'messages-api' });
            return reply;
          }
          let answer: UpstreamJsonResponse;
          try {
            answer = await sendToModelGroup(services.router, request, reply, body.model, (client, options) => messagesCall(client, forwarded, body.model, options), routing);
          } catch (error) {
            spend?.recordFailure(request, ANTHROPIC_MESSAGES_PATH);
            throw error;
          }
          const usage = anthropicUsageOf((answer.body as { usage?: unknown } | null)?.usage);
          spend?.recordTokens(request, ANTHROPIC_MESSAGES_PATH, usage, true);
          announceChanges(reply, answer);
          return reply.code(answer.status).type(JSON_CONTENT_TYPE).send(answer.body);
        },
      );
    }
    registerCountTokens(app, services);
  },
};

/**
 * `POST /v1/messages/count_tokens`: Anthropic's own count where the deployment speaks its API,
 * else Portico's estimate of the request as OpenAI's chat would carry it (4 characters a token:
 * `spec/text-tokens.ts`). Not a model request: no spend row, no request taken from the key's
 * `rpm_limit` (Claude Code asks before most requests).
 */
function registerCountTokens(app: FastifyInstance, services: AppServices): void {
  const bodies = new WeakMap<FastifyRequest, z.output<typeof anthropicCountTokensBody>>();
  for (const url of withAndWithoutV1(ANTHROPIC_COUNT_TOKENS_PATH)) {
    app.post(
      url,
      {
        config: { errorShape: 'messages-api' },
        preValidation: checkedBody(services, anthropicCountTokensBody, bodies),
      },
      async (request: FastifyRequest, reply: FastifyReply) => {
        const body = bodies.get(request)!;
        const received = request.body as Record<string, unknown>;
        const forwarded: AnthropicMessagesRequest = { body: upstreamBodyOf(ANTHROPIC_MESSAGES_PATH, received), ...(betaOf(request) !== undefined && { beta: betaOf(request) }) };
        const answer = await sendToModelGroup(services.router, request, reply, body.model, async (client, options) => {
          if (client.anthropicCountTokens !== undefined) return client.anthropicCountTokens(forwarded, options);
          return { status: 200, body: { input_tokens: estimatedInputTokens(forwarded.body) } } satisfies UpstreamJsonResponse;
        });
        return reply.code(answer.status).type(JSON_CONTENT_TYPE).send(answer.body);
      },
    );
  }
}

/** A Messages request's input tokens as Portico estimates them: its text as OpenAI's chat carries it, and its tools' definitions. */
function estimatedInputTokens(body: Record<string, unknown>): number {
  const { chat } = chatRequestOfMessages({ ...body, max_tokens: 1 });
  const tools = chat.tools === undefined ? 0 : JSON.stringify(chat.tools).length;
  return estimatedTokens(promptCharsOf(chat) + tools);
}
