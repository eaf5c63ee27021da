/**
 * Checkpoints a SQLite database in WAL mode from a worker thread.
 *
 * node:sqlite runs every statement on the event loop. A checkpoint copies the WAL's pages into
 * the database file and syncs it; SQLite's automatic one (every 1,000 WAL pages) ran inside
 * whichever commit crossed the mark, so under a busy batch engine the event loop stalled for tens
 * of milliseconds every second or two, and live requests waited with it. The main connection
 * turns the automatic checkpoint off (`wal_autocheckpoint = 0`); this worker runs a PASSIVE
 * checkpoint on its own connection every `intervalMs` (a passive checkpoint neither waits for
 * nor blocks the writer; what it cannot copy yet is copied next time). The WAL stays about as
 * large as what is written between two checkpoints. Closing the last connection checkpoints
 * what is left, as before.
 */
import { Worker } from 'node:worker_threads';

const DEFAULT_INTERVAL_MS = 1_000;

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { DatabaseSync } = require('node:sqlite');
const db = new DatabaseSync(workerData.path);
const timer = setInterval(() => {
  try { db.exec('PRAGMA wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.once('message', () => {
  clearInterval(timer);
  try { db.close(); } catch {}
  parentPort.close();
});
`;

export interface SqliteCheckpointer {
  /** Stops the worker and closes its connection; resolves when it is gone. */
  stop(): Promise<void>;
}

/**
 * Starts the worker for the database file at `path` (its main connection must be in WAL mode).
 * `onLost` runs if the worker ends before `stop()` (it could not open the file, say): the main
 * connection then turns the automatic checkpoint back on, so the WAL never grows without bound.
 */
export function startSqliteCheckpointer(path: string, onLost: () => void, intervalMs = DEFAULT_INTERVAL_MS): SqliteCheckpointer {
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, intervalMs } });
  // It never keeps Portico (or a test) alive.
  worker.unref();
  worker.on('error', () => undefined);
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      if (!stopping) onLost();
      resolve();
    }),
  );
  return {
    async stop() {
      stopping = true;
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 1_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
