/**
 * Records the results of finished batch lines by group commit: completions that arrive while a
 * write is in flight, or within `groupWindowMs` of the last write, are written together by the
 * next write, so a busy engine pays one statement (and one commit) per group instead of one per
 * line, while a lone completion after a quiet spell is written at once. The window matters on
 * SQLite, whose writes finish synchronously: without it every answer arriving in its own turn of
 * the event loop was written (and committed to the WAL) alone, 10,000 commits for 10,000 lines.
 * It delays only the recording; the line's slot is free as soon as its call is over.
 *
 * While the database is unavailable (down, restarting), results are kept and written again, with
 * a growing pause, until it is back: the line's upstream call has run, and dropping its answer
 * would run it a second time once its lease expired. The engine keeps renewing those leases
 * meanwhile. Only `abandon()` (the engine stopping) gives them up.
 */
import { isDatabaseUnavailable } from '../storage/database-unavailable.ts';
import type { BatchItemCompletion, BatchItemKey, BatchItemLease, BatchItemOutcome, BatchItemStore } from '../storage/batch-item-store.ts';

/** At most this many lines per statement (10 parameters each, far below PostgreSQL's 65,535). */
const DEFAULT_MAX_GROUP = 250;
/** First pause before writing again to an unavailable database; doubles up to the maximum. */
const DEFAULT_RETRY_MIN_MS = 100;
const DEFAULT_RETRY_MAX_MS = 2_000;
/** Writes start at most this often while completions keep coming. */
const DEFAULT_GROUP_WINDOW_MS = 10;

interface QueuedCompletion extends BatchItemCompletion {
  resolve: (recorded: boolean) => void;
  reject: (error: unknown) => void;
}

export interface BatchLineResultsOptions {
  maxGroup?: number;
  /** Pauses between writes while the database is unavailable, ms. */
  retryMinMs?: number;
  retryMaxMs?: number;
  /** Completions within this long of the last write wait for the next one, ms (0 = write at once). */
  groupWindowMs?: number;
}

export class BatchLineResults {
  readonly #items: Pick<BatchItemStore, 'completeItem' | 'completeItems'>;
  readonly #maxGroup: number;
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #groupWindowMs: number;
  #lastWriteAt = Number.NEGATIVE_INFINITY;
  #queue: QueuedCompletion[] = [];
  #writing = false;
  #abandoned: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(items: Pick<BatchItemStore, 'completeItem' | 'completeItems'>, options: BatchLineResultsOptions = {}) {
    this.#items = items;
    this.#maxGroup = Math.max(1, options.maxGroup ?? DEFAULT_MAX_GROUP);
    this.#retryMinMs = options.retryMinMs ?? DEFAULT_RETRY_MIN_MS;
    this.#retryMaxMs = Math.max(this.#retryMinMs, options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS);
    this.#groupWindowMs = Math.max(0, options.groupWindowMs ?? DEFAULT_GROUP_WINDOW_MS);
  }

  /** Results waiting for the database. */
  get pending(): number {
    return this.#queue.length;
  }

  /** As `BatchItemStore.completeItem`: true when recorded, false when the lease had passed on. */
  complete(key: BatchItemKey, lease: BatchItemLease, outcome: BatchItemOutcome): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ key, lease, outcome, resolve, reject });
      if (!this.#writing) void this.#write();
    });
  }

  /**
   * Stops waiting for an unavailable database: results it is waiting for are rejected with
   * `reason` (those lines' leases expire and they run again elsewhere), and so is every later
   * completion or write that finds the database unavailable. Writes that work still happen.
   */
  abandon(reason: Error): void {
    this.#abandoned = reason;
    if (this.#wake === undefined) return;
    for (const entry of this.#queue.splice(0)) entry.reject(reason);
    this.#wake();
  }

  async #write(): Promise<void> {
    this.#writing = true;
    let pauseMs = this.#retryMinMs;
    try {
      while (this.#queue.length > 0) {
        const wait = this.#lastWriteAt + this.#groupWindowMs - performance.now();
        // A plain timer (not `#pause`): an `abandon` meanwhile must not reject these, they are written.
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        this.#lastWriteAt = performance.now();
        const group = this.#queue.splice(0, this.#maxGroup);
        const unwritten = await this.#writeGroup(group);
        if (unwritten.length === 0) {
          pauseMs = this.#retryMinMs;
          continue;
        }
        // The database is away: these go first once it answers again.
        this.#queue.unshift(...unwritten);
        await this.#pause(pauseMs);
        pauseMs = Math.min(pauseMs * 2, this.#retryMaxMs);
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Writes a group; answers the entries to write again because the database was unavailable. */
  async #writeGroup(group: QueuedCompletion[]): Promise<QueuedCompletion[]> {
    try {
      const recorded = await this.#items.completeItems(group);
      group.forEach((entry, i) => entry.resolve(recorded[i]));
      return [];
    } catch (error) {
      if (this.#keeps(error)) return group;
    }
    // The group failed as a whole (e.g. PostgreSQL chose it as a deadlock victim against another
    // instance): each line is written on its own, so only a line that fails by itself reports
    // the error (its lease then expires and the line runs again).
    const unwritten: QueuedCompletion[] = [];
    await Promise.all(
      group.map((entry) =>
        this.#items.completeItem(entry.key, entry.lease, entry.outcome).then(entry.resolve, (error: unknown) => {
          if (this.#keeps(error)) unwritten.push(entry);
          else entry.reject(error);
        }),
      ),
    );
    return unwritten;
  }

  #keeps(error: unknown): boolean {
    return this.#abandoned === undefined && isDatabaseUnavailable(error);
  }

  #pause(ms: number): Promise<void> {
    if (this.#abandoned) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    }).finally(() => {
      this.#wake = undefined;
    });
  }
}
