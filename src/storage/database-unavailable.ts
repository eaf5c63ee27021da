/**
 * A database that is down, restarting or unreachable is not a Portico bug: a query that fails
 * because of it throws `DatabaseUnavailableError` (503 `database_unavailable`, retryable) instead
 * of the driver's error (which would be an anonymous 500). Other database errors (constraint
 * violations, deadlocks, syntax) pass through unchanged: callers rely on their codes.
 *
 * PostgreSQL only: the embedded SQLite file cannot go away under a running process.
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';
import { DatabaseUnavailableError } from '../spec/errors.ts';
import { asUnstorableText } from './unstorable-text.ts';

/** Socket errors: nothing answers at the address, or the connection broke. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * SQLSTATEs of a server that cannot serve now: class 08 (connection exception), 57P01-57P03
 * (shutting down, crashed, starting up), 53300 (too many connections).
 */
const UNAVAILABLE_SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;

/**
 * What `pg` throws, without a code, when a connection drops under a query or cannot be had in
 * time, or when a query got no answer within `query_timeout` (a hung server or a network cut).
 */
const DROPPED_CONNECTION = /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Query read timeout)/;

/** pg's error for a query left unanswered for `query_timeout`. */
function isQueryTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Query read timeout';
}

export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof DatabaseUnavailableError) return true;
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code))) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && DROPPED_CONNECTION.test(message);
}

/** The error to throw for `error`: a `DatabaseUnavailableError` (with the original as cause) or `error` itself. */
export function asDatabaseUnavailable(error: unknown): unknown {
  if (error instanceof DatabaseUnavailableError || !isDatabaseUnavailable(error)) return error;
  return new DatabaseUnavailableError(undefined, { cause: error });
}

/**
 * The pool as Kysely's PostgreSQL dialect sees it, with connection failures (on connect and on
 * every query) turned into `DatabaseUnavailableError`.
 *
 * Every client also gets an `error` listener of its own: `pg` emits `error` when a connection
 * drops (a server restart terminates it), and the pool listens only while the client is idle in
 * it. A client checked out at that moment (in a transaction, between two statements) would
 * otherwise raise an uncaught exception and end the process. Its queries fail anyway (the one
 * running, and every later one as "not queryable"), which is how the caller learns of it.
 *
 * A client whose query timed out (`query_timeout`: the server stopped answering) is done with:
 * its socket is closed at once (pg would keep the query waiting there, and queue the caller's
 * ROLLBACK behind it for another timeout), its later queries fail at once, and its release
 * removes it from the pool instead of handing a connection still mid-query to the next request.
 */
export function reportingUnavailability(pool: pg.Pool): PostgresPool {
  const clients = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    let wrapped = clients.get(client);
    if (wrapped === undefined) {
      client.on('error', () => {});
      let timedOut = false;
      const onError = (error: unknown): Promise<never> => {
        if (isQueryTimeout(error) && !timedOut) {
          timedOut = true;
          closeSocket(client);
        }
        // A client's NUL character is refused here too, as the 400 it is (`unstorable-text.ts`).
        return Promise.reject(asUnstorableText(asDatabaseUnavailable(error)));
      };
      wrapped = {
        query(...args: unknown[]) {
          if (timedOut) return Promise.reject(new DatabaseUnavailableError(undefined, { cause: new Error('Query read timeout (earlier query on this connection)') }));
          const result = (client.query as (...a: unknown[]) => unknown)(...args);
          // A cursor (streamed query) is returned as is; a query answers a promise.
          if (result instanceof Promise) return result.catch(onError);
          return result;
        },
        release(destroy?: boolean) {
          client.release(destroy || timedOut);
        },
      } as PostgresPoolClient;
      clients.set(client, wrapped);
    }
    return wrapped;
  };
  return {
    async connect() {
      try {
        return wrap(await pool.connect());
      } catch (error) {
        throw asDatabaseUnavailable(error);
      }
    },
    end: () => pool.end(),
  };
}

/**
 * Closes a client's socket now. `client.end()` would say goodbye first and wait for the server to
 * close its side, which a frozen server never does; pg does the same for a timed-out query in
 * pipeline mode.
 */
function closeSocket(client: pg.PoolClient): void {
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
}
