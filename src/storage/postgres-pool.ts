/**
 * The `pg` pool behind the PostgreSQL dialect. Our timestamps are unix seconds in `bigint`
 * columns and counts come back as `bigint` too; `pg` returns those (and `numeric`) as strings by
 * default. Every value we store fits in 2^53, so they are parsed to JS numbers, per pool (not
 * through pg's process-wide type registry, which other code may rely on).
 */
import pg from 'pg';

const INT8_OID = 20;
const NUMERIC_OID = 1700;
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;

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
  /**
   * A query without an answer after this long fails with pg's "Query read timeout" (a 503 and a
   * dropped connection, database-unavailable.ts). Unset or 0: no bound (migrations).
   */
  queryTimeoutMs?: number;
  /** How long a query waits for a connection (a free one of the pool, or a new one); default 10 s. */
  connectionTimeoutMs?: number;
}

export function createPostgresPool(url: string, options: PostgresPoolOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    types: numberTypes,
    max: Math.max(2, options.max ?? 10),
    // A server that does not answer (a host gone from the network), or a pool whose connections
    // are all busy for this long, fails the query instead of holding the request; the error is a
    // 503 (database-unavailable.ts). pg counts the wait for a pooled connection in it too.
    connectionTimeoutMillis: options.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    // A server that stops answering on an open connection (frozen, or cut off the network): the
    // query sent waits for no more than this (client-side; a server-side statement_timeout needs a
    // server that runs). 0 is no bound to pg.
    query_timeout: options.queryTimeoutMs ?? 0,
    // And the operating system finds out about a dead peer on an idle connection.
    keepAlive: true,
  });
  // An idle client whose connection drops (server restart) emits 'error' on the pool; without a
  // listener that would crash the process. The next query simply gets a fresh connection.
  pool.on('error', () => {});
  return pool;
}
