/**
 * Records the results of finished batch lines by group commit: completions that arrive while a
 * write is in flight are written together by the next write, so a busy engine pays one
 * statement (and one commit) per group instead of one per line, while a lone completion is
 * written at once (no timer, no added latency).
 */
import type { BatchItemCompletion, BatchItemKey, BatchItemLease, BatchItemOutcome, BatchItemStore } from '../storage/batch-item-store.ts';

/** At most this many lines per statement (10 parameters each, far below PostgreSQL's 65,535). */
const DEFAULT_MAX_GROUP = 250;

interface QueuedCompletion extends BatchItemCompletion {
  resolve: (recorded: boolean) => void;
  reject: (error: unknown) => void;
}

export class BatchLineResults {
  readonly #items: Pick<BatchItemStore, 'completeItem' | 'completeItems'>;
  readonly #maxGroup: number;
  #queue: QueuedCompletion[] = [];
  #writing = false;

  constructor(items: Pick<BatchItemStore, 'completeItem' | 'completeItems'>, options: { maxGroup?: number } = {}) {
    this.#items = items;
    this.#maxGroup = Math.max(1, options.maxGroup ?? DEFAULT_MAX_GROUP);
  }

  /** As `BatchItemStore.completeItem`: true when recorded, false when the lease had passed on. */
  complete(key: BatchItemKey, lease: BatchItemLease, outcome: BatchItemOutcome): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ key, lease, outcome, resolve, reject });
      if (!this.#writing) void this.#write();
    });
  }

  async #write(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#queue.length > 0) {
        const group = this.#queue.splice(0, this.#maxGroup);
        try {
          const recorded = await this.#items.completeItems(group);
          group.forEach((entry, i) => entry.resolve(recorded[i]));
        } catch {
          // The group failed as a whole (e.g. PostgreSQL chose it as a deadlock victim against
          // another instance): each line is written on its own, so only a line that fails by
          // itself reports the error (its lease then expires and the line runs again).
          await Promise.all(group.map((entry) => this.#items.completeItem(entry.key, entry.lease, entry.outcome).then(entry.resolve, entry.reject)));
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}
