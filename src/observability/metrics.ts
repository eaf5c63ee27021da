/**
 * Prometheus metrics for `GET /metrics`.
 *
 * Why prom-client: the de-facto Prometheus client for Node, with the exposition format, default
 * process metrics and cheap label children.
 *
 * Hot-path cost: one `observeRequest` per request. The request metrics are `fast-metrics.ts`
 * counters and histograms (rendered by prom-client's registry like its own); their label children
 * are memoised in nested Maps (and pre-created for the known routes x model groups), so an
 * observation is three Map hits and a few additions: no label hashing, no string or object
 * allocation. Each app gets its own registry, so tests can build several apps in one process.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { answerOwnMetrics, metricsOfAllWorkers } from './cluster-metrics.ts';
import { droppedLogLines } from './logger.ts';
import { FastCounter, type FastCounterChild, FastHistogram, type FastHistogramChild } from './fast-metrics.ts';

/** Seconds; upstream and total latency of model calls (LLM calls run from ms to minutes). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Seconds; the gateway's own overhead is expected well under a millisecond. */
const OVERHEAD_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/** Status label for a response the client abandoned before it ended (nginx's convention). */
export const CLIENT_CLOSED_STATUS = 499;

export interface RequestObservation {
  /** The route pattern (`/v1/chat/completions`), never the raw URL: bounded cardinality. */
  route: string;
  /** A configured model group, or `''` when the request named none (or an unknown one). */
  model: string;
  status: number;
  totalSeconds: number;
  /** Time spent waiting on upstreams; `null` when the request made no upstream call. */
  upstreamSeconds: number | null;
  /** Time spent waiting for a slow client to drain a stream (not the gateway's doing). */
  clientWaitSeconds: number;
}

export interface MetricsOptions {
  /** Node process metrics (RSS, event loop lag, GC); on by default. */
  collectDefaultMetrics?: boolean;
  /** Label children created up front. */
  routes?: readonly string[];
  modelGroups?: readonly string[];
  /** One of several workers (`--num_workers`): `/metrics` answers for all of them (`cluster-metrics.ts`). */
  clusterWorker?: boolean;
}

/** One upstream attempt as the router reports it (`RouterOptions.onAttempt`). */
export interface UpstreamAttemptObservation {
  modelGroup: string;
  deploymentId: string;
  error?: unknown;
}

/** One flush's totals of a model group and call type. */
type SpendSums = { spend: number; prompt: number; completion: number; cached: number; reasoning: number };

/** What the spend counters read of a ledger row. */
export interface SpendRowObservation {
  modelGroup: string;
  callType: string;
  spend: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
}

interface RequestChildren {
  requests: FastCounterChild;
  duration: FastHistogramChild;
}

export class GatewayMetrics {
  readonly registry: Registry;
  private readonly requests: FastCounter;
  private readonly duration: FastHistogram;
  private readonly upstreamDuration: FastHistogram;
  private readonly overhead: FastHistogram;
  private readonly attempts: FastCounter;
  /** model group -> deployment id -> result -> child. */
  private readonly attemptChildren = new Map<string, Map<string, { ok?: FastCounterChild; error?: FastCounterChild }>>();
  /** route -> model -> status -> children. */
  private readonly requestChildren = new Map<string, Map<string, Map<number, RequestChildren>>>();
  private readonly upstreamChildren = new Map<string, FastHistogramChild>();
  private readonly spend: Counter<'model' | 'call_type'>;
  private readonly tokens: Counter<'model' | 'kind'>;
  private readonly spendRowsWritten: Counter;
  private readonly spendRowsDropped: Counter;
  private readonly spendChildren: Record<string, Record<string, { inc(value: number): void }>> = Object.create(null);
  private readonly tokenChildren: Record<string, Record<string, { inc(value: number): void }>> = Object.create(null);
  private readonly overheadChildren = new Map<string, FastHistogramChild>();
  private readonly clusterWorker: boolean;

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    this.clusterWorker = options.clusterWorker ?? false;
    if (this.clusterWorker) answerOwnMetrics(this.registry);
    if (options.collectDefaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'portico_' });
    }
    this.requests = new FastCounter({
      name: 'portico_requests_total',
      help: 'HTTP requests answered, by route pattern, model group and status (499 = client closed).',
      labelNames: ['route', 'model', 'status'],
      registers: [this.registry],
    });
    this.duration = new FastHistogram({
      name: 'portico_request_duration_seconds',
      help: 'Total time from request received to response ended, by route pattern, model group and status.',
      labelNames: ['route', 'model', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.upstreamDuration = new FastHistogram({
      name: 'portico_upstream_duration_seconds',
      help: 'Time spent waiting on upstream providers per request (all attempts), by model group.',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.overhead = new FastHistogram({
      name: 'portico_overhead_seconds',
      help: "Portico's own overhead per proxied request: total time minus upstream time minus time waiting for the client to read.",
      labelNames: ['route'],
      buckets: OVERHEAD_BUCKETS,
      registers: [this.registry],
    });
    this.attempts = new FastCounter({
      name: 'portico_upstream_attempts_total',
      help: 'Upstream attempts (first tries, retries and fallbacks), by model group, deployment id and result (ok or error).',
      labelNames: ['model', 'deployment', 'result'],
      registers: [this.registry],
    });
    this.spend = new Counter({
      name: 'portico_spend_usd_total',
      help: 'Spend recorded in the spend ledger, USD, by model group and call type.',
      labelNames: ['model', 'call_type'],
      registers: [this.registry],
    });
    this.tokens = new Counter({
      name: 'portico_tokens_total',
      help: 'Tokens recorded in the spend ledger, by model group and kind (prompt, completion, cached, reasoning).',
      labelNames: ['model', 'kind'],
      registers: [this.registry],
    });
    this.spendRowsWritten = new Counter({ name: 'portico_spend_log_rows_written_total', help: 'Spend ledger rows written to the database.', registers: [this.registry] });
    this.spendRowsDropped = new Counter({
      name: 'portico_spend_log_rows_dropped_total',
      help: 'Spend ledger rows dropped because the queue was over its hard bound (the database refused writes for long).',
      registers: [this.registry],
    });
    let droppedSoFar = 0;
    new Counter({
      name: 'portico_log_lines_dropped_total',
      help: 'Log lines stdout could not take (its reader stalled or went away), since the process started.',
      registers: [this.registry],
      collect() {
        // The count is the process's (one stdout): brought up to date when scraped.
        const dropped = droppedLogLines();
        if (dropped > droppedSoFar) this.inc(dropped - droppedSoFar);
        droppedSoFar = dropped;
      },
    });
    for (const route of options.routes ?? []) {
      this.overheadChild(route);
      for (const model of options.modelGroups ?? []) {
        this.requestChildrenFor(route, model, 200);
      }
    }
    for (const model of options.modelGroups ?? []) this.upstreamChild(model);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.clusterWorker ? metricsOfAllWorkers() : this.registry.metrics();
  }

  /**
   * Spend and tokens of the spend ledger's written rows, by model group (bounded: the configured
   * groups and the names wildcard routes serve) and call type (the endpoints). Counted per flush,
   * off the request path, and only once the rows are stored: the counters agree with the ledger.
   */
  /**
   * One flush's rows: summed per model group and call type first, then one increment per counter
   * child (prom-client hashes the labels on every `inc`, even through a child: five per row were
   * 1% of Portico's busy CPU under `npm run bench`). Token totals are the same integers; a spend
   * total can differ from row-by-row addition in its last bits (float addition order).
   */
  observeSpendRows(rows: readonly SpendRowObservation[]): void {
    const sums = new Map<string, Map<string, SpendSums>>();
    for (const row of rows) {
      let byCallType = sums.get(row.modelGroup);
      if (byCallType === undefined) sums.set(row.modelGroup, (byCallType = new Map()));
      let sum = byCallType.get(row.callType);
      if (sum === undefined) byCallType.set(row.callType, (sum = { spend: 0, prompt: 0, completion: 0, cached: 0, reasoning: 0 }));
      sum.spend += row.spend;
      sum.prompt += row.promptTokens;
      sum.completion += row.completionTokens;
      sum.cached += row.cachedTokens;
      sum.reasoning += row.reasoningTokens;
    }
    for (const [modelGroup, byCallType] of sums) {
      const spend = (this.spendChildren[modelGroup] ??= {});
      const tokens = (this.tokenChildren[modelGroup] ??= {});
      for (const [callType, sum] of byCallType) {
        (spend[callType] ??= this.spend.labels(modelGroup, callType)).inc(sum.spend);
        (tokens.prompt ??= this.tokens.labels(modelGroup, 'prompt')).inc(sum.prompt);
        (tokens.completion ??= this.tokens.labels(modelGroup, 'completion')).inc(sum.completion);
        (tokens.cached ??= this.tokens.labels(modelGroup, 'cached')).inc(sum.cached);
        (tokens.reasoning ??= this.tokens.labels(modelGroup, 'reasoning')).inc(sum.reasoning);
      }
    }
    this.spendRowsWritten.inc(rows.length);
  }

  observeSpendRowsDropped(count: number): void {
    this.spendRowsDropped.inc(count);
  }

  /** `portico_spend_log_queue_rows`, read when scraped. */
  watchSpendQueue(queued: () => number): void {
    new Gauge({
      name: 'portico_spend_log_queue_rows',
      help: 'Spend ledger rows waiting in memory to be written.',
      registers: [this.registry],
      collect() {
        this.set(queued());
      },
    });
  }

  /** `portico_redis_available`, read when scraped: only with `REDIS_URL`. */
  watchRedis(available: () => boolean): void {
    new Gauge({
      name: 'portico_redis_available',
      help: 'Whether Redis is connected and answering (1), or treated as down (0: shared rate limits and cooldowns fail open).',
      registers: [this.registry],
      // Several workers: 1 only if every one of them has Redis.
      aggregator: 'min',
      collect() {
        this.set(available() ? 1 : 0);
      },
    });
  }

  observeRequest(observation: RequestObservation): void {
    const children = this.requestChildrenFor(observation.route, observation.model, observation.status);
    children.requests.inc();
    children.duration.observe(observation.totalSeconds);
    if (observation.upstreamSeconds !== null) {
      this.upstreamChild(observation.model).observe(observation.upstreamSeconds);
      const overhead = observation.totalSeconds - observation.upstreamSeconds - observation.clientWaitSeconds;
      this.overheadChild(observation.route).observe(Math.max(0, overhead));
    }
  }

  observeUpstreamAttempt(attempt: UpstreamAttemptObservation): void {
    const result = attempt.error === undefined ? 'ok' : 'error';
    let byDeployment = this.attemptChildren.get(attempt.modelGroup);
    if (byDeployment === undefined) {
      byDeployment = new Map();
      this.attemptChildren.set(attempt.modelGroup, byDeployment);
    }
    let byResult = byDeployment.get(attempt.deploymentId);
    if (byResult === undefined) {
      byResult = {};
      byDeployment.set(attempt.deploymentId, byResult);
    }
    (byResult[result] ??= this.attempts.labels(attempt.modelGroup, attempt.deploymentId, result)).inc();
  }

  private requestChildrenFor(route: string, model: string, status: number): RequestChildren {
    let byModel = this.requestChildren.get(route);
    if (byModel === undefined) {
      byModel = new Map();
      this.requestChildren.set(route, byModel);
    }
    let byStatus = byModel.get(model);
    if (byStatus === undefined) {
      byStatus = new Map();
      byModel.set(model, byStatus);
    }
    let children = byStatus.get(status);
    if (children === undefined) {
      const statusLabel = String(status);
      children = {
        requests: this.requests.labels(route, model, statusLabel),
        duration: this.duration.labels(route, model, statusLabel),
      };
      byStatus.set(status, children);
    }
    return children;
  }

  private upstreamChild(model: string): FastHistogramChild {
    let child = this.upstreamChildren.get(model);
    if (child === undefined) {
      child = this.upstreamDuration.labels(model);
      this.upstreamChildren.set(model, child);
    }
    return child;
  }

  private overheadChild(route: string): FastHistogramChild {
    let child = this.overheadChildren.get(route);
    if (child === undefined) {
      child = this.overhead.labels(route);
      this.overheadChildren.set(route, child);
    }
    return child;
  }
}
