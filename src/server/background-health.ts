/**
 * LiteLLM's `general_settings.background_health_checks`: the `/health` check of every deployment
 * (`model-health.ts`) runs on a timer, every `health_check_interval` seconds (LiteLLM's default
 * 300), and `GET /health` without `?model=` answers the latest results instead of calling every
 * deployment while the operator waits. One run at a time; each instance checks for itself (the
 * answer is about what this instance can reach). The first answer waits for the first run.
 */
import type { ModelHealth } from './model-health.ts';

export class BackgroundHealthChecks {
  readonly #check: () => Promise<ModelHealth>;
  readonly #intervalMs: number;
  readonly #onError: (error: unknown) => void;
  #latest: Promise<ModelHealth> | undefined;
  #running = false;
  #timer: NodeJS.Timeout | undefined;

  constructor(check: () => Promise<ModelHealth>, intervalMs: number, onError: (error: unknown) => void) {
    this.#check = check;
    this.#intervalMs = intervalMs;
    this.#onError = onError;
  }

  start(): void {
    this.#run();
    // The timer keeps no process alive: a stopping server is not held up by it.
    this.#timer = setInterval(() => this.#run(), this.#intervalMs).unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The latest finished run's results (the first run's, awaited, until one has finished). */
  latest(): Promise<ModelHealth> {
    this.#latest ??= this.#runNow();
    return this.#latest;
  }

  #run(): void {
    if (this.#running) return;
    const run = this.#runNow();
    // The previous results stay the answer until this run has finished.
    if (this.#latest === undefined) this.#latest = run;
    run.then(
      (health) => {
        this.#latest = Promise.resolve(health);
      },
      (error: unknown) => {
        // A first run that failed is not kept as the answer: the next call checks again.
        if (this.#latest === run) this.#latest = undefined;
        this.#onError(error);
      },
    );
  }

  async #runNow(): Promise<ModelHealth> {
    this.#running = true;
    try {
      return await this.#check();
    } finally {
      this.#running = false;
    }
  }
}
