/**
 * A counter and a histogram whose label children cost a few additions per observation.
 *
 * Why not prom-client's own: its "pre-bound" children still validate the labels, hash them into
 * a string and look the series up by that string on every `inc`/`observe`, and a histogram finds
 * its bucket through a number-keyed object. These keep each series in a child object that the
 * caller holds on to. They register in a prom-client `Registry` and answer `get()` /
 * `getForPromString()` in prom-client's shape, so `/metrics` renders exactly as before (same
 * names, label order, bucket lines, `_sum` and `_count`).
 */
import type { Registry } from 'prom-client';

type LabelValues = Record<string, string>;

interface ExportedValue {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: LabelValues;
  metricName?: string;
}

interface ExportedMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: ExportedValue[];
  aggregator: 'sum';
}

interface MetricConfig {
  name: string;
  help: string;
  labelNames: readonly string[];
  registers: readonly Registry[];
}

/** Label values -> the object prom-client prints, in `labelNames` order. */
function labelObject(labelNames: readonly string[], values: readonly string[]): LabelValues {
  if (values.length !== labelNames.length) {
    throw new Error(`expected ${labelNames.length} label values (${labelNames.join(', ')}), got ${values.length}`);
  }
  const labels: LabelValues = {};
  labelNames.forEach((name, index) => {
    labels[name] = values[index];
  });
  return labels;
}

abstract class FastMetric<Child> {
  readonly name: string;
  readonly help: string;
  readonly aggregator = 'sum' as const;
  protected readonly labelNames: readonly string[];
  protected readonly children = new Map<string, Child>();

  constructor(config: MetricConfig) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
    for (const registry of config.registers) registry.registerMetric(this as never);
  }

  /** The child of one label set; hold on to it, it is the cheap part. */
  labels(...values: string[]): Child {
    const key = values.join('\u0000');
    let child = this.children.get(key);
    if (child === undefined) {
      child = this.createChild(labelObject(this.labelNames, values));
      this.children.set(key, child);
    }
    return child;
  }

  reset(): void {
    this.children.clear();
  }

  protected abstract createChild(labels: LabelValues): Child;
  abstract getForPromString(): Promise<ExportedMetric>;

  /** The JSON form (`registry.getMetricsAsJSON()`): shared labels folded into each value. */
  async get(): Promise<ExportedMetric> {
    const metric = await this.getForPromString();
    metric.values = metric.values.map(({ sharedLabels, ...value }) => ({ ...value, labels: { ...value.labels, ...sharedLabels } }));
    return metric;
  }
}

export class FastCounterChild {
  readonly labels: LabelValues;
  value = 0;
  /** Like prom-client, a series exists from its first `inc`, not from `labels()`. */
  touched = false;

  constructor(labels: LabelValues) {
    this.labels = labels;
  }

  inc(amount = 1): void {
    if (!(amount >= 0 && Number.isFinite(amount))) return;
    this.value += amount;
    this.touched = true;
  }
}

export class FastCounter extends FastMetric<FastCounterChild> {
  readonly type = 'counter' as const;

  protected createChild(labels: LabelValues): FastCounterChild {
    return new FastCounterChild(labels);
  }

  async getForPromString(): Promise<ExportedMetric> {
    const values: ExportedValue[] = [];
    for (const child of this.children.values()) {
      if (child.touched) values.push({ value: child.value, labels: child.labels });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export class FastHistogramChild {
  readonly labels: LabelValues;
  readonly #bounds: readonly number[];
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(labels: LabelValues, bounds: readonly number[]) {
    this.labels = labels;
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return;
    const bounds = this.#bounds;
    let index = 0;
    while (index < bounds.length && value > bounds[index]) index++;
    this.counts[index] += 1;
    this.sum += value;
    this.count += 1;
  }
}

export class FastHistogram extends FastMetric<FastHistogramChild> {
  readonly type = 'histogram' as const;
  readonly #bounds: readonly number[];

  constructor(config: MetricConfig & { buckets: readonly number[] }) {
    super(config);
    this.#bounds = Object.freeze([...config.buckets].sort((a, b) => a - b));
  }

  protected createChild(labels: LabelValues): FastHistogramChild {
    return new FastHistogramChild(labels, this.#bounds);
  }

  async getForPromString(): Promise<ExportedMetric> {
    const bucketName = `${this.name}_bucket`;
    const values: ExportedValue[] = [];
    for (const child of this.children.values()) {
      // Like prom-client, a series exists from its first observation, not from `labels()`.
      if (child.count === 0) continue;
      let cumulative = 0;
      this.#bounds.forEach((bound, index) => {
        cumulative += child.counts[index];
        values.push({ labels: { le: bound }, sharedLabels: child.labels, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels: child.labels, value: child.count, metricName: bucketName },
        { labels: {}, sharedLabels: child.labels, value: child.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels: child.labels, value: child.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}
