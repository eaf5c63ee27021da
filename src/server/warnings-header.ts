/**
 * `x-portico-warnings`: what Portico changed in a request before sending it upstream (a
 * provider's translation dropped or clamped a parameter, `drop_params` removed one), as one
 * short header line the client can read beside the answer (`spec/translation-warnings.ts`: printable
 * ASCII, bounded, the rest counted); the log has them all.
 */
import type { TranslationWarning } from '../spec/provider.ts';
import { summariseWarnings } from '../spec/translation-warnings.ts';

export const WARNINGS_HEADER = 'x-portico-warnings';

/** The most characters the header's value holds. */
export const MAX_WARNINGS_HEADER_LENGTH = 1024;

/** The warnings of one answer: those of `drop_params` first, then the provider's. */
export function warningsOf(answer: { droppedParams?: readonly string[]; warnings?: readonly TranslationWarning[] }): readonly TranslationWarning[] {
  const dropped = (answer.droppedParams ?? []).map((param) => ({ param, message: `'${param}' was dropped (drop_params).` }));
  if (dropped.length === 0) return answer.warnings ?? [];
  return [...dropped, ...(answer.warnings ?? [])];
}

/** The header's value for `warnings` (non-empty), at most `maxLength` characters. */
export function warningsHeaderValue(warnings: readonly TranslationWarning[], maxLength = MAX_WARNINGS_HEADER_LENGTH): string {
  return summariseWarnings(warnings, maxLength);
}
