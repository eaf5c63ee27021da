/**
 * LiteLLM's key `duration` strings: `"30s"`, `"30m"`, `"1h"`, `"30d"`, `"2w"`, `"1mo"`, `"1y"`
 * (LiteLLM `duration_in_seconds`, litellm/litellm_core_utils/duration_parser.py).
 * `null`/absent means the key never expires.
 */
const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  mo: 30 * 86_400_000,
  y: 365 * 86_400_000,
};

const DURATION_PATTERN = /^(\d{1,9})(s|m|h|d|w|mo|y)$/;

/**
 * The longest key lifetime: 1000 years. Far beyond any real use, and well inside what a `Date`
 * can hold (about 275,000 years from now), so every expiry can be written out as a date.
 */
export const MAX_DURATION_MS = 1000 * UNIT_MS.y;

/** Milliseconds, or `undefined` when the text is not a duration (or one over `MAX_DURATION_MS`). */
export function parseDurationMs(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (match === null) return undefined;
  const amount = Number(match[1]);
  const unit = UNIT_MS[match[2]];
  if (amount <= 0 || unit === undefined || amount * unit > MAX_DURATION_MS) return undefined;
  return amount * unit;
}
