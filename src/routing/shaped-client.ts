/**
 * A provider client whose chat requests are shaped for its deployment (`request-shaping.ts`):
 * defaults filled in, unsupported or unwanted parameters dropped, and the drops reported on the
 * answer (`droppedParams`) so the route can tell the client.
 */
import type { ProviderClient } from '../spec/provider.ts';
import { type RequestShaping, shapeRequest } from './request-shaping.ts';

export function withRequestShaping(client: ProviderClient, shaping: RequestShaping): ProviderClient {
  return Object.freeze({
    ...client,
    async chatCompletions(body, options) {
      const { body: shaped, dropped } = shapeRequest(body, shaping);
      const answer = await client.chatCompletions(shaped, options);
      return dropped.length > 0 ? { ...answer, droppedParams: dropped } : answer;
    },
    async chatCompletionsStream(body, options) {
      const { body: shaped, dropped } = shapeRequest(body, shaping);
      const answer = await client.chatCompletionsStream(shaped, options);
      return dropped.length > 0 ? { ...answer, droppedParams: dropped } : answer;
    },
  } satisfies ProviderClient);
}
