/**
 * LiteLLM's `general_settings.global_max_parallel_requests`: at most this many model requests in
 * this process at once, whoever sends them (the master key too); one more is refused with a 429
 * in OpenAI's envelope and LiteLLM's words, and its slot frees when a response closes (answered,
 * streamed to its end, failed, or cut by the client).
 *
 * Per process, as in LiteLLM (its counter lives in each proxy process's memory, `local_only`):
 * it protects the process itself, so N workers or N instances serve N times the cap. A shared cap
 * across instances is what a key's, user's or team's `max_parallel_requests` are for.
 *
 * LiteLLM reads its counter as 1 when empty, so it refuses the first request under a cap of 1;
 * here a cap of N admits N.
 */
import { RateLimitError } from '../spec/errors.ts';

export class ProcessParallelLimit {
  readonly #limit: number;
  #inFlight = 0;

  constructor(limit: number) {
    this.#limit = limit;
  }

  /** Takes a slot, or answers the error to send: the caller must call `leave` once for each slot taken. */
  tryEnter(): RateLimitError | undefined {
    if (this.#inFlight >= this.#limit) {
      return new RateLimitError(`Max parallel request limit reached Hit Global Limit: Limit=${this.#limit}, current: ${this.#inFlight}`, {
        headers: { 'retry-after': '1' },
      });
    }
    this.#inFlight += 1;
    return undefined;
  }

  leave(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }
}
