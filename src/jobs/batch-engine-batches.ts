/**
 * The emulated batches the engine works on: those `in_progress` and inside their window,
 * re-read from the database at most every `ttlMs` (a cancel or a new batch is seen within that
 * time), grouped by deployment, oldest first. A batch that had fewer due lines than asked is
 * skipped for `ttlMs` (its other lines are running or waiting for a retry), so a busy engine
 * does not query it after every finished line. The rpm/tpm limits of the keys that created
 * them, and of those keys' users and teams, are read with them (`keyLimitsOf`), so a key's
 * batches are paced by all three.
 */
import type { KeyLimits, KeyLimitsLookup } from '../routing/rate-limits/key-budgets.ts';
import type { BatchRecord, BatchStore } from '../storage/batch-store.ts';
import { unixSeconds } from '../storage/row-mapping.ts';

/** Non-terminal batches read per refresh; older ones come first. */
const LIST_LIMIT = 1000;

export class ActiveBatches {
  readonly #store: BatchStore;
  readonly #ttlMs: number;
  #byDeployment = new Map<string, BatchRecord[]>();
  #readAt = Number.NEGATIVE_INFINITY;
  readonly #drainedUntil = new Map<string, number>();
  readonly #keyLimitsLookup: KeyLimitsLookup | undefined;
  #keyLimits: ReadonlyMap<string, KeyLimits> = new Map();

  constructor(store: BatchStore, ttlMs: number, keyLimits?: KeyLimitsLookup) {
    this.#store = store;
    this.#ttlMs = ttlMs;
    this.#keyLimitsLookup = keyLimits;
  }

  /** The limits of the key that created a batch, its user and team; undefined when none has any (or no key). */
  keyLimitsOf(batch: Pick<BatchRecord, 'keyId'>): KeyLimits | undefined {
    return batch.keyId === null ? undefined : this.#keyLimits.get(batch.keyId);
  }

  /** Batches to lease from, by deployment id. */
  async byDeployment(now: number = Date.now()): Promise<ReadonlyMap<string, readonly BatchRecord[]>> {
    if (now - this.#readAt >= this.#ttlMs) {
      const rows = await this.#store.listNonTerminal({ execution: 'emulated', limit: LIST_LIMIT });
      const seconds = unixSeconds();
      const grouped = new Map<string, BatchRecord[]>();
      for (const batch of rows) {
        if (batch.status !== 'in_progress' || batch.deploymentId === null) continue;
        if (batch.expiresAt !== null && seconds >= batch.expiresAt) continue;
        const list = grouped.get(batch.deploymentId) ?? [];
        list.push(batch);
        grouped.set(batch.deploymentId, list);
      }
      if (this.#keyLimitsLookup) {
        const keyIds = new Set<string>();
        for (const list of grouped.values()) for (const batch of list) if (batch.keyId !== null) keyIds.add(batch.keyId);
        this.#keyLimits = await this.#keyLimitsLookup([...keyIds]);
      }
      this.#byDeployment = grouped;
      this.#readAt = now;
      for (const [id, until] of this.#drainedUntil) if (until <= now) this.#drainedUntil.delete(id);
    }
    return this.#byDeployment;
  }

  isDrained(batchId: string, now: number = Date.now()): boolean {
    return (this.#drainedUntil.get(batchId) ?? 0) > now;
  }

  markDrained(batchId: string, now: number = Date.now()): void {
    this.#drainedUntil.set(batchId, now + this.#ttlMs);
  }

  /** The batch has new lines due (more were loaded): leased from again at once. Answers whether it was skipped. */
  undrain(batchId: string, now: number = Date.now()): boolean {
    const wasDrained = this.isDrained(batchId, now);
    this.#drainedUntil.delete(batchId);
    return wasDrained;
  }

  /** Forget everything read (the next call reads again). */
  invalidate(): void {
    this.#readAt = Number.NEGATIVE_INFINITY;
    this.#drainedUntil.clear();
  }
}
