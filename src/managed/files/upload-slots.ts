/**
 * How many uploads this instance reads at once, in all and per key. Each upload being validated
 * may hold a line of up to `max_batch_line_bytes` (a few copies of it while it is parsed); these
 * counts are what turns that into a bound on the memory of the process. Per instance on
 * purpose: the memory they protect is this process's. Beyond a limit the upload is refused with
 * a 429 before its body is read.
 */
import { RateLimitError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';

export interface UploadSlotLimits {
  total: number;
  perKey: number;
}

const RETRY_AFTER = { 'retry-after': '1' };

/** The master key (no key id) counts as one key. */
const MASTER = '\u0000master';

export class UploadSlots {
  readonly #limits: UploadSlotLimits;
  readonly #perKey = new Map<string, number>();
  #total = 0;

  constructor(limits: UploadSlotLimits) {
    this.#limits = limits;
  }

  /** Takes a slot for `principal`'s upload; answers the function that gives it back (once). */
  acquire(principal: Principal): () => void {
    const key = principal.keyId ?? MASTER;
    const held = this.#perKey.get(key) ?? 0;
    if (held >= this.#limits.perKey) {
      throw new RateLimitError(`Too many uploads in progress for this key (at most ${this.#limits.perKey} at once); retry when one has finished.`, {
        code: 'too_many_concurrent_uploads',
        headers: RETRY_AFTER,
      });
    }
    if (this.#total >= this.#limits.total) {
      throw new RateLimitError(`Too many uploads in progress (at most ${this.#limits.total} at once); retry shortly.`, { code: 'too_many_concurrent_uploads', headers: RETRY_AFTER });
    }
    this.#perKey.set(key, held + 1);
    this.#total += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#total -= 1;
      const left = (this.#perKey.get(key) ?? 1) - 1;
      if (left > 0) this.#perKey.set(key, left);
      else this.#perKey.delete(key);
    };
  }
}
