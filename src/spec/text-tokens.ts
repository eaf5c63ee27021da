/**
 * Token counts estimated from text, where an answer reports none: a stream without `usage`, a
 * provider that never counts (Workers AI's older models), a prompt checked against a context
 * window. OpenAI's rule of thumb for English text, 4 characters a token; LiteLLM counts such
 * answers with a tokenizer (measured and not adopted: bench/README.md, "A real tokenizer for the
 * estimate?").
 */

export const CHARS_PER_TOKEN = 4;

/** Tokens estimated from characters of text. */
export function estimatedTokens(chars: number): number {
  return Math.ceil(chars / CHARS_PER_TOKEN);
}

/**
 * Characters of the text a request sends (messages' string and text-part contents, `input`,
 * `prompt`, `instructions`), for a prompt estimate.
 */
export function promptCharsOf(body: Record<string, unknown>): number {
  let chars = 0;
  const add = (value: unknown): void => {
    if (typeof value === 'string') chars += value.length;
    else if (Array.isArray(value)) for (const item of value) add(item);
    else if (value !== null && typeof value === 'object') {
      const part = value as Record<string, unknown>;
      add(part.content);
      add(part.text);
    }
  };
  add(body.messages);
  add(body.input);
  add(body.prompt);
  add(body.instructions);
  return chars;
}
