// bench:scale's arithmetic (bench/lib/scale-report.ts): which worker counts it measures, and the
// speedup and efficiency it prints against the single worker. No timing assertions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { printScaleReport, scalingRows, summarizeRuns, workerCounts, type ScaleConfigResult, type ScaleRun } from '../../bench/lib/scale-report.ts';

const run = (requestsPerSec: number, workerCpuShares: number[] = []): ScaleRun => ({
  requests: requestsPerSec * 10,
  requestsPerSec,
  p50Ms: 2,
  p99Ms: 9,
  non2xx: 0,
  socketErrors: 0,
  cpuUsPerRequest: 100,
  peakRssBytes: 150 * 1048576,
  workerCpuShares,
});

const config = (workers: number, runs: ScaleRun[], tracing = false): ScaleConfigResult => ({
  label: `${workers} workers${tracing ? ', traced' : ''}`,
  workers,
  tracing,
  runs,
  summary: summarizeRuns(runs),
});

describe('bench:scale report', () => {
  it('measures powers of two up to the CPUs, and the CPU count itself', () => {
    assert.deepEqual(workerCounts(1), [1]);
    assert.deepEqual(workerCounts(2), [1, 2]);
    assert.deepEqual(workerCounts(6), [1, 2, 4, 6]);
    assert.deepEqual(workerCounts(16), [1, 2, 4, 8, 16]);
  });

  it('takes the median throughput over rounds and the extreme worker CPU shares', () => {
    const summary = summarizeRuns([run(1000, [0.5, 0.5]), run(3000, [0.4, 0.6]), run(2000, [0.45, 0.55])])!;
    assert.equal(summary.requestsPerSec, 2000);
    assert.equal(summary.minWorkerShare, 0.4);
    assert.equal(summary.maxWorkerShare, 0.6);
    assert.equal(summarizeRuns([]), undefined);
  });

  it('reads speedup and efficiency against one worker, leaving the traced run out of the scaling rows', () => {
    const rows = scalingRows([config(1, [run(10_000)]), config(2, [run(18_000)]), config(4, [run(30_000)]), config(1, [run(8_000)], true)]);
    assert.deepEqual(
      rows.map((row) => [row.workers, row.speedup, row.efficiency]),
      [
        [1, 1, 1],
        [2, 1.8, 0.9],
        [4, 3, 0.75],
      ],
    );
  });

  it('prints the tracing cost against the untraced single worker of the same run', () => {
    const text = printScaleReport({
      machine: { cpus: 2, cpuModel: 'test', loadAverageBefore: 0, loadAverageAfter: 0, node: 'v24' },
      tool: 'wrk',
      settings: { durationS: 1, warmupS: 1, rounds: 1, connections: 32, threads: 2, upstreamProcesses: 1, redis: 'test' },
      configs: [config(1, [run(10_000)]), { ...config(1, [{ ...run(8_000), cpuUsPerRequest: 125 }], true), spansPerRequest: 3 }],
    });
    assert.match(text, /on\/off: throughput 0\.80x, CPU per request 1\.25x \(\+25 us\)/);
    assert.match(text, /^on\s+8,000 .* 3\.00$/m);
  });
});
