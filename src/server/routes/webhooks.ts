/**
 * The webhook outbox, for the operator (master key): what was sent where, what is still being
 * retried or was given up, and every attempt with its status code or error.
 *
 *   GET /webhooks/deliveries?status=pending|delivered|failed&type=batch.completed&limit=20&after=whd_...
 *   GET /webhooks/deliveries/{id}     (with its attempts)
 */
import { z } from 'zod';
import { NotFoundError } from '../../spec/errors.ts';
import type { WebhookAttempt, WebhookDelivery } from '../../storage/webhook-store.ts';
import { parseQuery } from '../parse-input.ts';
import type { RouteModule } from '../services.ts';

const listQuery = z.looseObject({
  status: z.enum(['pending', 'delivered', 'failed']).optional(),
  type: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
  after: z.string().min(1).max(64).optional(),
});

function deliveryObject(delivery: WebhookDelivery) {
  return {
    object: 'webhook.delivery',
    id: delivery.id,
    event_id: delivery.eventId,
    event_type: delivery.eventType,
    endpoint: delivery.endpointUrl,
    status: delivery.status,
    attempts: delivery.attempts,
    created_at: Math.floor(delivery.createdAt),
    next_attempt_at: delivery.status === 'pending' ? Math.floor(delivery.nextAttemptAt) : null,
    finished_at: delivery.finishedAt === null ? null : Math.floor(delivery.finishedAt),
    last_status_code: delivery.lastStatusCode,
    last_error: delivery.lastError,
    event: JSON.parse(delivery.payload) as unknown,
  };
}

function attemptObject(attempt: WebhookAttempt) {
  return { attempt: attempt.attempt, started_at: Math.floor(attempt.startedAt), duration_ms: attempt.durationMs, status_code: attempt.statusCode, error: attempt.error };
}

export const webhookRoutes: RouteModule = {
  name: 'webhooks',
  register(app, services) {
    const store = services.managed?.webhookStore;
    if (!store) return;
    app.get('/webhooks/deliveries', { config: { auth: 'master' } }, async (request) => {
      const query = parseQuery(listQuery, request.query);
      const limit = query.limit ?? 20;
      const rows = await store.list({ status: query.status, eventType: query.type, limit: limit + 1, before: query.after });
      return { object: 'list', data: rows.slice(0, limit).map(deliveryObject), has_more: rows.length > limit };
    });
    app.get('/webhooks/deliveries/:id', { config: { auth: 'master' } }, async (request) => {
      const { id } = request.params as { id: string };
      const delivery = await store.get(id);
      if (!delivery) throw new NotFoundError(`No such webhook delivery: ${id.slice(0, 100)}`);
      return { ...deliveryObject(delivery), attempt_history: (await store.attemptsOf(id)).map(attemptObject) };
    });
  },
};
