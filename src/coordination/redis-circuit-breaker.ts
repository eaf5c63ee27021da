/**
 * A circuit breaker in front of the Redis command connection.
 *
 * Why: a Redis that hangs (SIGSTOP, a network cut) keeps its TCP connection open, so commands are
 * not refused at once as when it is down: each one waits for the command timeout (1 s) before the
 * caller fails open, and a request sends several. Once a command has timed out (or
 * `maxConsecutiveFailures` failed in a row), Redis is treated as down for a cool-off, during which
 * commands fail at once without being sent. At the end of each cool-off, one probe (a PING sent by
 * the breaker itself, so no request pays for it) decides: answered, the breaker closes; not, the
 * next cool-off is twice as long, up to `maxCoolOffMs`. A reconnection (the client's `ready`)
 * closes it too: a fresh connection has just been answered.
 *
 * Errors Redis answers (a `ReplyError`, e.g. a script error) are answers: they neither open the
 * breaker nor count as failures.
 */

/** What a breaker's command fails with while it is open: the command was not sent. */
export class RedisCircuitOpenError extends Error {
  constructor() {
    super('redis is treated as down (circuit open after it stopped answering); command not sent');
    this.name = 'RedisCircuitOpenError';
  }
}

export interface RedisCircuitBreakerOptions {
  /** Sends one probe command; resolves when Redis answered it. */
  probe: () => Promise<unknown>;
  /** Called when the breaker opens (after being closed) and when it closes again. */
  onChange: (open: boolean, detail: { reason?: string; coolOffMs?: number }) => void;
  /** First cool-off. Default 1,000 ms. */
  baseCoolOffMs?: number;
  /** Cool-offs double up to this. Default 30,000 ms. */
  maxCoolOffMs?: number;
  /** Failures in a row (other than a timeout, which opens at once) that open the breaker. Default 3. */
  maxConsecutiveFailures?: number;
}

/** ioredis's error for a command left unanswered for `commandTimeout`. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}

/** An error Redis itself answered (the server is alive). */
function isReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

export class RedisCircuitBreaker {
  readonly #probe: () => Promise<unknown>;
  readonly #onChange: RedisCircuitBreakerOptions['onChange'];
  readonly #baseCoolOffMs: number;
  readonly #maxCoolOffMs: number;
  readonly #maxConsecutiveFailures: number;
  #open = false;
  #failures = 0;
  #coolOffMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(options: RedisCircuitBreakerOptions) {
    this.#probe = options.probe;
    this.#onChange = options.onChange;
    this.#baseCoolOffMs = options.baseCoolOffMs ?? 1_000;
    this.#maxCoolOffMs = options.maxCoolOffMs ?? 30_000;
    this.#maxConsecutiveFailures = options.maxConsecutiveFailures ?? 3;
    this.#coolOffMs = this.#baseCoolOffMs;
  }

  /** Whether commands are sent (false: they fail at once). */
  get closed(): boolean {
    return !this.#open;
  }

  /** Runs `command` unless the breaker is open (then rejects at once with `RedisCircuitOpenError`). */
  async run<T>(command: () => Promise<T>): Promise<T> {
    if (this.#open) throw new RedisCircuitOpenError();
    try {
      const result = await command();
      this.#failures = 0;
      return result;
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  /** Records a command's failure (a timeout opens the breaker; so do enough failures in a row). */
  failed(error: unknown): void {
    if (this.#open || isReply(error) || error instanceof RedisCircuitOpenError) return;
    this.#failures += 1;
    if (isTimeout(error)) this.#trip('command timed out');
    else if (this.#failures >= this.#maxConsecutiveFailures) this.#trip(`${this.#failures} commands failed in a row`);
  }

  /** Redis answered on a fresh connection: close now. */
  reset(): void {
    this.#failures = 0;
    this.#coolOffMs = this.#baseCoolOffMs;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#open) return;
    this.#open = false;
    this.#onChange(false, {});
  }

  /** No more probes (the connection is closing). */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #trip(reason: string): void {
    this.#open = true;
    this.#coolOffMs = this.#baseCoolOffMs;
    this.#onChange(true, { reason, coolOffMs: this.#coolOffMs });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tryProbe(), this.#coolOffMs);
    this.#timer.unref();
  }

  async #tryProbe(): Promise<void> {
    this.#timer = undefined;
    if (!this.#open || this.#stopped) return;
    try {
      await this.#probe();
    } catch (error) {
      // A reply error is an answer: Redis is back.
      if (!isReply(error)) {
        // Closed meanwhile by a reconnection (or closed and opened again, with its own timer).
        if (!this.#open || this.#timer !== undefined) return;
        this.#coolOffMs = Math.min(this.#coolOffMs * 2, this.#maxCoolOffMs);
        this.#schedule();
        return;
      }
    }
    this.reset();
  }
}
