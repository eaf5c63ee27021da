/**
 * A provider client whose chat requests are shaped for its deployment (`request-shaping.ts`):
 * defaults filled in, unsupported or unwanted parameters dropped, and the drops reported on the
 * answer (`droppedParams`) so the route can tell the client.
 */
import type { ProviderClient } from '../spec/provider.ts';
import { type RequestShaping, shapeRequest, shapesRequests } from './request-shaping.ts';

export function withRequestShaping(client: ProviderClient, shaping: RequestShaping): ProviderClient {
  const active = shapesRequests(shaping);
  return Object.freeze({
    ...client,
    // Not async: an unshaped request costs no extra promise on the hot path.
    chatCompletions(body, options) {
      const { body: shaped, dropped } = shapeRequest(body, shaping, active);
      const answer = client.chatCompletions(shaped, options);
      return dropped.length === 0 ? answer : answer.then((result) => ({ ...result, droppedParams: dropped }));
    },
    chatCompletionsStream(body, options) {
      const { body: shaped, dropped } = shapeRequest(body, shaping, active);
      const answer = client.chatCompletionsStream(shaped, options);
      return dropped.length === 0 ? answer : answer.then((result) => ({ ...result, droppedParams: dropped }));
    },
  } satisfies ProviderClient);
}
