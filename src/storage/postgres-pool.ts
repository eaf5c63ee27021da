/**
 * The `pg` pool behind the PostgreSQL dialect. Our timestamps are unix seconds in `bigint`
 * columns and counts come back as `bigint` too; `pg` returns those (and `numeric`) as strings by
 * default. Every value we store fits in 2^53, so they are parsed to JS numbers, per pool (not
 * through pg's process-wide type registry, which other code may rely on).
 */
import pg from 'pg';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const CONNECTION_TIMEOUT_MS = 10_000;

const parseNumber = (value: string): number => Number(value);

const numberTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return parseNumber;
    return pg.types.getTypeParser(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export interface PostgresPoolOptions {
  /** Most connections this pool opens. At least 2: migrations hold one for the advisory lock. */
  max?: number;
}

export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    types: numberTypes,
    max: Math.max(2, options.max ?? 10),
    // A server that does not answer (a host gone from the network) fails the query after this
    // long instead of holding the request; the error is a 503 (database-unavailable.ts).
    connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
  });
  // An idle client whose connection drops (server restart) emits 'error' on the pool; without a
  // listener that would crash the process. The next query simply gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}
