/**
 * One worker thread per SQLite database file, with its own connection to it, for the work that
 * must not run on the event loop (node:sqlite runs every statement synchronously):
 *
 * - WAL checkpoints. SQLite's automatic one (every 1,000 WAL pages) ran inside whichever commit
 *   crossed the mark, so under a busy batch engine the event loop stalled for tens of
 *   milliseconds every second or two. The main connection turns it off (`wal_autocheckpoint = 0`);
 *   this worker runs a PASSIVE checkpoint every `intervalMs` (a passive checkpoint neither waits
 *   for nor blocks the writer; what it cannot copy yet is copied next time). Closing the last
 *   connection checkpoints what is left, as before.
 * - Procedures other modules define (`define`) and call (`call`): synchronous functions over this
 *   connection, such as the spend ledger's group commit (`spend-log-store.ts`). Their writes
 *   take SQLite's write lock like any other connection's (WAL: readers are never blocked); a
 *   writer on the main connection that meets the lock waits `busy_timeout`, as for another process.
 *
 * One worker, not one per job: each worker thread is a V8 isolate of its own, 12-20 MB of RSS.
 * Calls are answered in order; `stop()` lets the calls already sent finish first.
 */
import { Worker } from 'node:worker_threads';

const DEFAULT_INTERVAL_MS = 1_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
db.exec('PRAGMA busy_timeout = ' + workerData.busyTimeoutMs);
db.exec('PRAGMA synchronous = NORMAL');
db.exec('PRAGMA foreign_keys = ON');
db.exec('PRAGMA wal_autocheckpoint = 0');
const procedures = new Map();
const timer = setInterval(() => {
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message.type === 'define') {
    procedures.set(message.name, { run: new Function('db', 'input', 'state', message.source), state: {} });
  } else if (message.type === 'call') {
    try {
      const procedure = procedures.get(message.name);
      if (procedure === undefined) throw new Error('no procedure ' + message.name);
      parentPort.postMessage({ id: message.id, result: procedure.run(db, message.input, procedure.state) });
    } catch (error) {
      if (db.isOpen && db.isTransaction) { try { db.exec('ROLLBACK'); } catch {} }
      parentPort.postMessage({ id: message.id, error: { message: String(error && error.message || error), code: error && error.code, errcode: error && error.errcode } });
    }
  } else if (message.type === 'stop') {
    clearInterval(timer);
    try { db.close(); } catch {}
    parentPort.close();
  }
});
`;

export interface SqliteWorker {
  /** False once the worker is gone (stopped, or it could not open the file): callers write on the main connection then. */
  readonly running: boolean;
  /**
   * Defines procedure `name` in the worker (once; later definitions of the same name are
   * ignored): `source` is the body of `function (db, input, state)`, run synchronously on the
   * worker's `DatabaseSync`; `state` is an object kept between its calls (prepared statements).
   * A procedure that throws inside a transaction has it rolled back.
   */
  define(name: string, source: string): void;
  /** Runs procedure `name` with `input` (structured-cloned); resolves with what it returned. */
  call<T>(name: string, input: unknown): Promise<T>;
  /** Lets the calls already sent finish, stops the worker and closes its connection. */
  stop(): Promise<void>;
}

export interface SqliteWorkerOptions {
  intervalMs?: number;
  /** How long the worker's writes wait for another connection's write lock. */
  busyTimeoutMs?: number;
}

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };
type Answer = { id: number; result?: unknown; error?: { message: string; code?: string; errcode?: number } };

/**
 * Starts the worker for the database file at `path` (its main connection must be in WAL mode).
 * `onLost` runs if the worker ends before `stop()` (it could not open the file, say): the main
 * connection then turns the automatic checkpoint back on, so the WAL never grows without bound.
 */
export function startSqliteWorker(path: string, onLost: () => void, options: SqliteWorkerOptions = {}): SqliteWorker {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // A small heap: it holds one flush's values at a time. (Past the old-generation bound the
    // worker ends: callers then write on the main connection and checkpoints return to commits.)
    resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 64 },
    workerData: { path, intervalMs: options.intervalMs ?? DEFAULT_INTERVAL_MS, busyTimeoutMs: Math.max(0, Math.floor(options.busyTimeoutMs ?? 5_000)) },
  });
  // It never keeps Portico (or a test) alive.
  worker.unref();
  worker.on('error', () => undefined);
  const pending = new Map<number, Pending>();
  const defined = new Set<string>();
  let nextId = 1;
  let running = true;
  let stopping = false;
  worker.on('message', (answer: Answer) => {
    const call = pending.get(answer.id);
    if (call === undefined) return;
    pending.delete(answer.id);
    if (answer.error === undefined) call.resolve(answer.result);
    else call.reject(Object.assign(new Error(answer.error.message), { code: answer.error.code, errcode: answer.error.errcode }));
  });
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      running = false;
      for (const call of pending.values()) call.reject(new Error('The SQLite worker stopped before answering.'));
      pending.clear();
      if (!stopping) onLost();
      resolve();
    }),
  );
  return {
    get running() {
      return running;
    },
    define(name, source) {
      if (defined.has(name)) return;
      defined.add(name);
      worker.postMessage({ type: 'define', name, source });
    },
    call<T>(name: string, input: unknown): Promise<T> {
      if (!running) return Promise.reject(new Error('The SQLite worker is not running.'));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
        worker.postMessage({ type: 'call', id, name, input });
      });
    },
    async stop() {
      if (!running) return;
      stopping = true;
      worker.postMessage({ type: 'stop' });
      // Calls already sent are answered first; a worker stuck in one is cut after a while.
      const timer = setTimeout(() => void worker.terminate(), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
