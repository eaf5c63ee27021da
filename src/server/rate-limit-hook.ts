/**
 * The budgets and limits of a caller's key, user and team (`spec/budget-subjects.ts`), enforced
 * on the model routes (those `spec/endpoints.ts` marks `rateLimited`) before the request goes
 * upstream:
 * - `max_budget`: LiteLLM's 400 `budget_exceeded` (`checkBudgets`);
 * - `model_max_budget`: the same, for the requested model group (`server/model-budgets.ts`);
 * - `rpm_limit` / `tpm_limit` / `max_parallel_requests`: OpenAI's 429 `rate_limit_exceeded` with
 *   `retry-after` (`coordination/live-rate-limits.ts`); the parallel slots are given back when
 *   the response closes: answered, streamed to its end, failed, or cut by the client;
 * - and before them all, `general_settings.global_max_parallel_requests`: the model requests of
 *   this process at once, whoever sends them (`server/process-parallel-limit.ts`), then
 *   `litellm_settings.max_budget`: the spend of the whole proxy (`server/proxy-budget.ts`).
 *
 * Cheap by construction: the hooks are attached to the model routes only, the budgets are read
 * from the principal (the key cache), and a request whose subjects have no limit (the master
 * key, most keys) touches no limiter; only limited subjects cost a round trip (one to Redis with
 * `REDIS_URL`). Deployment `rpm`/`tpm` are the router's business (`RouterOptions.admission`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import { LiveRateLimits } from '../coordination/live-rate-limits.ts';
import { assertWithinBudgets } from '../spec/budget-subjects.ts';
import { ROUTE_ENDPOINTS } from '../spec/endpoints.ts';
import { ModelBudgets } from './model-budgets.ts';
import { ProcessParallelLimit } from './process-parallel-limit.ts';
import { ProxyBudget } from './proxy-budget.ts';
import { modelEndpointUrls, withAndWithoutV1 } from './routes/paths.ts';
import { AUDIO_PATHS } from '../spec/audio.ts';
import { ANTHROPIC_MESSAGES_PATH } from '../spec/anthropic-messages.ts';
import type { AppServices } from './services.ts';

/** The routes that call a model: what a key's requests and tokens per minute count. */
export const RATE_LIMITED_ROUTES: ReadonlySet<string> = new Set([
  ...ROUTE_ENDPOINTS.filter((endpoint) => endpoint.rateLimited).flatMap(modelEndpointUrls),
  ...AUDIO_PATHS.flatMap(withAndWithoutV1),
  ...withAndWithoutV1(ANTHROPIC_MESSAGES_PATH),
]);

/** Call before the route modules register: it attaches the checks to the model routes. */
export function registerKeyRateLimits(app: FastifyInstance, services: Pick<AppServices, 'limits' | 'config' | 'modelBudgets' | 'proxyBudget'>): void {
  const limits = services.limits;
  const checkLimits = limits === undefined ? undefined : (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const principal = request.portico.principal;
    if (principal === null || !LiveRateLimits.appliesTo(principal)) {
      done();
      return;
    }
    // The request's context (one object per request, made by Portico), not its client-chosen id.
    const accountingToken = request.portico;
    // Listening before admitting: a client gone while the slots were taken still gives them back.
    let closed = false;
    reply.raw.once('close', () => {
      closed = true;
      limits.release(accountingToken);
    });
    limits.admit(principal, accountingToken).then(
      () => {
        if (closed) limits.release(accountingToken);
        done();
      },
      (error: Error) => done(error),
    );
  };
  const modelBudgets = services.modelBudgets;
  const checkModelBudgets = modelBudgets === undefined ? undefined : (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const principal = request.portico.principal;
    const model = (request.body as { model?: unknown } | null | undefined)?.model;
    if (principal === null || typeof model !== 'string' || !ModelBudgets.appliesTo(principal, model)) {
      done();
      return;
    }
    modelBudgets.check(principal, model).then(
      () => done(),
      (error: Error) => done(error),
    );
  };
  const cap = services.config.server.globalMaxParallelRequests;
  const processLimit = cap === undefined ? undefined : new ProcessParallelLimit(cap);
  const checkProcessLimit = processLimit === undefined ? undefined : (_request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const refused = processLimit.tryEnter();
    if (refused !== undefined) {
      done(refused);
      return;
    }
    // Given back once the answer is handed to the socket ('finish'), or when the connection closes
    // without one: a client sending its next request as soon as it read an answer finds the slot
    // free ('close' may come after that request).
    let left = false;
    const leave = (): void => {
      if (left) return;
      left = true;
      processLimit.leave();
    };
    reply.raw.once('finish', leave);
    reply.raw.once('close', leave);
    done();
  };
  const proxyBudget = services.proxyBudget;
  const checkProxyBudget = proxyBudget === undefined ? undefined : (request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    if (!ProxyBudget.appliesTo(request.portico.principal)) {
      done();
      return;
    }
    proxyBudget.check().then(
      () => done(),
      (error: Error) => done(error),
    );
  };
  const added = [checkProcessLimit, checkProxyBudget, checkBudgets, checkModelBudgets, checkLimits].filter((hook) => hook !== undefined) as preHandlerHookHandler[];
  app.addHook('onRoute', (route) => {
    if (!RATE_LIMITED_ROUTES.has(route.url)) return;
    const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...existing, ...added];
  });
}

/**
 * A key, user or team over its `max_budget` is refused before anything else happens (LiteLLM's
 * 400 `budget_exceeded`). Their spend is the one read with the key (the key cache keeps it up to
 * its TTL, ten seconds by default), so a subject may overshoot its budget by what it spends
 * within that time.
 */
function checkBudgets(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const principal = request.portico.principal;
  if (principal === null) {
    done();
    return;
  }
  try {
    assertWithinBudgets(principal);
  } catch (error) {
    done(error as Error);
    return;
  }
  done();
}
