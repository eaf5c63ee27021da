/**
 * The usage of a streamed answer, read as it is relayed (the bytes pass through unchanged): the
 * last `usage` an event carries (chat: the final chunk with `stream_options.include_usage`;
 * Responses: `response.completed`), else an estimate from the generated text. Only events that
 * mention `"usage"` are searched for it; others are parsed for their generated text only until
 * a usage arrives. The events are read once for every meter of the stream (`spec/stream-event-tap.ts`).
 */
import type { UpstreamStream } from '../spec/provider.ts';
import { generatedCharsOfEvent } from '../spec/stream-event-text.ts';
import { readStreamEvents } from '../spec/stream-event-tap.ts';
import { usageOf, type TokenUsage } from './token-usage.ts';

/** The stream ended (or was abandoned): its usage, or undefined plus the generated characters. */
export type StreamEnd = (usage: TokenUsage | undefined, generatedChars: number, completed: boolean) => void;

export function meterStreamSpend(stream: UpstreamStream, onEnd: StreamEnd): void {
  let usage: TokenUsage | undefined;
  let generatedChars = 0;
  readStreamEvents(stream, {
    event(data, json) {
      if (data.includes('"usage"')) usage = usageOfEvent(json()) ?? usage;
      else if (usage === undefined) generatedChars += generatedCharsOfEvent(json());
    },
    end(completed) {
      onEnd(usage, generatedChars, completed);
    },
  });
}

function usageOfEvent(parsed: unknown): TokenUsage | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const event = parsed as { usage?: unknown; response?: { usage?: unknown } };
  return usageOf(event.usage) ?? usageOf(event.response?.usage);
}
