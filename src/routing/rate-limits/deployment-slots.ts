/**
 * LiteLLM's deployment `max_parallel_requests` (`litellm_params`, or the router's
 * `default_max_parallel_requests`): how many live requests this process has open on a deployment
 * at once. Per process, as in LiteLLM, whose router keeps one semaphore per deployment in each
 * worker: it protects a server from one gateway's bursts (a self-hosted vLLM with a few GPUs),
 * while rpm/tpm are the limits shared across instances.
 *
 * A request over the bound waits for a slot, first come first served, as on LiteLLM's semaphore;
 * the router sends it elsewhere first when another deployment of the group has room. A slot is
 * held until the attempt is over, a streamed answer until its body ends (LiteLLM frees it when the
 * stream opens, which bounds only the requests not yet answering).
 */
import type { Deployment } from '../../spec/provider.ts';

interface Waiter {
  readonly grant: () => void;
  readonly signal: AbortSignal;
  readonly onAbort: () => void;
}

export class DeploymentSlots {
  /** Deployment id -> slots taken. */
  readonly #taken = new Map<string, number>();
  /** Deployment id -> requests waiting for a slot, oldest first. */
  readonly #waiting = new Map<string, Waiter[]>();

  /** Whether a request could take a slot of `deployment` now (always, without a bound). */
  hasRoom(deployment: Deployment): boolean {
    const limit = deployment.maxParallelRequests;
    return limit === undefined || (this.#taken.get(deployment.id) ?? 0) < limit;
  }

  /** Slots of `deploymentId` taken now. */
  takenOf(deploymentId: string): number {
    return this.#taken.get(deploymentId) ?? 0;
  }

  /**
   * Takes a slot of `deployment`, waiting for one while all are taken; rejects with the signal's
   * reason if `signal` aborts first (the wait is then given up, its place in line too).
   */
  take(deployment: Deployment, signal: AbortSignal): Promise<void> | undefined {
    const limit = deployment.maxParallelRequests;
    if (limit === undefined) return undefined;
    const taken = this.#taken.get(deployment.id) ?? 0;
    if (taken < limit) {
      this.#taken.set(deployment.id, taken + 1);
      return undefined;
    }
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      let line = this.#waiting.get(deployment.id);
      if (line === undefined) this.#waiting.set(deployment.id, (line = []));
      const waiter: Waiter = {
        signal,
        // The slot passes from the request that gave it back: the count stays as it is.
        grant: () => {
          signal.removeEventListener('abort', waiter.onAbort);
          resolve();
        },
        onAbort: () => {
          const waiting = this.#waiting.get(deployment.id);
          const index = waiting?.indexOf(waiter) ?? -1;
          if (index !== -1) waiting!.splice(index, 1);
          if (waiting?.length === 0) this.#waiting.delete(deployment.id);
          reject(signal.reason);
        },
      };
      line.push(waiter);
      signal.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  /** Gives a slot of `deploymentId` back: to the oldest waiting request, else free. */
  release(deploymentId: string): void {
    const line = this.#waiting.get(deploymentId);
    const next = line?.shift();
    if (line?.length === 0) this.#waiting.delete(deploymentId);
    if (next !== undefined) {
      next.grant();
      return;
    }
    const taken = (this.#taken.get(deploymentId) ?? 0) - 1;
    if (taken > 0) this.#taken.set(deploymentId, taken);
    else this.#taken.delete(deploymentId);
  }
}
