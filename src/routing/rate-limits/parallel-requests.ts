/**
 * Requests in flight at once per key, user and team (LiteLLM `max_parallel_requests`). A request
 * takes one slot of each of its subjects together, or none, and gives them back when it ends.
 *
 * Each slot is a lease named by the request: in Redis (`coordination/redis-parallel-requests.ts`)
 * a lease also has an end, so slots taken by an instance that died free themselves after
 * `PARALLEL_LEASE_MS` instead of holding the subject's limit for ever; for the workers of one
 * Portico without Redis the primary process holds them (`coordination/cluster-shared-state.ts`)
 * and frees a worker's slots when that worker exits.
 */
export interface ParallelSlot {
  /** The counter (`key:<id>`, `user:<id>`, `team:<id>`). */
  readonly key: string;
  readonly limit: number;
}

export interface ParallelRequestLimiter {
  /**
   * Takes a slot of every counter for `leaseId` if each has room, atomically; else takes none and
   * answers the index of the first full counter. Answers -1 when taken.
   */
  tryEnter(slots: readonly ParallelSlot[], leaseId: string): Promise<number>;
  /** Gives the slots of `leaseId` back (never throws). */
  leave(keys: readonly string[], leaseId: string): Promise<void>;
}

/** How long a slot lives at most: longer than any request Portico lets run (router timeouts, streams). */
export const PARALLEL_LEASE_MS = 15 * 60_000;

/**
 * One process: the leases in memory (they end with the request, so no expiry is needed). The
 * primary process of several workers holds one for all of them (`coordination/worker-parallel-slots.ts`),
 * through the synchronous `enter` / `exit`, so it answers a worker from memory at once.
 */
export class InMemoryParallelRequests implements ParallelRequestLimiter {
  readonly #leases = new Map<string, Set<string>>();

  async tryEnter(slots: readonly ParallelSlot[], leaseId: string): Promise<number> {
    return this.enter(slots, leaseId);
  }

  async leave(keys: readonly string[], leaseId: string): Promise<void> {
    this.exit(keys, leaseId);
  }

  /** `tryEnter`, answered at once. */
  enter(slots: readonly ParallelSlot[], leaseId: string): number {
    const full = slots.findIndex((slot) => (this.#leases.get(slot.key)?.size ?? 0) >= slot.limit);
    if (full >= 0) return full;
    for (const slot of slots) {
      let leases = this.#leases.get(slot.key);
      if (leases === undefined) this.#leases.set(slot.key, (leases = new Set()));
      leases.add(leaseId);
    }
    return -1;
  }

  /** `leave`, done at once. */
  exit(keys: readonly string[], leaseId: string): void {
    for (const key of keys) {
      const leases = this.#leases.get(key);
      if (leases === undefined) continue;
      leases.delete(leaseId);
      if (leases.size === 0) this.#leases.delete(key);
    }
  }

  /** Slots taken now (tests). */
  inFlight(key: string): number {
    return this.#leases.get(key)?.size ?? 0;
  }
}
