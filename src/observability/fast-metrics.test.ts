import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { FastCounter, FastHistogram } from './fast-metrics.ts';

describe('fast metrics', () => {
  it('render exactly as prom-client renders the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const labelNames = ['route', 'model', 'status'];
    const buckets = [0.005, 0.01, 0.1, 1, 10];
    const fastCounter = new FastCounter({ name: 'x_requests_total', help: 'Requests.', labelNames, registers: [ours] });
    const fastHistogram = new FastHistogram({ name: 'x_duration_seconds', help: 'Duration "quoted" \\ help.', labelNames, buckets, registers: [ours] });
    const counter = new Counter({ name: 'x_requests_total', help: 'Requests.', labelNames, registers: [theirs] });
    const histogram = new Histogram({ name: 'x_duration_seconds', help: 'Duration "quoted" \\ help.', labelNames, buckets, registers: [theirs] });

    const observations: Array<[string, string, string, number]> = [
      ['/v1/chat/completions', 'gpt-4o-mini', '200', 0.004],
      ['/v1/chat/completions', 'gpt-4o-mini', '200', 0.005],
      ['/v1/chat/completions', 'gpt-4o-mini', '200', 0.2],
      ['/v1/chat/completions', 'gpt-4o-mini', '429', 12],
      ['/v1/embeddings', 'we"ird\\model\n', '200', 0.05],
      ['/v1/chat/completions', '', '499', 1],
    ];
    for (const [route, model, status, seconds] of observations) {
      fastCounter.labels(route, model, status).inc();
      fastHistogram.labels(route, model, status).observe(seconds);
      counter.labels(route, model, status).inc();
      histogram.labels(route, model, status).observe(seconds);
    }
    assert.equal(await ours.metrics(), await theirs.metrics());
    // The JSON form too, but for prom-client's empty exemplar fields.
    const withoutExemplars = (json: unknown) => JSON.parse(JSON.stringify(json, (key, value) => (key === 'exemplar' ? undefined : value)));
    assert.deepEqual(withoutExemplars(await ours.getMetricsAsJSON()), withoutExemplars(await theirs.getMetricsAsJSON()));
  });

  it('a label set exists from its first observation, not from labels()', async () => {
    const registry = new Registry();
    const histogram = new FastHistogram({ name: 'y_seconds', help: 'Y.', labelNames: ['model'], buckets: [1], registers: [registry] });
    const counter = new FastCounter({ name: 'y_total', help: 'Y.', labelNames: ['model'], registers: [registry] });
    histogram.labels('pre-created');
    counter.labels('pre-created');
    assert.doesNotMatch(await registry.metrics(), /pre-created/);
    histogram.labels('pre-created').observe(0.5);
    counter.labels('pre-created').inc();
    assert.match(await registry.metrics(), /y_seconds_count\{model="pre-created"\} 1/);
    assert.match(await registry.metrics(), /y_total\{model="pre-created"\} 1/);
  });

  it('refuses a label set of the wrong size', () => {
    const counter = new FastCounter({ name: 'z_total', help: 'Z.', labelNames: ['a', 'b'], registers: [] });
    assert.throws(() => counter.labels('only-one'));
  });
});
