/**
 * The in-memory cache in front of the key table: the hot path authenticates without a
 * database round trip.
 *
 * - A found key is served from memory for `ttlMs`. After that it is still served (up to
 *   `maxStaleMs`) while one background lookup refreshes it, so a busy key never waits on the
 *   database; a key deleted or blocked on another instance stops working within about `ttlMs`.
 * - An unknown key is remembered for `negativeTtlMs`, so a client retrying a bad key (or a
 *   flood of them) does not become a database load.
 * - Concurrent misses for one key share a single lookup.
 * - Bounded: the oldest entries go first beyond `maxEntries`.
 * Deletions on this instance call `evict` and take effect immediately.
 */

export interface KeyLookupCacheOptions<V> {
  load(keyHash: string): Promise<V | null>;
  ttlMs?: number;
  maxStaleMs?: number;
  negativeTtlMs?: number;
  maxEntries?: number;
  now?: () => number;
  /** A background refresh failed; the stale entry is kept until `maxStaleMs`. */
  onRefreshError?: (error: unknown) => void;
}

interface Entry<V> {
  value: V | null;
  loadedAt: number;
  refreshing: boolean;
}

export class KeyLookupCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly inFlight = new Map<string, Promise<V | null>>();
  private readonly loadFn: (keyHash: string) => Promise<V | null>;
  private readonly ttlMs: number;
  private readonly maxStaleMs: number;
  private readonly negativeTtlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly onRefreshError: (error: unknown) => void;
  /** Bumped by `evict`/`clear` so a lookup that started before an eviction cannot resurrect the entry. */
  private generation = 0;

  constructor(options: KeyLookupCacheOptions<V>) {
    this.loadFn = options.load;
    this.ttlMs = options.ttlMs ?? 10_000;
    this.maxStaleMs = options.maxStaleMs ?? 60_000;
    this.negativeTtlMs = options.negativeTtlMs ?? 2_000;
    this.maxEntries = options.maxEntries ?? 10_000;
    this.now = options.now ?? Date.now;
    this.onRefreshError = options.onRefreshError ?? (() => {});
  }

  get size(): number {
    return this.entries.size;
  }

  get(keyHash: string): Promise<V | null> {
    const entry = this.entries.get(keyHash);
    if (entry !== undefined) {
      const age = this.now() - entry.loadedAt;
      if (entry.value === null) {
        if (age < this.negativeTtlMs) return Promise.resolve(null);
      } else if (age < this.ttlMs) {
        return Promise.resolve(entry.value);
      } else if (age < this.maxStaleMs) {
        if (!entry.refreshing) this.refreshInBackground(keyHash, entry);
        return Promise.resolve(entry.value);
      }
    }
    return this.lookup(keyHash);
  }

  evict(keyHash: string): void {
    this.generation++;
    this.entries.delete(keyHash);
    this.inFlight.delete(keyHash);
  }

  clear(): void {
    this.generation++;
    this.entries.clear();
    this.inFlight.clear();
  }

  private lookup(keyHash: string): Promise<V | null> {
    const pending = this.inFlight.get(keyHash);
    if (pending !== undefined) return pending;
    const generation = this.generation;
    const promise = this.loadFn(keyHash).then(
      (value) => {
        if (this.inFlight.get(keyHash) === promise) this.inFlight.delete(keyHash);
        if (generation === this.generation) this.store(keyHash, value);
        return value;
      },
      (error: unknown) => {
        if (this.inFlight.get(keyHash) === promise) this.inFlight.delete(keyHash);
        throw error;
      },
    );
    this.inFlight.set(keyHash, promise);
    return promise;
  }

  private refreshInBackground(keyHash: string, entry: Entry<V>): void {
    entry.refreshing = true;
    this.lookup(keyHash).then(
      () => {
        entry.refreshing = false;
      },
      (error: unknown) => {
        entry.refreshing = false;
        this.onRefreshError(error);
      },
    );
  }

  private store(keyHash: string, value: V | null): void {
    this.entries.delete(keyHash);
    this.entries.set(keyHash, { value, loadedAt: this.now(), refreshing: false });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
  }
}
