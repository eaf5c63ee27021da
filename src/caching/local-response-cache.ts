/**
 * The response cache in this process (`cache_params.type: local`): least recently used first out,
 * bounded by entries and by bytes, each entry dropped when its ttl passes.
 */
import type { CachedAnswer, ResponseCacheStore } from './response-cache.ts';

export interface LocalResponseCacheLimits {
  maxEntries: number;
  maxBytes: number;
}

export const DEFAULT_LOCAL_CACHE_LIMITS: LocalResponseCacheLimits = { maxEntries: 10_000, maxBytes: 64 * 1024 * 1024 };

export class LocalResponseCache implements ResponseCacheStore {
  readonly #entries = new Map<string, { answer: CachedAnswer; expiresAt: number; bytes: number }>();
  readonly #limits: LocalResponseCacheLimits;
  readonly #now: () => number;
  #bytes = 0;

  constructor(limits: LocalResponseCacheLimits = DEFAULT_LOCAL_CACHE_LIMITS, now: () => number = Date.now) {
    this.#limits = limits;
    this.#now = now;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    this.#entries.delete(key);
    if (entry.expiresAt <= this.#now()) {
      this.#bytes -= entry.bytes;
      return undefined;
    }
    // Most recently used last.
    this.#entries.set(key, entry);
    return entry.answer;
  }

  async set(key: string, answer: CachedAnswer, ttlSeconds: number): Promise<void> {
    const bytes = answer.text.length * 2;
    if (ttlSeconds <= 0 || bytes > this.#limits.maxBytes) return;
    const previous = this.#entries.get(key);
    if (previous !== undefined) {
      this.#entries.delete(key);
      this.#bytes -= previous.bytes;
    }
    this.#entries.set(key, { answer, expiresAt: this.#now() + ttlSeconds * 1000, bytes });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#limits.maxEntries && this.#bytes <= this.#limits.maxBytes) break;
      this.#entries.delete(oldest);
      this.#bytes -= entry.bytes;
    }
  }
}
