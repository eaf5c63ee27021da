/**
 * `GET /deployments` (master key): every configured deployment with its health (cooling down or
 * not, and until when: LiteLLM's `allowed_fails` / `cooldown_time`) and its current use of its
 * `rpm` / `tpm` over the last minute, live requests and batch lines together (the counters the
 * router admits against, shared through Redis when `REDIS_URL` is set). The web console's
 * Deployments page reads it. No secret is in it: no API key, no `api_base`. `db_model`: a model
 * added through the API (`store_model_in_db`), which the console may delete; `store_model_in_db`:
 * whether models can be added so.
 */
import type { RouteModule } from '../services.ts';

export const deploymentRoutes: RouteModule = {
  name: 'deployments',
  register(app, services) {
    app.get('/deployments', { config: { auth: 'master' } }, async () => {
      const deployments = services.router.deployments();
      const now = Date.now();
      const cooling = services.router.cooldownEnds(deployments.map((deployment) => deployment.id));
      const usage = await Promise.all(deployments.map(async (deployment): Promise<{ rpm?: number; tpm?: number }> => (await services.limits?.deploymentUsage(deployment)) ?? {}));
      const stored = services.storedModels;
      return {
        object: 'list',
        store_model_in_db: stored !== undefined,
        data: deployments.map((deployment, i) => {
          const until = cooling.get(deployment.id);
          return {
            id: deployment.id,
            model_name: deployment.modelGroup,
            provider: deployment.providerName,
            model: deployment.upstreamModel,
            batch_mode: deployment.batchMode,
            db_model: stored?.isStored(deployment.id) ?? false,
            status: until === undefined ? 'healthy' : 'cooling_down',
            cooldown_until: until === undefined ? null : new Date(until).toISOString(),
            cooldown_remaining_seconds: until === undefined ? null : Math.max(0, Math.ceil((until - now) / 1000)),
            rpm_limit: deployment.rpm ?? null,
            tpm_limit: deployment.tpm ?? null,
            rpm_used: usage[i].rpm ?? null,
            tpm_used: usage[i].tpm ?? null,
          };
        }),
      };
    });
  },
};
