/**
 * What an audio answer says it used, for its spend row (`spend/pricing.ts` `audioCost`): read from
 * the transcript object or the last event of an audio stream.
 */
import { type TokenUsage, usageOf } from './token-usage.ts';

/**
 * What an audio answer is billed by, as far as it says: tokens (gpt-4o-transcribe,
 * gpt-4o-mini-tts: `usage` with `input_tokens` / `output_tokens`), seconds of audio (whisper-1:
 * `usage: {type: "duration", seconds}`, or a verbose transcript's `duration`), or neither (a
 * plain-text transcript, speech as bytes).
 */
export interface AudioUsage {
  readonly tokens?: TokenUsage;
  readonly seconds?: number;
}

/** The usage of a transcript object (OpenAI's `CreateTranscriptionResponseJson` / `...VerboseJson`) or a `transcript.text.done` / `speech.audio.done` event. */
export function audioUsageOf(answer: unknown): AudioUsage {
  if (answer === null || typeof answer !== 'object') return {};
  const { usage, duration } = answer as { usage?: unknown; duration?: unknown };
  if (usage !== null && typeof usage === 'object') {
    const typed = usage as { type?: unknown; seconds?: unknown };
    if (typed.type === 'duration') return positive(typed.seconds) ? { seconds: typed.seconds } : {};
    const tokens = usageOf(usage);
    if (tokens !== undefined && tokens.totalTokens > 0) return { tokens };
  }
  return positive(duration) ? { seconds: duration } : {};
}

function positive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0;
}
