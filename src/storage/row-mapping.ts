/** Small helpers the stores share to map rows (JSON text, 0/1, bigint counts) to domain values. */

export function toJsonText(value: unknown): string {
  return JSON.stringify(value);
}

export function toNullableJsonText(value: unknown): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Parses a JSON column; a null column gives `fallback`. */
export function parseJsonText<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  return JSON.parse(text) as T;
}

/** Rows touched by an UPDATE or DELETE, from Kysely's bigint. */
export function affectedRows(result: { numUpdatedRows?: bigint; numDeletedRows?: bigint } | undefined): number {
  return Number(result?.numUpdatedRows ?? result?.numDeletedRows ?? 0n);
}

/** Unix seconds, with a fraction: the clock of leases and schedules. */
export function nowSeconds(): number {
  return Date.now() / 1000;
}

/** Whole unix seconds: the clock of OpenAI-visible timestamps (`created_at`, ...). */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
