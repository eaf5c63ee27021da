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
import { tokensOfAnswer } from '../routing/rate-limits/deployment-budgets.ts';

/** Events larger than this are not searched for usage (usage events are small). */
const MAX_EVENT_CHARS = 64 * 1024;

/**
 * Characters per token for the estimate: OpenAI's rule of thumb for English text. An estimate
 * only has to keep a limit roughly honest; a tokenizer per model would cost more than it saves.
 */
const CHARS_PER_TOKEN = 4;

/** What one SSE event says about tokens. */
export interface EventTokens {
  /** `usage.total_tokens` (or its Responses form), 0 when the event has none. */
  usage: number;
  /** Characters of generated text in the event (content, refusal, tool arguments, text deltas). */
  generatedChars: number;
}

/**
 * Wraps `stream.body` so that `charge(tokens)` is called once, when the stream ends (or is
 * abandoned), with the tokens of the last `usage` seen, or, when there was none, an estimate
 * from the generated text relayed.
 */
export function meterStreamUsage(stream: UpstreamStream, charge: (tokens: number) => void): void {
  const source = stream.body;
  stream.body = {
    async *[Symbol.asyncIterator]() {
      const decoder = new TextDecoder();
      let pending = '';
      let usage = 0;
      let generatedChars = 0;
      try {
        for await (const chunk of source) {
          pending += decoder.decode(chunk, { stream: true });
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            const event = tokensOfEventText(pending.slice(0, end));
            usage = event.usage || usage;
            generatedChars += event.generatedChars;
            pending = pending.slice(end + 2);
            end = pending.indexOf('\n\n');
          }
          if (pending.length > MAX_EVENT_CHARS) pending = '';
          yield chunk;
        }
      } finally {
        charge(usage > 0 ? usage : Math.ceil(generatedChars / CHARS_PER_TOKEN));
      }
    },
  };
}

/** The total tokens of one SSE event's `usage`, 0 when it has none. */
export function tokensOfEvent(event: string): number {
  return tokensOfEventText(event).usage;
}

/** Usage and generated characters of one SSE event (the text between two blank lines). */
export function tokensOfEventText(event: string): EventTokens {
  const data = event
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  if (data === '' || data === '[DONE]') return { usage: 0, generatedChars: 0 };
  try {
    const parsed = JSON.parse(data) as { usage?: unknown } & ResponsesEvent;
    // Responses API events nest the answer: {"type": "response.completed", "response": {..., "usage"}}.
    const usage = parsed.usage != null ? tokensOfAnswer({ body: parsed }) : parsed.response?.usage != null ? tokensOfAnswer({ body: parsed.response }) : 0;
    return { usage, generatedChars: generatedCharsOfEvent(parsed) };
  } catch {
    return { usage: 0, generatedChars: 0 };
  }
}

interface ResponsesEvent {
  response?: { usage?: unknown };
}
