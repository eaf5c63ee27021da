/**
 * Portico's batch engine: runs the lines of emulated batches (deployments without a batch API,
 * or `batch_mode: emulate`) as durable, leased work items.
 *
 * - Work: for each deployment with `in_progress` emulated batches, the engine keeps up to
 *   `batch_concurrency` lines running (per instance), leasing items from the database
 *   (`leaseItems`: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several instances share a batch;
 *   one process on SQLite). A few lines more than the free slots are leased ahead and held
 *   ready (`readyAhead`): a finished call frees its slot and the next ready line starts in the
 *   same turn, so slots do not sit idle while a lease query runs; fills top the ready lines up.
 * - Gentleness: a lane that begins work ramps its calls up (`batch-engine-slow-start.ts`), and its
 *   starts are paced (`batch-engine-pacing.ts`) so its calls do not travel in waves whose answers
 *   hold up the live requests handled by the same event loop.
 * - Durability: each result is recorded under the item's lease (`completeItems`, grouped), so a line
 *   completes once; leases of running lines are renewed while their call lasts; a crashed
 *   instance's leases expire and its lines are leased again by whoever runs next. A result
 *   that finds the database unavailable is kept and written once it is back (its lease renewed
 *   meanwhile), so a database restart does not run a finished line again.
 * - Fairness: a deployment's free slots are shared between the owners (team, user or key) of
 *   its batches, round-robin, then between an owner's batches in turn: an owner with many
 *   batches gets one owner's share, not one per batch.
 * - Politeness: before starting lines on a deployment the engine takes them from the
 *   deployment's `rpm`/`tpm` batch share (`routing/rate-limits/`), leaving `live_traffic_share`
 *   free for live requests; it backs off when over it, and pauses a deployment that answered
 *   429 for the time the upstream asked. Live requests never wait for the engine.
 * - Retries: a failed line goes back to `pending` with a due time (`retryItem`), honouring
 *   `retry-after`; it is never retried by sleeping while holding a slot.
 * - Stop: no new leases; running lines get `drainMs` to finish, then their calls are aborted
 *   and their items given back to `pending` at once, so a rolling restart loses nothing.
 *
 * The engine does not decide a batch's state: `EmulatedExecutor.refresh` (driven by the batch
 * poller and by retrieves) loads a new batch's lines, moves it to `in_progress`, applies
 * cancels and expiry, and finalises it from the items. The two meet without waiting for a poll:
 * `wake()` (a batch just moved to `in_progress`) starts its lines at once, `linesLoaded()` (more
 * of a running batch's lines are in) resumes one the engine had run dry, and `onBatchSettled`
 * reports a batch whose last leased line was recorded, to be finalised at once.
 */
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import { DeploymentBudgets, DEFAULT_LIVE_TRAFFIC_SHARE } from '../routing/rate-limits/deployment-budgets.ts';
import { InMemoryRateLimiter } from '../routing/rate-limits/in-memory-rate-limiter.ts';
import { KeyBudgets, type KeyLimits, type KeyLimitsLookup } from '../routing/rate-limits/key-budgets.ts';
import type { RateLimiter } from '../routing/rate-limits/rate-limiter.ts';
import type { Deployment } from '../spec/provider.ts';
import type { BatchItemRecord, BatchItemStore } from '../storage/batch-item-store.ts';
import type { BatchRecord, BatchStore } from '../storage/batch-store.ts';
import { nowSeconds } from '../storage/row-mapping.ts';
import { ActiveBatches } from './batch-engine-batches.ts';
import { runLeasedLine, type LineOutcome, type LineRunnerDeps } from './batch-engine-line.ts';
import { BatchLineResults } from './batch-line-results.ts';
import { DEFAULT_LINE_RETRY, type LineRetrySettings } from './batch-engine-retry.ts';
import { DEFAULT_SLOW_START, msUntilNextStep, slowStartLimit, type SlowStartSettings } from './batch-engine-slow-start.ts';
import { averageCallMs, DEFAULT_PACING, FRESH_PACE, startSpacingMs, takeStarts, type PaceState, type PacingSettings } from './batch-engine-pacing.ts';

export interface BatchEngineOptions {
  /** Work items of emulated batches. */
  items: BatchItemStore;
  batches: BatchStore;
  router: Router;
  logger: Logger;
  /** Identifies this process in lease owners (e.g. `ManagedServices.instanceId`). */
  instanceId: string;
  /**
   * Where rpm/tpm usage is counted. Pass the limiter the router's live-traffic meter writes to
   * (`liveTrafficMeter`), so the engine sees live usage; default: a private in-memory one.
   */
  limiter?: RateLimiter;
  /** Share of each deployment's rpm/tpm left to live traffic, in [0, 1). Default 0.2. */
  liveTrafficShare?: number;
  /** Lines running at once per deployment when it sets no `batch_concurrency`. Default 8. */
  defaultConcurrency?: number;
  /**
   * Leased lines held ready per deployment, as a share of its concurrency (default 0.5, at
   * least one line): they start the moment a call ends instead of after the next lease query.
   * 0 leases only for free slots.
   */
  readyAhead?: number;
  /** Item lease, ms; renewed every third of it while a line runs. Default 60,000. */
  leaseMs?: number;
  /** How often the engine looks for new work and re-reads its batches, ms. Default 500. */
  pollIntervalMs?: number;
  /** How long `stop()` lets running lines finish before giving them back, ms. Default 5,000. */
  drainMs?: number;
  /** Per-line retries. */
  retry?: Partial<LineRetrySettings>;
  /** How a lane that begins work ramps its calls up to its concurrency (`initial: 0`: all at once). */
  slowStart?: Partial<SlowStartSettings>;
  /** How a lane spaces its starts so its calls do not travel in waves (`share: 0`: unpaced). */
  pacing?: Partial<PacingSettings>;
  /** How often items of finished batches are deleted, ms (0 = never). Default 60,000. */
  cleanupIntervalMs?: number;
  /**
   * The rpm/tpm limits of the keys that created batches, their users and teams
   * (`KeyStore.limitsOf`): a key's lines are paced by them, counted in `limiter` with their live
   * requests. Absent: not applied.
   */
  keyLimits?: KeyLimitsLookup;
  /**
   * Called when this instance has no line of a batch running and found none left to lease
   * (every line recorded, or waiting for a retry): the batch may be ready to finalise.
   */
  onBatchSettled?: (batchId: string) => void;
}

export interface BatchEngine {
  readonly name: 'batch-engine';
  /** Starts working in the background; safe to call twice. */
  start(): void;
  /** Stops leasing, lets running lines finish for `drainMs`, gives the rest back; resolves when idle. */
  stop(): Promise<void>;
  /** Leases what is due now, runs it, and resolves when those lines are done (tests, last passes). */
  runOnce(): Promise<void>;
  /** Re-reads the running batches and fills free slots now (a batch just started). */
  wake(): void;
  /**
   * More lines of a running batch were loaded (a batch runs while the rest of its lines load): if
   * this engine found none left of it, it leases from it again now rather than after `pollIntervalMs`.
   */
  linesLoaded(batchId: string): void;
  /** Lines leased by this instance and not yet recorded. */
  readonly running: number;
  /** Upstream calls of this instance's lines in progress now (bounded per deployment by `batch_concurrency`). */
  readonly calling: number;
}

export const DEFAULT_BATCH_CONCURRENCY = 8;

interface Lane {
  deployment: Deployment;
  /** Upstream calls running now: what `batch_concurrency` bounds. */
  inFlight: number;
  /** Lines leased and not yet recorded (ready, calls running, answers being written). */
  leased: number;
  /** Leased lines waiting for a slot, oldest first. */
  ready: ReadyLine[];
  /** A slice of ready lines is due to start in the next turn of the event loop. */
  sliceScheduled: boolean;
  /** When (ms) the lane's slow start began; its call allowance grows from there. */
  rampFrom: number;
  /** When (ms) the lane's last call ended while none other was in flight. */
  idleSince: number;
  /** A start is due when the slow start next lets more calls in. */
  rampTimer: NodeJS.Timeout | undefined;
  /** Starts the lane may make now (`batch-engine-pacing.ts`). */
  pace: PaceState;
  /** Running average of the lane's call time, ms; undefined until a call ended. */
  callMs: number | undefined;
  /** A start is due when pacing next lets one in. */
  paceTimer: NodeJS.Timeout | undefined;
  /** Until when (ms) no line starts on the deployment: it answered 429. */
  pausedUntil: number;
  /**
   * Until when (ms) no more lines are leased: the deployment's batch share of rpm/tpm is used up.
   * Lines already leased (and so admitted) still start.
   */
  budgetWaitUntil: number;
  /** Where the next fill starts among the owners of the deployment's batches. */
  rotation: number;
  /** Per owner, where its next turn starts among its batches. */
  ownerRotation: Map<string, number>;
}

interface ReadyLine {
  item: BatchItemRecord;
  /** The limits (of its batch's key, user, team) the line counts against; null when none has any. */
  limitedBy: KeyLimits | null;
}

interface RunningLine {
  item: BatchItemRecord;
  controller: AbortController;
  done: Promise<void>;
}

type OwnerBatches = readonly [owner: string, batches: readonly BatchRecord[]];

/** Batches grouped by owner, owners in the order of their oldest batch. */
function batchesByOwner(batches: readonly BatchRecord[]): OwnerBatches[] {
  const grouped = new Map<string, BatchRecord[]>();
  for (const batch of batches) {
    const list = grouped.get(batch.owner);
    if (list) list.push(batch);
    else grouped.set(batch.owner, [batch]);
  }
  return [...grouped.entries()];
}

export function createBatchEngine(options: BatchEngineOptions): BatchEngine {
  return new LeasedBatchEngine(options);
}

class LeasedBatchEngine implements BatchEngine {
  readonly name = 'batch-engine' as const;
  readonly #options: BatchEngineOptions;
  readonly #owner: string;
  readonly #leaseMs: number;
  readonly #pollIntervalMs: number;
  readonly #budgets: DeploymentBudgets;
  readonly #keyBudgets: KeyBudgets;
  readonly #lineDeps: LineRunnerDeps;
  readonly #slowStart: SlowStartSettings;
  readonly #pacing: PacingSettings;
  readonly #batches: ActiveBatches;
  readonly #lanes = new Map<string, Lane>();
  readonly #running = new Map<string, RunningLine>();
  /** Lines of this instance leased and not yet recorded, per batch. */
  readonly #runningPerBatch = new Map<string, number>();
  readonly #warnedDeployments = new Set<string>();
  #stopped = true;
  /** Set by `stop()`: ready lines are given back instead of started. */
  #stopping = false;
  #filling: Promise<number> | undefined;
  #refillWanted = false;
  /** When a fill last looked for expired leases too (ms); fills in between lease pending lines only. */
  #expiredCheckedAt = Number.NEGATIVE_INFINITY;
  #leaseExpired = true;
  #timers: NodeJS.Timeout[] = [];

  constructor(options: BatchEngineOptions) {
    this.#options = options;
    this.#owner = `${options.instanceId}:engine`;
    this.#leaseMs = options.leaseMs ?? 60_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 500;
    const limiter = options.limiter ?? new InMemoryRateLimiter();
    const share = options.liveTrafficShare ?? DEFAULT_LIVE_TRAFFIC_SHARE;
    this.#budgets = new DeploymentBudgets(limiter, share);
    this.#keyBudgets = new KeyBudgets(limiter, share);
    this.#lineDeps = {
      router: options.router,
      items: options.items,
      results: new BatchLineResults(options.items), // replaced at each start: a stop abandons it
      budgets: this.#budgets,
      keyBudgets: this.#keyBudgets,
      retry: { ...DEFAULT_LINE_RETRY, ...options.retry },
      logger: options.logger,
    };
    this.#batches = new ActiveBatches(options.batches, this.#pollIntervalMs, options.keyLimits);
    this.#slowStart = { ...DEFAULT_SLOW_START, ...options.slowStart };
    this.#pacing = { ...DEFAULT_PACING, ...options.pacing };
  }

  get running(): number {
    let ready = 0;
    for (const lane of this.#lanes.values()) ready += lane.ready.length;
    return this.#running.size + ready;
  }

  get calling(): number {
    let calls = 0;
    for (const lane of this.#lanes.values()) calls += lane.inFlight;
    return calls;
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#stopping = false;
    this.#lineDeps.results = new BatchLineResults(this.#options.items);
    this.#batches.invalidate();
    const every = (ms: number, task: () => void) => {
      const timer = setInterval(task, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#pollIntervalMs, () => this.#kick());
    every(Math.max(50, Math.floor(this.#leaseMs / 3)), () => this.#renewLeases());
    const cleanupMs = this.#options.cleanupIntervalMs ?? 60_000;
    if (cleanupMs > 0) every(cleanupMs, () => void this.#cleanUp());
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stopping = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    for (const lane of this.#lanes.values()) {
      clearTimeout(lane.rampTimer);
      lane.rampTimer = undefined;
      clearTimeout(lane.paceTimer);
      lane.paceTimer = undefined;
    }
    await this.#filling?.catch(() => undefined);
    await this.#giveBackReady();
    const drained = Promise.allSettled([...this.#running.values()].map((line) => line.done));
    const drainMs = this.#options.drainMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([drained, new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
    clearTimeout(timer);
    // Whatever still runs is given back to `pending` for the next instance, and results still
    // waiting for an unavailable database are given up (their leases expire).
    const stopping = new Error('the batch engine is stopping');
    for (const line of this.#running.values()) line.controller.abort(stopping);
    this.#lineDeps.results.abandon(stopping);
    await Promise.allSettled([...this.#running.values()].map((line) => line.done));
  }

  async runOnce(): Promise<void> {
    this.#batches.invalidate();
    this.#expiredCheckedAt = Number.NEGATIVE_INFINITY;
    await this.#fill();
    // Ready lines start as running ones finish (or when the slow start or pacing lets them):
    // wait until none is left of either.
    while (this.#running.size > 0 || this.#heldBack()) {
      if (this.#running.size > 0) await Promise.allSettled([...this.#running.values()].map((line) => line.done));
      else await new Promise((resolve) => setTimeout(resolve, 1));
    }
  }

  /** Some lane has ready lines waiting for its slow start or pacing to let them start. */
  #heldBack(): boolean {
    for (const lane of this.#lanes.values()) if (lane.ready.length > 0 && (lane.rampTimer !== undefined || lane.paceTimer !== undefined)) return true;
    return false;
  }

  wake(): void {
    this.#batches.invalidate();
    this.#kick();
  }

  linesLoaded(batchId: string): void {
    if (this.#batches.undrain(batchId)) this.#kick();
  }

  /** Fills free slots soon; fills requested while one runs are coalesced into one more. */
  #kick(): void {
    if (this.#stopped) return;
    if (this.#filling) {
      this.#refillWanted = true;
      return;
    }
    this.#filling = this.#fill()
      .catch((error: unknown) => {
        this.#options.logger.warn({ job: 'batch-engine', err: error instanceof Error ? error.message : String(error) }, 'batch engine: leasing lines failed');
        return 0;
      })
      .finally(() => {
        this.#filling = undefined;
        if (this.#refillWanted) {
          this.#refillWanted = false;
          setImmediate(() => this.#kick());
        }
      });
  }

  /** Leases and starts lines for every deployment with free slots and budget; answers how many. */
  async #fill(): Promise<number> {
    const now = Date.now();
    let started = 0;
    // Expired leases (a crashed worker's) are looked for once per poll interval: that query walks
    // every running line of a batch, and a busy engine fills many times a second.
    this.#leaseExpired = now - this.#expiredCheckedAt >= this.#pollIntervalMs;
    if (this.#leaseExpired) this.#expiredCheckedAt = now;
    const byDeployment = await this.#batches.byDeployment(now);
    // Lanes whose every batch stopped running here keep no ready lines.
    for (const [deploymentId, lane] of this.#lanes) if (!byDeployment.has(deploymentId)) await this.#dropReadyOfInactive(lane, []);
    for (const [deploymentId, batches] of byDeployment) {
      const deployment = this.#options.router.deployment(deploymentId);
      if (!deployment) {
        this.#warnUnknownDeployment(deploymentId);
        continue;
      }
      const lane = this.#laneOf(deployment);
      await this.#dropReadyOfInactive(lane, batches);
      const concurrency = this.#concurrencyOf(deployment);
      const ahead = this.#readyAheadOf(concurrency);
      // A slot is free once its call is over, while its answer is still being written; answers
      // waiting to be written are bounded by the concurrency too (a slow database slows leasing).
      const free = Math.min(concurrency - lane.inFlight + ahead - lane.ready.length, 2 * concurrency + ahead - lane.leased);
      // Slots are refilled a few at a time, once half the ready lines are used (at least an eighth
      // of the lane), so a busy lane costs one lease query per several finished lines rather than
      // one per line: on SQLite a lease (a transaction, its commit) costs about 0.45 ms plus 15 us
      // a line, on the event loop, and leasing 16 lines of a 64-line lane instead of 8 took a
      // third off the engine's lease time (bench/README.md). The other half of the ready lines
      // covers the slots that free meanwhile.
      const refillAt = Math.max(Math.ceil(concurrency / 8), Math.floor(ahead / 2));
      if (free <= 0 || (lane.inFlight > 0 && free < refillAt) || lane.pausedUntil > now || lane.budgetWaitUntil > now) {
        this.#startReady(lane);
        continue;
      }
      const admission = await this.#budgets.admitBatchRequests(deployment, free);
      if (admission.granted === 0) {
        lane.budgetWaitUntil = Date.now() + Math.min(admission.retryAfterMs, 5_000);
        continue;
      }
      let leased = 0;
      try {
        leased = await this.#lease(deployment, lane, batches, admission.granted);
      } finally {
        if (leased < admission.granted) await this.#budgets.returnUnused(deployment, admission.granted - leased);
      }
      started += leased;
      this.#startReady(lane);
    }
    return started;
  }

  #concurrencyOf(deployment: Deployment): number {
    return deployment.batchConcurrency ?? this.#options.defaultConcurrency ?? DEFAULT_BATCH_CONCURRENCY;
  }

  #readyAheadOf(concurrency: number): number {
    const share = this.#options.readyAhead ?? 0.5;
    return share <= 0 ? 0 : Math.max(1, Math.ceil(concurrency * share));
  }

  /**
   * Starts ready lines while the lane has free slots and is not paced or paused, an eighth of the
   * lane per turn of the event loop: a batch starting 64 lines at once would otherwise build and
   * send them in one go. In steady state a finished call starts one line. A lane that begins work
   * ramps its calls up (`batch-engine-slow-start.ts`): the first wave's connections are opened
   * over a few steps of 50 ms rather than all in one burst. And starts are paced
   * (`batch-engine-pacing.ts`): calls that start together end together, and their answers would
   * hold up the live requests that arrive meanwhile, once per call for the whole batch.
   */
  #startReady(lane: Lane): void {
    const now = Date.now();
    if (this.#stopping || lane.ready.length === 0 || lane.pausedUntil > now) return;
    const concurrency = this.#concurrencyOf(lane.deployment);
    // A lane that had no call in flight for a while (or never) starts slowly again.
    if (lane.inFlight === 0 && now - lane.idleSince >= this.#slowStart.restartAfterIdleMs) lane.rampFrom = now;
    const allowed = slowStartLimit(concurrency, now - lane.rampFrom, this.#slowStart);
    const room = Math.max(0, Math.min(Math.ceil(concurrency / 8), allowed - lane.inFlight, lane.ready.length));
    const paced = takeStarts(lane.pace, performance.now(), startSpacingMs(lane.callMs, concurrency, this.#pacing), room);
    lane.pace = paced.state;
    for (let started = 0; started < paced.starts; started++) {
      const { item, limitedBy } = lane.ready.shift()!;
      this.#dispatch(item, lane, limitedBy);
    }
    if (paced.starts < room) {
      // Held back by pacing: the next start is due in a fraction of a millisecond to two.
      if (lane.paceTimer === undefined) {
        lane.paceTimer = setTimeout(() => {
          lane.paceTimer = undefined;
          this.#startReady(lane);
        }, paced.waitMs);
        lane.paceTimer.unref();
      }
      return;
    }
    if (lane.inFlight >= allowed && allowed < concurrency && lane.ready.length > 0 && lane.rampTimer === undefined) {
      // Held back by the slow start: more may start when it next grows, even if no call ends first.
      const wait = msUntilNextStep(concurrency, now - lane.rampFrom, this.#slowStart) ?? 0;
      lane.rampTimer = setTimeout(() => {
        lane.rampTimer = undefined;
        this.#startReady(lane);
      }, wait);
      lane.rampTimer.unref();
    }
    if (lane.inFlight < allowed && lane.ready.length > 0 && !lane.sliceScheduled) {
      lane.sliceScheduled = true;
      setImmediate(() => {
        lane.sliceScheduled = false;
        this.#startReady(lane);
      });
    }
  }

  /**
   * Ready lines of batches no longer running here (cancelled, expired, moved) go back to
   * `pending` instead of starting: their batch's own settling (cancel, expiry) takes them there.
   */
  async #dropReadyOfInactive(lane: Lane, active: readonly BatchRecord[]): Promise<void> {
    if (lane.ready.length === 0) return;
    const ids = new Set(active.map((batch) => batch.id));
    const keep: ReadyLine[] = [];
    const drop: ReadyLine[] = [];
    for (const line of lane.ready) (ids.has(line.item.batchId) ? keep : drop).push(line);
    if (drop.length === 0) return;
    lane.ready = keep;
    await Promise.allSettled(drop.map((line) => this.#giveBack(line, lane)));
  }

  /** Gives every ready line back to `pending` (the engine stops). */
  async #giveBackReady(): Promise<void> {
    const all: Promise<void>[] = [];
    for (const lane of this.#lanes.values()) {
      const ready = lane.ready;
      lane.ready = [];
      for (const line of ready) all.push(this.#giveBack(line, lane));
    }
    await Promise.allSettled(all);
  }

  async #giveBack({ item }: ReadyLine, lane: Lane): Promise<void> {
    try {
      await this.#options.items.retryItem({ batchId: item.batchId, lineIndex: item.lineIndex }, { owner: this.#owner, attempt: item.attempts }, nowSeconds());
    } catch {
      // Its lease expires and whoever runs next leases it again.
    } finally {
      lane.leased -= 1;
      this.#lineRecorded(item.batchId);
    }
  }

  /**
   * Leases up to `wanted` lines from the deployment's batches, sharing them between owners: the
   * owners with lines due split what is wanted evenly (whoever has fewer leaves the rest to the
   * others), the first owner changing from fill to fill; an owner's share is taken from its
   * batches in turn. One owner with many batches gets one owner's share, not one per batch.
   */
  async #lease(deployment: Deployment, lane: Lane, batches: readonly BatchRecord[], wanted: number): Promise<number> {
    const owners = batchesByOwner(batches.filter((batch) => !this.#batches.isDrained(batch.id)));
    if (owners.length === 0) return 0;
    // Forget owners with nothing due here, so the map stays as small as the work.
    const present = new Set(owners.map(([owner]) => owner));
    for (const owner of lane.ownerRotation.keys()) if (!present.has(owner)) lane.ownerRotation.delete(owner);
    const start = lane.rotation++ % owners.length;
    let waiting = [...owners.slice(start), ...owners.slice(0, start)];
    let leased = 0;
    while (leased < wanted && waiting.length > 0) {
      const share = Math.max(1, Math.floor((wanted - leased) / waiting.length));
      const stillDue: typeof waiting = [];
      for (const entry of waiting) {
        if (leased >= wanted) break;
        const asked = Math.min(share, wanted - leased);
        const got = await this.#leaseForOwner(deployment, lane, entry, asked);
        leased += got;
        if (got === asked) stillDue.push(entry);
      }
      waiting = stillDue;
    }
    return leased;
  }

  /** Leases up to `wanted` lines of one owner, from its batches in turn; answers how many. */
  async #leaseForOwner(deployment: Deployment, lane: Lane, [owner, batches]: OwnerBatches, wanted: number): Promise<number> {
    const start = lane.ownerRotation.get(owner) ?? 0;
    lane.ownerRotation.set(owner, start + 1);
    let leased = 0;
    for (let i = 0; i < batches.length && leased < wanted; i++) {
      const batch = batches[(start + i) % batches.length];
      if (this.#batches.isDrained(batch.id)) continue;
      leased += await this.#leaseFromBatch(deployment, lane, batch, wanted - leased);
    }
    return leased;
  }

  /** Leases up to `wanted` lines of one batch, within the limits of the key that created it, its user and its team. */
  async #leaseFromBatch(deployment: Deployment, lane: Lane, batch: BatchRecord, wanted: number): Promise<number> {
    const limits = this.#batches.keyLimitsOf(batch);
    // Over a limit the batch waits for the next fills: paced, never failed.
    const allowed = limits === undefined ? wanted : await this.#keyBudgets.admitLines(limits, wanted);
    if (allowed === 0) return 0;
    let items: BatchItemRecord[] = [];
    try {
      items = await this.#options.items.leaseItems(batch.id, this.#owner, allowed, this.#leaseMs, undefined, { expired: this.#leaseExpired });
    } finally {
      if (limits !== undefined && items.length < allowed) await this.#keyBudgets.returnUnused(limits, allowed - items.length);
    }
    const limitedBy = limits ?? null;
    for (const item of items) {
      lane.leased += 1;
      this.#runningPerBatch.set(item.batchId, (this.#runningPerBatch.get(item.batchId) ?? 0) + 1);
      lane.ready.push({ item, limitedBy });
    }
    if (items.length < allowed) {
      this.#batches.markDrained(batch.id);
      if (!this.#runningPerBatch.has(batch.id)) this.#options.onBatchSettled?.(batch.id);
    }
    return items.length;
  }

  /** Starts a leased line (counted in `lane.leased` and `#runningPerBatch` since its lease). */
  #dispatch(item: BatchItemRecord, lane: Lane, limitedBy: KeyLimits | null): void {
    const key = `${item.batchId}:${item.lineIndex}`;
    const controller = new AbortController();
    lane.inFlight += 1;
    const calledAt = performance.now();
    let callOver = false;
    const freeSlot = () => {
      if (callOver) return;
      callOver = true;
      lane.inFlight -= 1;
      lane.callMs = averageCallMs(lane.callMs, performance.now() - calledAt, this.#pacing);
      if (lane.inFlight === 0) lane.idleSince = Date.now();
      // The next ready line takes the slot in this turn; the fill tops the ready lines up.
      this.#startReady(lane);
      this.#kick();
    };
    const done = runLeasedLine(this.#lineDeps, {
      item,
      deploymentId: lane.deployment.id,
      limitedBy,
      lease: { owner: this.#owner, attempt: item.attempts },
      signal: controller.signal,
      onCallDone: freeSlot,
    })
      .then((outcome) => this.#afterLine(outcome, lane))
      .catch((error: unknown) => {
        // The database failed us (or the engine stopped while it was unavailable): the lease
        // expires and the line is run again.
        this.#options.logger.warn({ batch_id: item.batchId, line: item.lineIndex, err: error instanceof Error ? error.message : String(error) }, 'batch engine: recording a line failed');
      })
      .finally(() => {
        freeSlot();
        lane.leased -= 1;
        this.#running.delete(key);
        this.#lineRecorded(item.batchId);
        this.#kick();
      });
    this.#running.set(key, { item, controller, done });
  }

  /** The last line of a batch that had nothing left to lease was recorded: it may be done. */
  #lineRecorded(batchId: string): void {
    const left = (this.#runningPerBatch.get(batchId) ?? 1) - 1;
    if (left > 0) {
      this.#runningPerBatch.set(batchId, left);
      return;
    }
    this.#runningPerBatch.delete(batchId);
    if (this.#batches.isDrained(batchId) && !this.#stopped) this.#options.onBatchSettled?.(batchId);
  }

  #afterLine(outcome: LineOutcome, lane: Lane): void {
    // The upstream is over its limit: no line starts there until it said to come back.
    if (outcome.kind === 'retry' && outcome.rateLimited) lane.pausedUntil = Math.max(lane.pausedUntil, Date.now() + outcome.delayMs);
  }

  /** A batch pinned to a deployment the config no longer has waits (and expires) instead of failing. */
  #warnUnknownDeployment(deploymentId: string): void {
    if (this.#warnedDeployments.has(deploymentId)) return;
    this.#warnedDeployments.add(deploymentId);
    this.#options.logger.warn({ deployment_id: deploymentId }, 'batch engine: emulated batches wait for a deployment that is not in the config');
  }

  #laneOf(deployment: Deployment): Lane {
    let lane = this.#lanes.get(deployment.id);
    if (!lane) {
      lane = {
        deployment,
        inFlight: 0,
        leased: 0,
        ready: [],
        sliceScheduled: false,
        rampFrom: 0,
        idleSince: Number.NEGATIVE_INFINITY,
        rampTimer: undefined,
        pace: FRESH_PACE,
        callMs: undefined,
        paceTimer: undefined,
        pausedUntil: 0,
        budgetWaitUntil: 0,
        rotation: 0,
        ownerRotation: new Map(),
      };
      this.#lanes.set(deployment.id, lane);
    }
    // The config may have been reloaded with new settings for the deployment.
    lane.deployment = deployment;
    return lane;
  }

  #renewLeases(): void {
    const ready = [...this.#lanes.values()].flatMap((lane) => lane.ready);
    for (const { item } of [...this.#running.values(), ...ready]) {
      this.#options.items
        .renewLease({ batchId: item.batchId, lineIndex: item.lineIndex }, { owner: this.#owner, attempt: item.attempts }, this.#leaseMs)
        .catch(() => undefined);
    }
  }

  /** Items of batches that reached a terminal state are no longer needed: their files are written. */
  async #cleanUp(): Promise<void> {
    try {
      for (const batchId of await this.#options.items.finishedBatchesWithItems()) await this.#options.items.deleteItems(batchId);
    } catch (error) {
      this.#options.logger.warn({ job: 'batch-engine', err: error instanceof Error ? error.message : String(error) }, 'batch engine: cleaning up finished items failed');
    }
  }
}
