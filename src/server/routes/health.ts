/**
 * Probes, without auth: liveliness (LiteLLM's spelling, plus the Kubernetes `liveness`) answers
 * while the process runs; readiness answers 200 only while the database does. And LiteLLM's
 * `GET /health` (master key): a real call to each deployment (`model-health.ts`), `?model=` for
 * one model group's.
 */
import { redactorFor } from '../../config/secret-redactor.ts';
import { DatabaseUnavailableError, NotFoundError } from '../../spec/errors.ts';
import { echoName } from '../model-access.ts';
import { checkModelHealth } from '../model-health.ts';
import { BackgroundHealthChecks } from '../background-health.ts';
import { singleValuedQuery } from '../parse-input.ts';
import type { RouteModule } from '../services.ts';

const READINESS_TIMEOUT_MS = 2_000;
const workerId = process.env.PORTICO_WORKER_ID;

export const healthRoutes: RouteModule = {
  name: 'health',
  register(app, services) {
    for (const url of ['/health/liveliness', '/health/liveness']) {
      // Which process answered (several workers share the port).
      app.get(url, { config: { auth: 'none' } }, async () => ({ status: 'alive', pid: process.pid, ...(workerId !== undefined && { worker: Number(workerId) }) }));
    }
    app.get('/health/readiness', { config: { auth: 'none' } }, async () => {
      try {
        await withTimeout(services.database.ping(), READINESS_TIMEOUT_MS);
      } catch (error) {
        services.logger.warn({ err: error }, 'readiness: database unreachable');
        throw new DatabaseUnavailableError('The database is not reachable.');
      }
      return { status: 'ready', database: services.database.dialect };
    });
    const redact = redactorFor(services.config);
    const checkAll = () => checkModelHealth(services.router.deployments(), (deployment) => services.router.clientFor(deployment.id), redact);
    const settings = services.config.server.backgroundHealthChecks;
    const background = settings === undefined ? undefined : new BackgroundHealthChecks(checkAll, settings.intervalMs, (error) => services.logger.warn({ err: error }, 'background health check failed'));
    if (background !== undefined) {
      app.addHook('onReady', async () => background.start());
      app.addHook('onClose', async () => background.stop());
    }
    app.get('/health', { config: { auth: 'master' } }, async (request) => {
      const group = singleValuedQuery(request.query).model;
      // With background checks, the whole proxy's answer is their latest (LiteLLM's); one group's is checked now.
      if (background !== undefined && group === undefined) return background.latest();
      const deployments = services.router.deployments().filter((deployment) => group === undefined || deployment.modelGroup === group);
      if (group !== undefined && deployments.length === 0) {
        throw new NotFoundError(`The model \`${echoName(group)}\` does not exist.`, { param: 'model', code: 'model_not_found' });
      }
      return checkModelHealth(deployments, (deployment) => services.router.clientFor(deployment.id), redact);
    });
  },
};

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
