/**
 * The tokens of an answer in Anthropic's shape (a Messages request passed through), as a ledger
 * row counts them: Anthropic counts the prompt's cached and cache-written tokens apart from
 * `input_tokens`; OpenAI's prompt tokens, and the row's, include them
 * (https://docs.anthropic.com/en/api/messages, `usage`).
 */
import type { TokenUsage } from './token-usage.ts';

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

/** `usage` of a message, of `message_start`'s message, or of `message_delta` (its `output_tokens` a running total). */
export function anthropicUsageOf(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const u = usage as Record<string, unknown>;
  const cached = count(u.cache_read_input_tokens);
  const prompt = count(u.input_tokens) + count(u.cache_creation_input_tokens) + cached;
  const completion = count(u.output_tokens);
  return { promptTokens: prompt, completionTokens: completion, cachedTokens: cached, reasoningTokens: 0, totalTokens: prompt + completion };
}

/**
 * Reads a Messages stream's usage as its events pass: the prompt's from `message_start`, the
 * output's from the last `message_delta` (Anthropic's running total).
 */
export class AnthropicStreamUsage {
  #prompt: TokenUsage | undefined;
  #output = 0;

  event(parsed: unknown): void {
    if (parsed === null || typeof parsed !== 'object') return;
    const event = parsed as { type?: unknown; message?: { usage?: unknown }; usage?: unknown };
    if (event.type === 'message_start') this.#prompt = anthropicUsageOf(event.message?.usage);
    else if (event.type === 'message_delta') {
      const delta = anthropicUsageOf(event.usage);
      if (delta !== undefined && delta.completionTokens > 0) this.#output = delta.completionTokens;
      // Newer answers restate the prompt's counts on the delta (server tool use): the larger wins.
      if (delta !== undefined && delta.promptTokens > (this.#prompt?.promptTokens ?? 0)) this.#prompt = { ...delta, completionTokens: 0, totalTokens: delta.promptTokens };
    }
  }

  get usage(): TokenUsage | undefined {
    if (this.#prompt === undefined && this.#output === 0) return undefined;
    const prompt = this.#prompt?.promptTokens ?? 0;
    return { promptTokens: prompt, completionTokens: this.#output, cachedTokens: this.#prompt?.cachedTokens ?? 0, reasoningTokens: 0, totalTokens: prompt + this.#output };
  }
}
