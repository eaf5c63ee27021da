/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com/, the scheme OpenAI's webhooks
 * use): `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the endpoint's
 * `whsec_` secret, by the `standardwebhooks` library. The timestamp is the attempt's, so a retry
 * a day later is still within a receiver's tolerance (5 minutes in the openai SDK's `unwrap`).
 */
import { Webhook } from 'standardwebhooks';

export function signedHeaders(secret: string, eventId: string, body: string, at: Date = new Date()): Record<string, string> {
  return {
    'content-type': 'application/json',
    'webhook-id': eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(secret).sign(eventId, at, body),
  };
}
