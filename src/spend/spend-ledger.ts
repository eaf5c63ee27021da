/**
 * The spend ledger's writer: rows are queued in memory by the request path (a push, nothing
 * else) and written by group commit, `rowsPerFlush` rows (default `DEFAULT_ROWS_PER_FLUSH`) in
 * one transaction per flush, every `flushIntervalMs` or as soon as a flush's worth is waiting.
 * Never one database round trip per request.
 *
 * Small, frequent flushes rather than large, rare ones: every row queued outlives a few young
 * collections and is promoted to the old generation, and a flush's rows are copied twice more
 * (the flat parameter array, and on SQLite the message to the worker thread and its copy there),
 * so the memory a busy gateway holds grows with the rows per flush. `npm run bench`, spend ledger
 * on, Portico's peak RSS: 160-228 MB (median 180, 8 runs) with 1,000 rows per flush every 200 ms;
 * 143-185 MB (median 150, 20 runs) with 50-100 rows every 10-20 ms (bench/README.md, issue
 * 14), CPU per request unchanged within the runs' spread. At 8,000 requests a second that is 125
 * commits a second of 64 rows each.
 *
 * Bounded, and lossless while it can be:
 * - up to `maxQueueRows` queued, new model requests are admitted at once;
 * - above it, `whenRoom()` makes new model requests wait for a flush to make room
 *   (backpressure onto new work, not loss of finished work); the requests already running still
 *   queue their rows;
 * - rows beyond `2 * maxQueueRows` (only reachable while the database refuses writes for long
 *   with many requests in flight) are dropped and counted (`onDropped`, the
 *   `portico_spend_log_rows_dropped_total` metric).
 * A failed flush keeps its rows at the head of the queue and is retried with backoff; the
 * INSERT skips rows already stored (a flush whose commit was lost on the wire is not counted
 * twice). `close()` (graceful shutdown) flushes everything left.
 */
import type { SpendLogRow } from '../storage/spend-log-store.ts';
import { MAX_ROWS_PER_INSERT } from '../storage/spend-log-store.ts';

export interface SpendLedgerStore {
  /** Stores `rows` (and their spend) in one transaction; answers the rows actually inserted. */
  insertMany(rows: readonly SpendLogRow[]): Promise<readonly SpendLogRow[]>;
}

export interface SpendLedgerOptions {
  store: SpendLedgerStore;
  /**
   * How long a row may wait for company before it is written: the server passes
   * `portico_settings.spend_logs.flush_interval_ms` (its default, 20 ms, is in `CONFIG_DEFAULTS`).
   */
  flushIntervalMs: number;
  /** Queued rows above which new requests wait for room (default 10,000). */
  maxQueueRows?: number;
  /** Rows per flush (one transaction); default `DEFAULT_ROWS_PER_FLUSH`, at most `MAX_ROWS_PER_INSERT`. */
  rowsPerFlush?: number;
  /** Called with the rows of each successful flush (metrics). */
  onWritten?: (rows: readonly SpendLogRow[]) => void;
  onDropped?: (count: number) => void;
  onFlushError?: (error: unknown, queued: number) => void;
}

const MAX_RETRY_DELAY_MS = 5_000;

/** Two of SQLite's 32-row INSERT statements (`spend-log-store.ts`); see above for why not more. */
const DEFAULT_ROWS_PER_FLUSH = 64;

export class SpendLedger {
  readonly #store: SpendLedgerStore;
  readonly #flushIntervalMs: number;
  readonly #maxQueueRows: number;
  readonly #rowsPerFlush: number;
  readonly #onWritten: ((rows: readonly SpendLogRow[]) => void) | undefined;
  readonly #onDropped: ((count: number) => void) | undefined;
  readonly #onFlushError: ((error: unknown, queued: number) => void) | undefined;
  #queue: SpendLogRow[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #waiters: Array<() => void> = [];
  #failures = 0;
  #closed = false;
  #dropped = 0;

  constructor(options: SpendLedgerOptions) {
    this.#store = options.store;
    this.#flushIntervalMs = options.flushIntervalMs;
    this.#maxQueueRows = options.maxQueueRows ?? 10_000;
    this.#rowsPerFlush = Math.min(options.rowsPerFlush ?? DEFAULT_ROWS_PER_FLUSH, MAX_ROWS_PER_INSERT);
    this.#onWritten = options.onWritten;
    this.#onDropped = options.onDropped;
    this.#onFlushError = options.onFlushError;
  }

  /** Rows waiting to be written. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Rows dropped because the queue was over its hard bound. */
  get dropped(): number {
    return this.#dropped;
  }

  /** Queues one row; never waits, never throws. */
  record(row: SpendLogRow): void {
    if (this.#queue.length >= 2 * this.#maxQueueRows) {
      this.#dropped++;
      this.#onDropped?.(1);
      return;
    }
    this.#queue.push(row);
    if (this.#flushing !== undefined) return;
    if (this.#queue.length >= this.#rowsPerFlush) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#startFlush();
    } else if (this.#timer === undefined) {
      this.#schedule(this.#flushIntervalMs);
    }
  }

  /**
   * Undefined while there is room (the hot path's only cost: one comparison); else a promise
   * that resolves when a flush made room, or rejects with `onTimeout()`'s error after `maxWaitMs`.
   */
  whenRoom(maxWaitMs: number, onTimeout: () => Error): Promise<void> | undefined {
    if (this.#queue.length < this.#maxQueueRows) return undefined;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        const index = this.#waiters.indexOf(done);
        if (index >= 0) this.#waiters.splice(index, 1);
        reject(onTimeout());
      }, maxWaitMs);
      timer.unref();
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#waiters.push(done);
    });
  }

  /** Writes everything queued now (tests, shutdown). Rejects if the database refuses. */
  async flushAll(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#flushing !== undefined) await this.#flushing;
    while (this.#queue.length > 0) await this.#writeOnce();
  }

  /** Graceful shutdown: no more timers; everything queued is written (tried `attempts` times). */
  async close(attempts = 3): Promise<void> {
    this.#closed = true;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.flushAll();
        break;
      } catch (error) {
        if (attempt >= attempts) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
    this.#wakeWaiters();
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#startFlush();
    }, delayMs);
    this.#timer.unref();
  }

  #startFlush(): void {
    if (this.#flushing !== undefined) return;
    this.#flushing = this.#writeOnce().then(
      () => {
        this.#failures = 0;
      },
      (error: unknown) => {
        this.#failures++;
        this.#onFlushError?.(error, this.#queue.length);
      },
    );
    void this.#flushing.finally(() => {
      this.#flushing = undefined;
      if (this.#queue.length === 0 || this.#closed) return;
      const delay = this.#failures === 0 ? (this.#queue.length >= this.#rowsPerFlush ? 0 : this.#flushIntervalMs) : Math.min(MAX_RETRY_DELAY_MS, 100 * 2 ** this.#failures);
      this.#schedule(delay);
    });
  }

  /** One INSERT of the oldest rows; on failure they stay at the head of the queue. */
  async #writeOnce(): Promise<void> {
    const rows = this.#queue.slice(0, this.#rowsPerFlush);
    if (rows.length === 0) return;
    const inserted = await this.#store.insertMany(rows);
    this.#queue = this.#queue.length === rows.length ? [] : this.#queue.slice(rows.length);
    this.#onWritten?.(inserted);
    this.#wakeWaiters();
  }

  #wakeWaiters(): void {
    if (this.#waiters.length === 0 || (this.#queue.length >= this.#maxQueueRows && !this.#closed)) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const wake of waiters) wake();
  }
}
