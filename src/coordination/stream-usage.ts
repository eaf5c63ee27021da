/**
 * Token usage of a streamed answer, read as it is relayed: OpenAI-framed server-sent events
 * carry `usage` in their last events (chat: the final chunk when the client asked for
 * `stream_options.include_usage`; Responses: `response.completed`). A stream without `usage`
 * (the client did not ask for it) is charged an estimate of its generated tokens instead, so
 * that a `tpm` limit still holds. Only requests that a `tpm` limit applies to are metered; the
 * bytes pass through unchanged.
 */
import type { UpstreamStream } from '../spec/provider.ts';
import { generatedCharsOfEvent } from '../spec/stream-event-text.ts';
import { dataOf, readStreamEvents } from '../spec/stream-event-tap.ts';
import { tokensOfAnswer } from '../routing/rate-limits/deployment-budgets.ts';
import { estimatedTokens } from '../spec/text-tokens.ts';

/** What one SSE event says about tokens. */
export interface EventTokens {
  /** `usage.total_tokens` (or its Responses form), 0 when the event has none. */
  usage: number;
  /** Characters of generated text in the event (content, refusal, tool arguments, text deltas). */
  generatedChars: number;
}

/**
 * Meters `stream` as it is relayed: `charge(tokens)` is called once, when the stream ends (or is
 * abandoned), with the tokens of the last `usage` seen, or, when there was none, an estimate from
 * the generated text relayed. The events are read once for every meter of the stream
 * (`spec/stream-event-tap.ts`).
 */
export function meterStreamUsage(stream: UpstreamStream, charge: (tokens: number) => void): void {
  let usage = 0;
  let generatedChars = 0;
  readStreamEvents(stream, {
    event(_data, json) {
      const tokens = tokensOfParsedEvent(json());
      usage = tokens.usage || usage;
      generatedChars += tokens.generatedChars;
    },
    end() {
      charge(usage > 0 ? usage : estimatedTokens(generatedChars));
    },
  });
}

/** The total tokens of one SSE event's `usage`, 0 when it has none. */
export function tokensOfEvent(event: string): number {
  return tokensOfEventText(event).usage;
}

/** Usage and generated characters of one SSE event (the text between two blank lines). */
export function tokensOfEventText(event: string): EventTokens {
  const data = dataOf(event);
  if (data === undefined) return { usage: 0, generatedChars: 0 };
  try {
    return tokensOfParsedEvent(JSON.parse(data));
  } catch {
    return { usage: 0, generatedChars: 0 };
  }
}

/** Usage and generated characters of one parsed event (undefined: not JSON). */
function tokensOfParsedEvent(parsed: unknown): EventTokens {
  if (typeof parsed !== 'object' || parsed === null) return { usage: 0, generatedChars: 0 };
  const event = parsed as { usage?: unknown } & ResponsesEvent;
  // Responses API events nest the answer: {"type": "response.completed", "response": {..., "usage"}}.
  const usage = event.usage != null ? tokensOfAnswer({ body: event }) : event.response?.usage != null ? tokensOfAnswer({ body: event.response }) : 0;
  return { usage, generatedChars: generatedCharsOfEvent(event) };
}

interface ResponsesEvent {
  response?: { usage?: unknown };
}
