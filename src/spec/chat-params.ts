/**
 * Checks of OpenAI chat parameters that every translating provider makes alike before it maps
 * them to its own names: a 400 naming the parameter, in OpenAI's words, for a value OpenAI's API
 * would refuse too. What each provider does with a valid value stays in its folder.
 */
import { InvalidRequestError } from './errors.ts';

/** A number within `min..max`, else a 400 naming `param`. */
export function numberIn(value: unknown, param: string, min: number, max: number): number {
  if (typeof value !== 'number' || Number.isNaN(value) || value < min || value > max) {
    throw new InvalidRequestError(`'${param}' must be a number between ${min} and ${max}.`, { param });
  }
  return value;
}

/** An integer of at least 1, else a 400 naming `param`. */
export function positiveInteger(value: unknown, param: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new InvalidRequestError(`'${param}' must be a positive integer.`, { param });
  return value;
}

/** `max_completion_tokens`, which supersedes the deprecated `max_tokens`, else `max_tokens`; undefined when neither is set. */
export function maxTokensOf(body: Record<string, unknown>): number | undefined {
  const param = body.max_completion_tokens != null ? 'max_completion_tokens' : 'max_tokens';
  const value = body[param];
  return value == null ? undefined : positiveInteger(value, param);
}

/** `stop` as a list (a string is one sequence); undefined when absent or empty. */
export function stopSequencesOf(value: unknown): string[] | undefined {
  if (value == null) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    throw new InvalidRequestError("'stop' must be a string or an array of strings.", { param: 'stop' });
  }
  return list.length > 0 ? (list as string[]) : undefined;
}

/** OpenAI's deprecated `functions` / `function_call`: a 400 pointing to `tools` (no provider Portico translates for takes them). */
export function refuseDeprecatedFunctions(body: Record<string, unknown>): void {
  if (body.functions != null || body.function_call != null) {
    throw new InvalidRequestError("The deprecated 'functions'/'function_call' parameters are not supported; use 'tools'.", {
      param: body.functions != null ? 'functions' : 'function_call',
    });
  }
}
