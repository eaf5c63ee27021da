/**
 * Prometheus metrics for `GET /metrics`.
 *
 * Why prom-client: the de-facto Prometheus client for Node, with the exposition format, default
 * process metrics and cheap label children.
 *
 * Hot-path cost: one `observeRequest` per request. Label children are memoised in a Map keyed by
 * the label values (and pre-created for the known routes x model groups), so an observation is a
 * Map hit and three `observe` calls: no label hashing or object allocation inside prom-client.
 * Each app gets its own registry, so tests can build several apps in one process.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
}

/** One upstream attempt as the router reports it (`RouterOptions.onAttempt`). */
export interface UpstreamAttemptObservation {
  modelGroup: string;
  deploymentId: string;
  error?: unknown;
}

interface RequestChildren {
  requests: Counter.Internal;
  duration: Histogram.Internal<string>;
}

export class GatewayMetrics {
  readonly registry: Registry;
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly upstreamDuration: Histogram<string>;
  private readonly overhead: Histogram<string>;
  private readonly attempts: Counter<string>;
  private readonly attemptChildren = new Map<string, Counter.Internal>();
  private readonly requestChildren = new Map<string, RequestChildren>();
  private readonly upstreamChildren = new Map<string, Histogram.Internal<string>>();
  private readonly overheadChildren = new Map<string, Histogram.Internal<string>>();

  constructor(options: MetricsOptions = {}) {
    this.registry = new Registry();
    if (options.collectDefaultMetrics ?? true) {
      collectDefaultMetrics({ register: this.registry, prefix: 'portico_' });
    }
    this.requests = new Counter({
      name: 'portico_requests_total',
      help: 'HTTP requests answered, by route pattern, model group and status (499 = client closed).',
      labelNames: ['route', 'model', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'portico_request_duration_seconds',
      help: 'Total time from request received to response ended, by route pattern, model group and status.',
      labelNames: ['route', 'model', 'status'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.upstreamDuration = new Histogram({
      name: 'portico_upstream_duration_seconds',
      help: 'Time spent waiting on upstream providers per request (all attempts), by model group.',
      labelNames: ['model'],
      buckets: LATENCY_BUCKETS,
      registers: [this.registry],
    });
    this.overhead = new Histogram({
      name: 'portico_overhead_seconds',
      help: "Portico's own overhead per proxied request: total time minus upstream time minus time waiting for the client to read.",
      labelNames: ['route'],
      buckets: OVERHEAD_BUCKETS,
      registers: [this.registry],
    });
    this.attempts = new Counter({
      name: 'portico_upstream_attempts_total',
      help: 'Upstream attempts (first tries, retries and fallbacks), by model group, deployment id and result (ok or error).',
      labelNames: ['model', 'deployment', 'result'],
      registers: [this.registry],
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
    return this.registry.metrics();
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
    const key = `${attempt.modelGroup}\u0000${attempt.deploymentId}\u0000${result}`;
    let child = this.attemptChildren.get(key);
    if (child === undefined) {
      child = this.attempts.labels(attempt.modelGroup, attempt.deploymentId, result);
      this.attemptChildren.set(key, child);
    }
    child.inc();
  }

  private requestChildrenFor(route: string, model: string, status: number): RequestChildren {
    const key = `${route}\u0000${model}\u0000${status}`;
    let children = this.requestChildren.get(key);
    if (children === undefined) {
      const statusLabel = String(status);
      children = {
        requests: this.requests.labels(route, model, statusLabel),
        duration: this.duration.labels(route, model, statusLabel),
      };
      this.requestChildren.set(key, children);
    }
    return children;
  }

  private upstreamChild(model: string): Histogram.Internal<string> {
    let child = this.upstreamChildren.get(model);
    if (child === undefined) {
      child = this.upstreamDuration.labels(model);
      this.upstreamChildren.set(model, child);
    }
    return child;
  }

  private overheadChild(route: string): Histogram.Internal<string> {
    let child = this.overheadChildren.get(route);
    if (child === undefined) {
      child = this.overhead.labels(route);
      this.overheadChildren.set(route, child);
    }
    return child;
  }
}
