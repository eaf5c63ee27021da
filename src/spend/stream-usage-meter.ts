/**
 * The usage of a streamed answer, read as it is relayed (the bytes pass through unchanged): the
 * last `usage` an event carries (chat: the final chunk with `stream_options.include_usage`;
 * Responses: `response.completed`), else an estimate from the generated text. Only events that
 * mention `"usage"` are searched for it; others are parsed for their generated text only until
 * a usage arrives.
 */
import type { UpstreamStream } from '../spec/provider.ts';
import { generatedCharsOfEvent } from '../spec/stream-event-text.ts';
import { estimatedTokens, usageOf, type TokenUsage } from './token-usage.ts';

/** Events larger than this are not parsed (usage events are small). */
const MAX_EVENT_CHARS = 64 * 1024;

/** The stream ended (or was abandoned): its usage, or undefined plus the generated characters. */
export type StreamEnd = (usage: TokenUsage | undefined, generatedChars: number, completed: boolean) => void;

export function meterStreamSpend(stream: UpstreamStream, onEnd: StreamEnd): void {
  const source = stream.body;
  stream.body = {
    async *[Symbol.asyncIterator]() {
      const decoder = new TextDecoder();
      let pending = '';
      let usage: TokenUsage | undefined;
      let generatedChars = 0;
      let completed = false;
      try {
        for await (const chunk of source) {
          pending += decoder.decode(chunk, { stream: true });
          let end = pending.indexOf('\n\n');
          while (end !== -1) {
            const event = pending.slice(0, end);
            pending = pending.slice(end + 2);
            end = pending.indexOf('\n\n');
            const data = dataOf(event);
            if (data === undefined) continue;
            if (data.includes('"usage"')) usage = usageOfEvent(data) ?? usage;
            else if (usage === undefined) generatedChars += generatedCharsOf(data);
          }
          if (pending.length > MAX_EVENT_CHARS) pending = '';
          yield chunk;
        }
        completed = true;
      } finally {
        onEnd(usage, generatedChars, completed);
      }
    },
  };
}

export function estimatedCompletion(generatedChars: number): number {
  return estimatedTokens(generatedChars);
}

function dataOf(event: string): string | undefined {
  const at = event.indexOf('data:');
  if (at === -1) return undefined;
  const data = event.slice(at + 5).trim();
  return data === '' || data === '[DONE]' ? undefined : data;
}

function usageOfEvent(data: string): TokenUsage | undefined {
  try {
    const parsed = JSON.parse(data) as { usage?: unknown; response?: { usage?: unknown } };
    return usageOf(parsed.usage) ?? usageOf(parsed.response?.usage);
  } catch {
    return undefined;
  }
}

function generatedCharsOf(data: string): number {
  try {
    return generatedCharsOfEvent(JSON.parse(data));
  } catch {
    return 0;
  }
}
