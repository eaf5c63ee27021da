/**
 * `x-portico-warnings`: what Portico changed in a request before sending it upstream (a
 * provider's translation dropped or clamped a parameter, `drop_params` removed one), as one
 * short header line the client can read beside the answer. Entries are `param: message`,
 * separated by ` | `.
 *
 * A header must stay a valid header whatever the request held: a dropped parameter's name comes
 * from the client's body, so every character outside printable ASCII becomes `?` (Node refuses
 * to send the others, which would turn a good answer into a 500). Its length is bounded: whole
 * entries are kept while they fit, and the rest is counted (`+3 more`); the log has them all.
 */
import type { TranslationWarning } from '../spec/provider.ts';

export const WARNINGS_HEADER = 'x-portico-warnings';

/** The most characters the header's value holds. */
export const MAX_WARNINGS_HEADER_LENGTH = 1024;

const SEPARATOR = ' | ';
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

/** The warnings of one answer: those of `drop_params` first, then the provider's. */
export function warningsOf(answer: { droppedParams?: readonly string[]; warnings?: readonly TranslationWarning[] }): readonly TranslationWarning[] {
  const dropped = (answer.droppedParams ?? []).map((param) => ({ param, message: `'${param}' was dropped (drop_params).` }));
  if (dropped.length === 0) return answer.warnings ?? [];
  return [...dropped, ...(answer.warnings ?? [])];
}

/** The header's value for `warnings` (non-empty), at most `maxLength` characters. */
export function warningsHeaderValue(warnings: readonly TranslationWarning[], maxLength = MAX_WARNINGS_HEADER_LENGTH): string {
  const entries = warnings.map((warning) => `${warning.param}: ${warning.message}`.replace(NOT_PRINTABLE_ASCII, '?'));
  let value = '';
  for (const [index, entry] of entries.entries()) {
    const next = index === 0 ? entry : `${value}${SEPARATOR}${entry}`;
    const rest = entries.length - index - 1;
    const tail = rest === 0 ? '' : `${SEPARATOR}+${rest} more`;
    if (next.length + tail.length > maxLength) {
      // The first entry alone is too long: cut it, so the header still says something.
      if (index === 0) return `${entry.slice(0, Math.max(0, maxLength - tail.length - 3))}...${tail}`;
      // `value` was kept with room for this count after it.
      return `${value}${SEPARATOR}+${rest + 1} more`;
    }
    value = next;
  }
  return value;
}
