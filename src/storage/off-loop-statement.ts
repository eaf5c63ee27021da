/**
 * One write statement, compiled by Kysely, run on a SQLite file's worker thread
 * (`sqlite-worker.ts`) instead of the event loop; on PostgreSQL (asynchronous already), an
 * in-memory SQLite or without a running worker, on the database's own connection as usual.
 *
 * Why: node:sqlite runs every statement synchronously, so the batch engine's own writes (leasing
 * lines, recording a group of finished ones, loading a batch's lines, the poller's batch leases) held the event loop for
 * about a tenth of a running batch, in statements of up to 10 ms, and a live request arriving
 * meanwhile waited behind them (`bench:batch`, bench/README.md, issue 15). On the worker they
 * wait for a CPU, not for the loop.
 *
 * A statement sent here is its own transaction: SQLite takes a write statement's lock before it
 * reads (as `BEGIN IMMEDIATE` would), so a statement that reads then writes, such as a lease, never
 * works from a stale snapshot, and being atomic it needs no wider transaction. Callers must not
 * send one from inside a transaction of the main connection: the worker would wait for that
 * transaction's write lock while the transaction waits for the worker.
 */
import type { CompiledQuery, QueryResult } from 'kysely';
import type { Database } from './database.ts';
import { MAX_CACHED_SQL_CHARS, toSqliteValue } from './sqlite-dialect.ts';

const PROCEDURE = 'statement.write';
const WORKER_STATEMENTS_KEPT = 64;

/**
 * Up to `WORKER_STATEMENTS_KEPT` statements stay prepared on the worker, the oldest dropped first
 * (a dropped statement's native memory goes only when V8 collects it, so keeping fewer cost more
 * RSS: bench/README.md); texts over `MAX_CACHED_SQL_CHARS` are prepared for one use, as on the
 * main connection (`sqlite-dialect.ts`).
 */
const PROCEDURE_SOURCE = `
const statements = (state.statements ??= new Map());
let statement = statements.get(input.sql);
if (statement === undefined) {
  statement = db.prepare(input.sql);
  if (input.sql.length <= ${MAX_CACHED_SQL_CHARS}) {
    if (statements.size >= ${WORKER_STATEMENTS_KEPT}) statements.delete(statements.keys().next().value);
    statements.set(input.sql, statement);
  }
}
if (statement.columns().length > 0) return { rows: statement.all(...input.parameters) };
return { changes: Number(statement.run(...input.parameters).changes) };
`;

interface WorkerAnswer<R> {
  rows?: R[];
  changes?: number;
}

export async function executeWriteOffLoop<R>(database: Database, query: CompiledQuery<R>): Promise<QueryResult<R>> {
  const worker = database.sqliteWorker();
  if (worker === undefined) return database.kysely.executeQuery(query);
  worker.define(PROCEDURE, PROCEDURE_SOURCE);
  const answer = await worker.call<WorkerAnswer<R>>(PROCEDURE, { sql: query.sql, parameters: query.parameters.map(toSqliteValue) });
  return answer.rows !== undefined ? { rows: answer.rows } : { rows: [], numAffectedRows: BigInt(answer.changes ?? 0) };
}
