/** `GET /metrics`: Prometheus exposition. Master key required unless `PORTICO_METRICS_PUBLIC=1`. */
import type { RouteModule } from '../services.ts';

export const metricsRoutes: RouteModule = {
  name: 'metrics',
  register(app, services) {
    app.get('/metrics', { config: { auth: 'metrics' } }, async (_request, reply) => {
      const text = await services.metrics.render();
      return reply.type(services.metrics.contentType).send(text);
    });
  },
};
