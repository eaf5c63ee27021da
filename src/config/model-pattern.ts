/**
 * LiteLLM's wildcard routes: a `model_name` with `*` (`"*"`, `"openai/*"`, `"claude-*"`) serves
 * every requested model it matches, and the `*`s of its `litellm_params.model` take what the
 * request's name put in the `*`s of the `model_name` (`claude-*` -> `anthropic/claude-*`:
 * `claude-3-haiku` is sent as `claude-3-haiku`). `model: "*"` alone sends the name to the
 * provider the name implies.
 */
export const ANY_MODEL = '*';

export function isModelPattern(name: string): boolean {
  return name.includes('*');
}

const compiled = new Map<string, RegExp>();

function regexOf(pattern: string): RegExp {
  let regex = compiled.get(pattern);
  if (regex === undefined) {
    regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('(.*)')}$`, 's');
    compiled.set(pattern, regex);
  }
  return regex;
}

/** What the `*`s of `pattern` matched in `name`, in order; undefined when it does not match. */
export function matchModelPattern(pattern: string, name: string): string[] | undefined {
  const match = regexOf(pattern).exec(name);
  return match ? match.slice(1) : undefined;
}

export function matchesModelPattern(pattern: string, name: string): boolean {
  return regexOf(pattern).test(name);
}

/** `template` (`claude-*`) with its `*`s filled by `captures`, in order (the last one repeated). */
export function fillModelPattern(template: string, captures: readonly string[]): string {
  let position = 0;
  return template.replace(/\*/g, () => captures[Math.min(position++, captures.length - 1)] ?? '');
}

/**
 * How specific a pattern is: patterns are tried most specific first (`openai/gpt-4*` before
 * `openai/*` before `*`), as LiteLLM orders them; an exact model group always wins.
 */
export function patternSpecificity(pattern: string): number {
  return pattern.replace(/\*/g, '').length * 100 - (pattern.match(/\*/g)?.length ?? 0);
}
