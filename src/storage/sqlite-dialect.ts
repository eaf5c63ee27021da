/**
 * A Kysely dialect over Node's built-in `node:sqlite` (`DatabaseSync`), so the embedded database
 * needs no native addon. Kysely ships SQLite's adapter, introspector and query compiler; only the
 * driver (how a compiled query reaches the database) is ours.
 *
 * One connection per database file, shared by every `Database` opened on that file in this
 * process, behind one mutex: a transaction holds the connection from BEGIN to COMMIT, so
 * transactions never interleave. Transactions start with `BEGIN IMMEDIATE`, taking SQLite's write
 * lock up front, so read-then-write sequences (leases, compare-and-set) are serialised.
 */
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { startSqliteWorker, type SqliteWorker } from './sqlite-worker.ts';

export interface NodeSqliteDialectConfig {
  /** A file path, or `:memory:`. */
  path: string;
  /** How long a writer waits for another process's lock, milliseconds. */
  busyTimeoutMs?: number;
}

export class NodeSqliteDialect implements Dialect {
  readonly #config: NodeSqliteDialectConfig;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }

  createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }

  createDriver(): Driver {
    return new NodeSqliteDriver(this.#config);
  }

  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }
}

/** SQLite runs DDL inside transactions, so a failed migration leaves nothing half-applied. */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** A mutex with a FIFO queue of waiters. */
class Mutex {
  #locked = false;
  readonly #waiters: Array<() => void> = [];

  async lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true;
      return;
    }
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  unlock(): void {
    const next = this.#waiters.shift();
    if (next) next();
    else this.#locked = false;
  }
}

/** The one connection to a file, shared (reference-counted) by every driver opened on it. */
interface SharedConnection {
  db: DatabaseSync;
  /** Checkpoints the WAL and runs writes off the event loop (files only). */
  worker?: SqliteWorker;
  mutex: Mutex;
  connection: NodeSqliteConnection;
  refs: number;
}

const sharedByPath = new Map<string, SharedConnection>();

function openShared(config: NodeSqliteDialectConfig): SharedConnection {
  const inMemory = config.path === ':memory:';
  const existing = inMemory ? undefined : sharedByPath.get(config.path);
  if (existing) {
    existing.refs += 1;
    return existing;
  }
  const db = new DatabaseSync(config.path);
  // WAL lets readers in other processes proceed during a write; busy_timeout makes a writer wait
  // for another process's lock instead of failing at once.
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = NORMAL');
  const busyTimeoutMs = Math.max(0, Math.floor(config.busyTimeoutMs ?? 5000));
  db.exec(`PRAGMA busy_timeout = ${busyTimeoutMs}`);
  db.exec('PRAGMA foreign_keys = ON');
  // From here on the connection's statements wait for another connection's write lock on a timer
  // (`NodeSqliteConnection`), not in SQLite's busy handler, which sleeps on the event loop.
  db.exec('PRAGMA busy_timeout = 0');
  const shared: SharedConnection = { db, mutex: new Mutex(), connection: new NodeSqliteConnection(db, busyTimeoutMs), refs: 1 };
  if (!inMemory) {
    // Checkpoints (a copy and a sync of the file) run in a worker, not inside a commit on the
    // event loop (sqlite-worker.ts).
    db.exec('PRAGMA wal_autocheckpoint = 0');
    shared.worker = startSqliteWorker(
      config.path,
      () => {
        if (db.isOpen) db.exec('PRAGMA wal_autocheckpoint = 1000');
      },
      { busyTimeoutMs: config.busyTimeoutMs },
    );
  }
  if (!inMemory) sharedByPath.set(config.path, shared);
  return shared;
}

/** The worker of the open database file at `path` (none for `:memory:` or a closed file). */
export function sqliteWorkerOf(path: string): SqliteWorker | undefined {
  const worker = sharedByPath.get(path)?.worker;
  return worker?.running ? worker : undefined;
}

async function closeShared(path: string, shared: SharedConnection): Promise<void> {
  shared.refs -= 1;
  if (shared.refs > 0) return;
  if (sharedByPath.get(path) === shared) sharedByPath.delete(path);
  // The worker's connection goes first: closing the last one checkpoints the WAL and removes it.
  await shared.worker?.stop();
  shared.db.close();
}

class NodeSqliteDriver implements Driver {
  readonly #config: NodeSqliteDialectConfig;
  #shared: SharedConnection | undefined;

  constructor(config: NodeSqliteDialectConfig) {
    this.#config = config;
  }

  async init(): Promise<void> {
    this.#shared = openShared(this.#config);
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const shared = this.#requireShared();
    await shared.mutex.lock();
    return shared.connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('BEGIN IMMEDIATE'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('COMMIT'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('ROLLBACK'));
  }

  async savepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`SAVEPOINT ${quoteIdentifier(name)}`));
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`ROLLBACK TO ${quoteIdentifier(name)}`));
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(`RELEASE ${quoteIdentifier(name)}`));
  }

  async releaseConnection(): Promise<void> {
    this.#requireShared().mutex.unlock();
  }

  async destroy(): Promise<void> {
    const shared = this.#shared;
    this.#shared = undefined;
    if (shared) await closeShared(this.#config.path, shared);
  }

  #requireShared(): SharedConnection {
    if (!this.#shared) throw new Error('The SQLite database is closed.');
    return this.#shared;
  }
}

const STATEMENT_CACHE_SIZE = 256;
/**
 * Longer statements are prepared for one use and not kept: multi-row writes (a ledger flush, a
 * group of finished batch lines) have as many tuples as rows waiting, so their text differs
 * almost every time, and each compiled one holds hundreds of kilobytes. Cached, 256 of them
 * kept 100-150 MB of native memory alive under load (`npm run bench`: 322 -> 177 MB RSS).
 */
export const MAX_CACHED_SQL_CHARS = 8 * 1024;

/** Waits between tries of a statement that met another connection's write lock, ms: doubling from 1 up to this. */
const MAX_BUSY_RETRY_DELAY_MS = 16;

/** SQLITE_BUSY and its extended codes (a write lock held by another connection: the SQLite worker's, another process's). */
function isBusy(error: unknown): boolean {
  const errcode = (error as { errcode?: unknown } | null)?.errcode;
  return typeof errcode === 'number' && (errcode & 0xff) === 5;
}

/**
 * Why statements wait for a lock here: SQLite's own busy handler sleeps inside the statement, on
 * the event loop, for 1, 2, 5, 10, ... 100 ms at a time, so a write on this connection meeting the
 * worker's (or another process's) write lock stopped every request of the process meanwhile. A
 * statement answered SQLITE_BUSY outside a transaction did nothing (it is atomic; a failed
 * `BEGIN IMMEDIATE` began nothing), so it is tried again after a timer, for up to `busyTimeoutMs`
 * in all, as `busy_timeout` would. Inside a transaction, which holds the write lock from its
 * `BEGIN IMMEDIATE`, a busy answer is an error as before.
 */
class NodeSqliteConnection implements DatabaseConnection {
  readonly #db: DatabaseSync;
  readonly #busyTimeoutMs: number;
  readonly #statements = new Map<string, StatementSync>();

  constructor(db: DatabaseSync, busyTimeoutMs: number) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const started = performance.now();
    for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, MAX_BUSY_RETRY_DELAY_MS)) {
      try {
        return this.#execute<R>(compiledQuery);
      } catch (error) {
        if (!isBusy(error) || this.#db.isTransaction || performance.now() - started + delayMs > this.#busyTimeoutMs) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }

  #execute<R>(compiledQuery: CompiledQuery): QueryResult<R> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters.map(toSqliteValue);
    // A statement that yields columns (SELECT, PRAGMA, ... RETURNING) is read with `all`;
    // anything else is `run`, which reports the changed rows and the last rowid.
    if (statement.columns().length > 0) {
      return { rows: statement.all(...parameters) as R[] };
    }
    const { changes, lastInsertRowid } = statement.run(...parameters);
    return { rows: [], numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid) };
  }

  async *streamQuery<R>(compiledQuery: CompiledQuery, chunkSize = 100): AsyncIterableIterator<QueryResult<R>> {
    const statement = this.#prepare(compiledQuery.sql);
    const parameters = compiledQuery.parameters.map(toSqliteValue);
    let rows: R[] = [];
    for (const row of statement.iterate(...parameters)) {
      rows.push(row as R);
      if (rows.length >= chunkSize) {
        yield { rows };
        rows = [];
      }
    }
    if (rows.length > 0) yield { rows };
  }

  #prepare(sqlText: string): StatementSync {
    const cached = this.#statements.get(sqlText);
    if (cached) return cached;
    const statement = this.#db.prepare(sqlText);
    if (sqlText.length > MAX_CACHED_SQL_CHARS) return statement;
    if (this.#statements.size >= STATEMENT_CACHE_SIZE) {
      const oldest = this.#statements.keys().next().value;
      if (oldest !== undefined) this.#statements.delete(oldest);
    }
    this.#statements.set(sqlText, statement);
    return statement;
  }
}

/**
 * node:sqlite binds null, numbers, bigints, strings and bytes. Booleans become 0/1 (our
 * convention); anything else is a bug in the caller (an object would be read as named
 * parameters), so it is refused loudly.
 */
export function toSqliteValue(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'string') return value;
  if (value instanceof Uint8Array) return value;
  throw new TypeError(`Cannot bind a ${typeof value} as an SQLite parameter; serialise it first.`);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
