/**
 * `max_parallel_requests` of several workers without Redis, primary side: the one
 * `InMemoryParallelRequests` of the whole Portico, plus which worker holds which lease. A lease
 * ends with its request (the worker says so), so no expiry is needed as long as the worker lives;
 * when a worker dies its requests will never end, so the primary ends its leases then
 * (`workerGone`), instead of after Redis's `PARALLEL_LEASE_MS`.
 *
 * A message a worker sent just before dying may be read after node:cluster reported its exit
 * (the 'exit' of its process and the end of its IPC channel are separate events): a worker once
 * gone is refused any new slot, so such a late message cannot take one for ever. node:cluster
 * never gives a worker id twice.
 */
import { InMemoryParallelRequests, type ParallelSlot } from '../routing/rate-limits/parallel-requests.ts';

export class WorkerParallelSlots {
  readonly slots = new InMemoryParallelRequests();
  /** Worker -> its leases -> the counters each holds a slot of. */
  readonly #leases = new Map<number, Map<string, readonly string[]>>();
  readonly #gone = new Set<number>();

  /**
   * Takes a slot of every counter for the worker's lease if each has room, else none: the index
   * of the first full counter, or -1 when taken (as `ParallelRequestLimiter.tryEnter`). A worker
   * gone gets the first counter as full.
   */
  enter(workerId: number, slots: readonly ParallelSlot[], leaseId: string): number {
    if (slots.length === 0) return -1;
    if (this.#gone.has(workerId)) return 0;
    const full = this.slots.enter(slots, leaseId);
    if (full >= 0) return full;
    let leases = this.#leases.get(workerId);
    if (leases === undefined) this.#leases.set(workerId, (leases = new Map()));
    leases.set(leaseId, slots.map((slot) => slot.key));
    return -1;
  }

  /** The worker's request ended: its lease's slots are free. A lease unknown (refused, or ended already) is ignored. */
  leave(workerId: number, leaseId: string): void {
    const leases = this.#leases.get(workerId);
    const keys = leases?.get(leaseId);
    if (leases === undefined || keys === undefined) return;
    leases.delete(leaseId);
    if (leases.size === 0) this.#leases.delete(workerId);
    this.slots.exit(keys, leaseId);
  }

  /** The worker died: every slot it held is free, and it takes no more. */
  workerGone(workerId: number): void {
    this.#gone.add(workerId);
    for (const leaseId of [...(this.#leases.get(workerId)?.keys() ?? [])]) this.leave(workerId, leaseId);
  }

  /** Slots of the counter taken now. */
  inFlight(key: string): number {
    return this.slots.inFlight(key);
  }

  /** Leases the worker holds now. */
  heldBy(workerId: number): number {
    return this.#leases.get(workerId)?.size ?? 0;
  }
}
