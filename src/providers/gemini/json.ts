/** Small helpers for reading untyped JSON leniently. */

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number, else 0: token counts Gemini omits when they are zero. */
export function countOf(value: unknown): number {
  if (typeof value === 'string' && /^\d+$/.test(value)) return Number(value);
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}
