/**
 * The tokens of one answer, split as a ledger row needs them, read from OpenAI's `usage` in any
 * of its shapes: Chat Completions (`prompt_tokens`, `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`, `completion_tokens_details.reasoning_tokens`),
 * Responses (`input_tokens`, `output_tokens`, `input_tokens_details.cached_tokens`,
 * `output_tokens_details.reasoning_tokens`) and Embeddings (`prompt_tokens`, `total_tokens`).
 * https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  /** Of the prompt tokens, those read from the provider's prompt cache. */
  cachedTokens: number;
  /** Of the completion tokens, those spent reasoning. */
  reasoningTokens: number;
  totalTokens: number;
}

export const NO_USAGE: TokenUsage = Object.freeze({ promptTokens: 0, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0, totalTokens: 0 });

/** The usage of an answer body (`{usage: ...}`); undefined when it carries none. */
export function usageOfBody(body: unknown): TokenUsage | undefined {
  if (body === null || typeof body !== 'object') return undefined;
  return usageOf((body as { usage?: unknown }).usage);
}

/** Reads one `usage` object; undefined when it is not one. */
export function usageOf(usage: unknown): TokenUsage | undefined {
  if (usage === null || typeof usage !== 'object') return undefined;
  const u = usage as Record<string, unknown>;
  const prompt = count(u.prompt_tokens) || count(u.input_tokens);
  const completion = count(u.completion_tokens) || count(u.output_tokens);
  const cached = count(detail(u.prompt_tokens_details, 'cached_tokens')) || count(detail(u.input_tokens_details, 'cached_tokens'));
  const reasoning = count(detail(u.completion_tokens_details, 'reasoning_tokens')) || count(detail(u.output_tokens_details, 'reasoning_tokens'));
  const total = count(u.total_tokens) || prompt + completion;
  return { promptTokens: prompt, completionTokens: completion, cachedTokens: Math.min(cached, prompt), reasoningTokens: reasoning, totalTokens: total };
}

function detail(details: unknown, name: string): unknown {
  return details !== null && typeof details === 'object' ? (details as Record<string, unknown>)[name] : undefined;
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}
