/** One page of a keyset-paginated listing. */
export interface Page<T> {
  rows: T[];
  /** Whether more rows follow the last one in `rows` (OpenAI's `has_more`). */
  hasMore: boolean;
}

/** Reads `limit + 1` rows to learn `hasMore` without a count. */
export function toPage<T>(rows: T[], limit: number): Page<T> {
  return rows.length > limit ? { rows: rows.slice(0, limit), hasMore: true } : { rows, hasMore: false };
}
