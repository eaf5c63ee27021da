/**
 * A background loop that runs one tick at a time (never overlapping itself), logs and survives
 * a failed tick, and stops cleanly: `stop()` waits for the tick in progress.
 */
import type { Logger } from '../observability/logger.ts';

export class PeriodicJob {
  readonly name: string;
  readonly #intervalMs: number;
  readonly #logger: Logger;
  /** Answers true when there is more to do at once. */
  readonly #tick: () => Promise<boolean | void>;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #ticking = false;
  #wakeWanted = false;
  #stopped = true;

  constructor(name: string, intervalMs: number, logger: Logger, tick: () => Promise<boolean | void>) {
    this.name = name;
    this.#intervalMs = intervalMs;
    this.#logger = logger;
    this.#tick = tick;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /** Runs one tick now (tests, and shutdown paths that want a last pass). */
  async runOnce(): Promise<void> {
    await this.#tick();
  }

  /** Runs a tick as soon as possible: at once when idle, right after the tick in progress otherwise. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#ticking) {
      this.#wakeWanted = true;
      return;
    }
    clearTimeout(this.#timer);
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.#run();
    }, delayMs);
    this.#timer.unref();
  }

  async #run(): Promise<void> {
    let more = false;
    this.#ticking = true;
    this.#wakeWanted = false;
    try {
      more = (await this.#tick()) === true;
    } catch (error) {
      this.#logger.warn({ job: this.name, err: error instanceof Error ? error.message : String(error) }, 'background job tick failed');
    } finally {
      this.#ticking = false;
    }
    this.#schedule(more || this.#wakeWanted ? 0 : this.#intervalMs);
  }
}
