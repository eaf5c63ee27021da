/**
 * OpenAI's `reasoning_effort` on models that take a thinking budget instead (Claude, Gemini), as
 * LiteLLM maps it: the values accepted, and LiteLLM's budgets for the three middle ones
 * (`DEFAULT_REASONING_EFFORT_{LOW,MEDIUM,HIGH}_THINKING_BUDGET` in its `constants.py`). What
 * `minimal` and `none` become is each provider's (their smallest budgets differ).
 */
import { InvalidRequestError } from './errors.ts';
import { echoValue } from './echo-value.ts';

export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high';

const EFFORTS: readonly ReasoningEffort[] = Object.freeze(['none', 'minimal', 'low', 'medium', 'high']);

/** Thinking tokens for `low`, `medium` and `high`. */
export const LITELLM_THINKING_BUDGETS: Readonly<Record<'low' | 'medium' | 'high', number>> = Object.freeze({ low: 1024, medium: 2048, high: 4096 });

/** The request's `reasoning_effort`, or undefined when it has none; another value is a 400 naming those accepted. */
export function reasoningEffortOf(body: Record<string, unknown>, where: string): ReasoningEffort | undefined {
  const value = body.reasoning_effort;
  if (value == null) return undefined;
  if (typeof value === 'string' && (EFFORTS as readonly string[]).includes(value)) return value as ReasoningEffort;
  throw new InvalidRequestError(`Invalid value for 'reasoning_effort': '${echoValue(value)}'. Supported values on ${where} are: ${EFFORTS.map((effort) => `'${effort}'`).join(', ')}.`, {
    param: 'reasoning_effort',
    code: 'invalid_value',
  });
}
