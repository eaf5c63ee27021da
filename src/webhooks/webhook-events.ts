/**
 * The events Portico sends to webhooks, in OpenAI's shape
 * (https://platform.openai.com/docs/guides/webhooks):
 * `{"object": "event", "id": "evt_...", "type": "batch.completed", "created_at": 1750000000, "data": {"id": "batch_..."}}`.
 *
 * An event's id is derived from what happened (its type and subject), not drawn at random: a
 * batch reaches its terminal state once, and a finalisation retried after a crash writes the same
 * event again, which the outbox keeps once. The id also stays the same on every delivery attempt
 * (`webhook-id`), so receivers deduplicate by it.
 */
import { createHash } from 'node:crypto';
import type { WebhookEventType } from '../config/types.ts';

export interface WebhookEvent {
  object: 'event';
  id: string;
  type: WebhookEventType;
  created_at: number;
  data: { id: string } & Record<string, unknown>;
}

/** `evt_` and 32 hex digits, the same for the same type and subject (and occurrence). */
export function eventIdFor(type: WebhookEventType, subjectId: string, occurrence = ''): string {
  return `evt_${createHash('sha256').update(`${type}\n${subjectId}\n${occurrence}`).digest('hex').slice(0, 32)}`;
}

export function webhookEvent(type: WebhookEventType, data: WebhookEvent['data'], createdAt: number, occurrence = ''): WebhookEvent {
  return { object: 'event', id: eventIdFor(type, data.id, occurrence), type, created_at: Math.floor(createdAt), data };
}
