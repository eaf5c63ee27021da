/**
 * Token usage of a streamed answer, read as it is relayed: OpenAI-framed server-sent events
 * carry `usage` in their last events (chat: the final chunk when the client asked for
 * `stream_options.include_usage`; Responses: `response.completed`). Only requests that a `tpm`
 * limit applies to are metered; the bytes pass through unchanged.
 */
import type { UpstreamStream } from '../spec/provider.ts';
import { tokensOfAnswer } from '../routing/rate-limits/deployment-budgets.ts';

/** Events larger than this are not searched for usage (usage events are small). */
const MAX_EVENT_CHARS = 64 * 1024;

/**
 * Wraps `stream.body` so that `charge(tokens)` is called once, when the stream ends (or is
 * abandoned), with the tokens of the last `usage` seen (nothing when none was).
 */
export function meterStreamUsage(stream: UpstreamStream, charge: (tokens: number) => void): void {
  const source = stream.body;
  stream.body = {
    async *[Symbol.asyncIterator]() {
      const decoder = new TextDecoder();
      let pending = '';
      let tokens = 0;
      try {
        for await (const chunk of source) {
          pending += decoder.decode(chunk, { stream: true });
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            tokens = tokensOfEvent(pending.slice(0, end)) || tokens;
            pending = pending.slice(end + 2);
            end = pending.indexOf('\n\n');
          }
          if (pending.length > MAX_EVENT_CHARS) pending = '';
          yield chunk;
        }
      } finally {
        charge(tokens);
      }
    },
  };
}

/** The total tokens of one SSE event's `usage`, 0 when it has none. */
export function tokensOfEvent(event: string): number {
  if (!event.includes('"usage"')) return 0;
  const data = event
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  if (data === '' || data === '[DONE]') return 0;
  try {
    const parsed = JSON.parse(data) as { usage?: unknown; response?: { usage?: unknown } };
    // Responses API events nest the answer: {"type": "response.completed", "response": {..., "usage"}}.
    return tokensOfAnswer({ body: parsed.usage !== undefined ? parsed : parsed.response });
  } catch {
    return 0;
  }
}
