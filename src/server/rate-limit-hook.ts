/**
 * A virtual key's `rpm_limit` / `tpm_limit` (LiteLLM `/key/generate`), enforced on the model
 * routes (those `spec/endpoints.ts` marks `rateLimited`) before the request goes upstream: over the
 * limit, the answer is OpenAI's 429 `rate_limit_exceeded` with `retry-after`.
 *
 * Cheap by construction: the hook is attached to the model routes only (other routes run no
 * extra hook at all), and a request whose key has no limit (the master key, most keys) leaves it
 * after two property reads; only limited keys touch the limiter (one Redis round trip with
 * `REDIS_URL`). Deployment `rpm`/`tpm` are the router's business (`RouterOptions.admission`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import { LiveRateLimits } from '../coordination/live-rate-limits.ts';
import { ROUTE_ENDPOINTS } from '../spec/endpoints.ts';
import { BudgetExceededError } from '../spec/errors.ts';
import { withAndWithoutV1 } from './routes/paths.ts';
import type { AppServices } from './services.ts';

/** The routes that call a model: what a key's requests and tokens per minute count. */
export const RATE_LIMITED_ROUTES: ReadonlySet<string> = new Set(
  ROUTE_ENDPOINTS.filter((endpoint) => endpoint.rateLimited).flatMap((endpoint) => withAndWithoutV1(endpoint.path)),
);

/** Call before the route modules register: it attaches the limit check to the model routes. */
export function registerKeyRateLimits(app: FastifyInstance, services: Pick<AppServices, 'limits'>): void {
  const limits = services.limits;
  const checkKeyLimits = limits === undefined ? undefined : (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction): void => {
    const principal = request.portico.principal;
    if (principal === null || !LiveRateLimits.hasKeyLimits(principal)) {
      done();
      return;
    }
    // The request's context (one object per request, made by Portico), not its client-chosen id.
    const accountingToken = request.portico;
    limits.admitKey(principal, accountingToken).then(
      () => {
        reply.raw.once('close', () => limits.forget(accountingToken));
        done();
      },
      (error: Error) => done(error),
    );
  };
  app.addHook('onRoute', (route) => {
    if (!RATE_LIMITED_ROUTES.has(route.url)) return;
    const existing = route.preHandler === undefined ? [] : Array.isArray(route.preHandler) ? route.preHandler : [route.preHandler];
    route.preHandler = [...existing, checkKeyBudget as preHandlerHookHandler, ...(checkKeyLimits ? [checkKeyLimits as preHandlerHookHandler] : [])];
  });
}

/**
 * A key over its `max_budget` is refused before anything else happens (LiteLLM's 400
 * `budget_exceeded`). Its spend is the one read with the key (the key cache keeps it up to ten
 * seconds), so a key may overshoot its budget by what it spends within that time.
 */
function checkKeyBudget(request: FastifyRequest, _reply: FastifyReply, done: HookHandlerDoneFunction): void {
  const budget = request.portico.principal?.budget;
  if (budget !== undefined && budget.spend >= budget.max) {
    done(new BudgetExceededError(budget.spend, budget.max));
    return;
  }
  done();
}
