/**
 * Translation warnings (`TranslationWarning`, `spec/provider.ts`) as one short line of printable
 * ASCII, for the places that must be short: a response header, a batch's metadata value.
 * Entries are `param: message`, separated by ` | `. Every character outside printable ASCII
 * becomes `?`: a dropped parameter's name comes from the client's body, and a header holding
 * anything else is refused by Node (a good answer would become a 500). Whole entries are kept
 * while they fit in `maxLength`, and the rest is counted (`+3 more`); the log has them all.
 */
import type { TranslationWarning } from './provider.ts';

const SEPARATOR = ' | ';
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/g;

/** `warnings` (non-empty) in at most `maxLength` characters. */
export function summariseWarnings(warnings: readonly TranslationWarning[], maxLength: number): string {
  const entries = warnings.map((warning) => `${warning.param}: ${warning.message}`.replace(NOT_PRINTABLE_ASCII, '?'));
  let value = '';
  for (const [index, entry] of entries.entries()) {
    const next = index === 0 ? entry : `${value}${SEPARATOR}${entry}`;
    const rest = entries.length - index - 1;
    const tail = rest === 0 ? '' : `${SEPARATOR}+${rest} more`;
    if (next.length + tail.length > maxLength) {
      // The first entry alone is too long: cut it, so the line still says something.
      if (index === 0) return `${entry.slice(0, Math.max(0, maxLength - tail.length - 3))}...${tail}`;
      // `value` was kept with room for this count after it.
      return `${value}${SEPARATOR}+${rest + 1} more`;
    }
    value = next;
  }
  return value;
}
