/**
 * The Fastify application: hooks (request id, auth, the request line and metrics), the one error
 * handler, the 404 handler, and the route modules.
 *
 * Why Fastify: the fastest mainstream Node framework, and `inject()` tests routes without sockets.
 */
import type { SlackAlerts } from '../observability/slack-alerts.ts';
import { performance } from 'node:perf_hooks';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { GatewayError, InvalidRequestError, NotFoundError } from '../spec/errors.ts';
import { CLIENT_CLOSED_STATUS } from '../observability/metrics.ts';
import { errorToResponse, inAnthropicShape } from './error-to-response.ts';
import { answerClientError, answerFrameworkError, answerOnSocketAndClose } from './framework-errors.ts';
import { applyReceiveLimits, closeIfBodyUnread, watchBodyArrival } from './receive-limits.ts';
import { redactorFor } from '../config/secret-redactor.ts';
import { authenticateRequest } from './authenticate.ts';
import { InFlightResponses } from './in-flight.ts';
import { useQuickJsonBodyParser } from './json-body-parser.ts';
import { REQUEST_ID_HEADER, requestIdFor } from './request-id.ts';
import type { RequestContext } from './request-context.ts';
import { activeTracer } from '../observability/tracing.ts';
import { writeRequestLine } from '../observability/request-line.ts';
import { ROUTE_MODULES } from './routes/index.ts';
import { registerKeyRateLimits } from './rate-limit-hook.ts';
import { waitForHandlersOnClose } from './running-handlers.ts';
import type { AppOptions, AppServices } from './services.ts';
import { ipAllowlist } from '../auth/ip-allowlist.ts';

const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;
/** Headers that describe a response body, dropped when an error replaces that body. */
const BODY_HEADERS = ['content-type', 'content-length', 'content-disposition', 'content-encoding'] as const;
/** Metric label for requests that matched no route (bounded, unlike raw URLs). */
const UNMATCHED_ROUTE = 'unmatched';

export async function buildApp(services: AppServices, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: services.logger as FastifyBaseLogger,
    // One line per request is written below, with the fields we choose; Fastify's two lines go.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestIdFor,
    bodyLimit: options.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    // Streams of long generations must not be cut by a server-side timeout; what a client takes to
    // send its request is limited instead (`receive-limits.ts`).
    requestTimeout: 0,
    // A path parameter may be a gateway's response id (`managed/responses/response-ids.ts`, about
    // 120 characters with a long deployment id), longer than Fastify's default 100.
    routerOptions: { maxParamLength: 512 },
    // Requests arriving on kept-alive connections during a shutdown get our own 503 (below).
    return503OnClosing: false,
    frameworkErrors: answerFrameworkError,
    clientErrorHandler: answerClientError,
    // Node answers an HTTP/1.1 request without a Host header by itself, with an empty 400; it is
    // let through to be refused in the envelope instead (`onRequest` below).
    http: { requireHostHeader: false },
    // Input is validated with zod (server/parse-input.ts), not with route schemas: without these
    // Fastify would load Ajv and fast-json-stringify (about 0.6 MB of source) for nothing.
    schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } },
  });

  const serverSettings = services.config.server;
  applyReceiveLimits(app.server, serverSettings);
  useQuickJsonBodyParser(app);
  // A stop waits for the handlers still cleaning up after a cut connection (`running-handlers.ts`).
  waitForHandlersOnClose(
    app,
    (running) => services.logger.warn({ running }, 'shutdown: handlers still running after their connections closed'),
    options.handlerSettleMs,
  );
  const redact = redactorFor(services.config);
  const metricsPublic = options.metricsPublic ?? services.config.metricsPublic ?? false;
  const allowlist = serverSettings.allowedIps === undefined ? undefined : ipAllowlist(serverSettings.allowedIps, { useForwardedFor: serverSettings.useForwardedFor });

  app.decorateRequest('portico', null as unknown as RequestContext);

  // Graceful stop: Fastify closes idle connections and stops accepting; the connections still
  // serving a request are told to close after their response (`connection: close`), or closed as
  // soon as they turn idle when their headers are already out (streams).
  let closing = false;
  const inFlight = new InFlightResponses();
  // The response cache's own Redis connection, if it has one, goes with the server.
  const storedModels = services.storedModels;
  if (storedModels !== undefined) app.addHook('onClose', async () => storedModels.stop());
  const responseCache = services.responseCache;
  if (responseCache?.store.close !== undefined) {
    app.addHook('onClose', async () => {
      await responseCache.store.close!().catch((error: unknown) => services.logger.warn({ err: error }, 'shutdown: closing the response cache failed'));
    });
  }
  app.addHook('preClose', (done) => {
    closing = true;
    for (const response of inFlight) {
      if (!response.headersSent) response.shouldKeepAlive = false;
    }
    done();
  });

  app.addHook('onRequest', (request, reply, done) => {
    const routeOptions = request.routeOptions;
    const context: RequestContext = {
      requestId: request.id,
      route: routeOptions.url,
      auth: routeOptions.config.auth ?? 'key',
      startedAt: performance.now(),
      principal: null,
      modelGroup: '',
      upstreamMs: null,
      clientWaitMs: 0,
      deploymentId: null,
    };
    request.portico = context;
    const tracer = activeTracer();
    if (tracer) {
      const traceparent = request.headers.traceparent;
      context.trace = tracer.startRequest(`${request.method} ${context.route ?? UNMATCHED_ROUTE}`, typeof traceparent === 'string' ? traceparent : undefined, {
        'http.request.method': request.method,
        'http.route': context.route,
        'url.path': request.url.split('?', 1)[0],
        'portico.request_id': request.id,
      });
    }
    reply.header(REQUEST_ID_HEADER, request.id);
    const response = reply.raw;
    watchBodyArrival(request.raw, response, serverSettings, () => {
      services.logger.debug({ req_id: request.id }, 'request body arrived too slowly: connection closed');
      const socket = request.raw.socket;
      if (response.headersSent) socket.destroy();
      else answerOnSocketAndClose(socket, new GatewayError(408, 'The request body arrived too slowly.', { code: 'request_timeout' }));
    });
    const entry = inFlight.add(response);
    response.once('close', () => {
      inFlight.remove(entry);
      recordCompletedRequest(services, request, reply);
      if (closing) app.server.closeIdleConnections();
    });
    if (request.headers.host === undefined && request.raw.httpVersion === '1.1') {
      done(new InvalidRequestError('HTTP/1.1 requests must carry a Host header.', { code: 'missing_host_header' }));
      return;
    }
    if (closing) {
      done(
        new GatewayError(503, 'This Portico instance is shutting down; retry the request.', {
          type: 'server_error',
          code: 'shutting_down',
          isRetryable: true,
          headers: { connection: 'close' },
        }),
      );
      return;
    }
    // Before the key is read: a client not on `allowed_ips` learns nothing of it. The probes of
    // liveness and readiness stay open to the orchestrator.
    if (allowlist !== undefined && !(context.auth === 'none' && context.route?.startsWith('/health/'))) {
      const denied = allowlist.check(request.socket.remoteAddress, request.headers['x-forwarded-for']);
      if (denied !== undefined) {
        done(denied);
        return;
      }
    }
    if (context.trace) {
      const tracer = activeTracer()!;
      const auth = tracer.startSpan('auth', context.trace, 'internal', {});
      authenticateRequest(request, services.keys, metricsPublic, (error) => {
        tracer.setAttributes(auth, { 'portico.key_id': request.portico.principal?.keyId ?? undefined, 'portico.master_key': request.portico.principal?.isMaster || undefined });
        tracer.end(auth, error ?? undefined);
        done(error);
      }, services.consoleSessions);
      return;
    }
    authenticateRequest(request, services.keys, metricsPublic, done, services.consoleSessions);
  });

  app.setErrorHandler((error, request, reply) => {
    const response = errorToResponse(error, { requestId: request.id, redact });
    if (reply.raw.destroyed) {
      // The client went away (its disconnect aborted the upstream call): nobody to answer.
      services.logger.debug({ req_id: request.id, err: error }, 'request ended by the client');
    } else if (response.isInternal) {
      services.logger.error({ req_id: request.id, err: error }, 'request failed with an internal error');
    } else if (response.status >= 500) {
      services.logger.warn({ req_id: request.id, status: response.status, code: response.body.error.code }, response.body.error.message);
    }
    if (services.slackAlerts !== undefined) alertOnError(services.slackAlerts, request, response.status, response.body.error);
    // A handler may have described the body it meant to send (a download's octet-stream type,
    // length and file name) before it failed: the error envelope is JSON of its own length.
    for (const header of BODY_HEADERS) reply.removeHeader(header);
    const answer = request.routeOptions.config.errorShape === 'messages-api' ? inAnthropicShape(response) : response;
    reply.code(answer.status).headers(response.headers);
    closeIfBodyUnread(request.raw, reply);
    return reply.send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    // The query string is left out: `/key/info?key=sk-...` must not be echoed.
    const path = request.url.split('?', 1)[0];
    reply.send(new NotFoundError(`Invalid URL (${request.method} ${path})`));
  });

  registerKeyRateLimits(app, services);
  for (const module of options.routes ?? ROUTE_MODULES) {
    await module.register(app, services);
  }
  return app;
}

/** Route schemas are not part of Portico's design; a route declaring one fails at start-up. */
function noRouteSchemas(): never {
  throw new Error('Fastify route schemas are not used in Portico: validate input with zod (server/parse-input.ts).');
}

/**
 * Slack alerts of a failed request: the database not answering (`db_exceptions`), or a model
 * request whose upstream failed or refused it for its rate (`llm_exceptions`, a 5xx or a 429).
 * The message is the one the client got (already redacted).
 */
function alertOnError(alerts: SlackAlerts, request: FastifyRequest, status: number, error: { message: string; code: string | null }): void {
  if (error.code === 'database_unavailable') {
    alerts.alert('db_exceptions', 'database', 'High', `The database did not answer (request ${request.id}, ${request.method} ${request.portico.route ?? request.url.split('?', 1)[0]}): ${error.message}`);
    return;
  }
  const group = request.portico.modelGroup;
  if (!group || (status < 500 && status !== 429)) return;
  alerts.alert('llm_exceptions', `${group}\u0000${status}`, status === 429 ? 'Medium' : 'High', `A request to \`${group}\` failed with ${status}${error.code ? ` (${error.code})` : ''}: ${error.message} (request ${request.id})`);
}

/** The request line and the metrics, once the response ended or the client went away. */
function recordCompletedRequest(services: AppServices, request: FastifyRequest, reply: FastifyReply): void {
  const context = request.portico;
  const totalMs = performance.now() - context.startedAt;
  const clientClosed = !reply.raw.writableEnded;
  const status = clientClosed ? CLIENT_CLOSED_STATUS : reply.raw.statusCode;
  const route = context.route ?? UNMATCHED_ROUTE;
  services.litellmMetrics?.observeRequest(context, status, totalMs / 1000, context.upstreamMs === null ? null : context.upstreamMs / 1000);
  services.metrics.observeRequest({
    route,
    model: context.modelGroup,
    status,
    totalSeconds: totalMs / 1000,
    upstreamSeconds: context.upstreamMs === null ? null : context.upstreamMs / 1000,
    clientWaitSeconds: context.clientWaitMs / 1000,
  });
  if (context.trace) {
    const tracer = activeTracer();
    if (tracer) {
      // Ends with the response, a stream's last byte included.
      tracer.setAttributes(context.trace, { 'http.response.status_code': status, 'gen_ai.request.model': context.modelGroup || undefined, 'portico.key_id': context.principal?.keyId ?? undefined });
      tracer.end(context.trace, status >= 500 ? new Error(`HTTP ${status}`) : undefined);
    }
  }
  const alerts = services.slackAlerts;
  if (alerts !== undefined && context.modelGroup && status < 400 && totalMs > alerts.slowThresholdMs) {
    alerts.alert('llm_too_slow', context.modelGroup, 'Low', `A request to \`${context.modelGroup}\` took ${(totalMs / 1000).toFixed(1)} s, over the alerting_threshold of ${alerts.slowThresholdMs / 1000} s (request ${context.requestId}).`);
  }
  // Probes hit every few seconds: their lines are debug-level noise.
  const level = context.auth === 'none' ? 'debug' : 'info';
  if (!services.logger.isLevelEnabled(level)) return;
  writeRequestLine(services.logger, level, {
    req_id: context.requestId,
    method: request.method,
    route,
    model: context.modelGroup || undefined,
    status,
    duration_ms: round(totalMs),
    upstream_ms: context.upstreamMs === null ? undefined : round(context.upstreamMs),
    key_id: context.principal?.keyId ?? undefined,
    client_closed: clientClosed || undefined,
  });
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
