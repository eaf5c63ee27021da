/**
 * bench:scale's arithmetic and tables (pure, no I/O): the scaling table (throughput at 1, 2, 4,
 * ... workers against the single worker's) and the tracing cost (Portico with OpenTelemetry on
 * at full sampling against off, in the same run).
 *
 * API:
 *   workerCounts(cpus: number): number[]          // 1, 2, 4, ... up to cpus, and cpus itself
 *   summarizeRuns(runs: ScaleRun[]): ScaleSummary  // medians over a configuration's rounds
 *   scalingRows(summaries): ScalingRow[]           // speedup and efficiency against 1 worker
 *   printScaleReport(report: ScaleBenchResults): string
 */
import { median, ratioOrNaN } from './stats.ts';
import { fmtInt, fmtMB, fmtMs, fmtPercent, fmtRatio, formatTable } from './table.ts';

/** One measured run of one configuration (one round). */
export interface ScaleRun {
  requests: number;
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  socketErrors: number;
  /** CPU time of Portico (primary and workers) per request served, microseconds. */
  cpuUsPerRequest: number;
  peakRssBytes: number;
  /** Each worker's share of the workers' CPU time over the run (empty with one process). */
  workerCpuShares: number[];
}

export interface ScaleSummary {
  requestsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  peakRssBytes: number;
  non2xx: number;
  socketErrors: number;
  /** Smallest and largest worker CPU share seen in any round (NaN with one process). */
  minWorkerShare: number;
  maxWorkerShare: number;
}

export interface ScaleConfigResult {
  label: string;
  workers: number;
  tracing: boolean;
  runs: ScaleRun[];
  summary?: ScaleSummary;
  error?: string;
  /** Traced configuration only: spans the OTLP receiver decoded per request Portico answered. */
  spansPerRequest?: number;
}

export interface ScaleBenchResults {
  machine: { cpus: number; cpuModel: string; loadAverageBefore: number; loadAverageAfter: number; node: string };
  tool: string;
  settings: { durationS: number; warmupS: number; rounds: number; connections: number; threads: number; upstreamProcesses: number; redis: string };
  configs: ScaleConfigResult[];
}

export interface ScalingRow {
  workers: number;
  summary: ScaleSummary;
  /** Throughput over the single worker's. */
  speedup: number;
  /** speedup / workers: 1.0 is perfect scaling (the aim is at least 0.8 up to 8). */
  efficiency: number;
}

export function workerCounts(cpus: number): number[] {
  const counts: number[] = [];
  for (let n = 1; n <= cpus; n *= 2) counts.push(n);
  if (counts[counts.length - 1] !== cpus && cpus > 0) counts.push(cpus);
  return counts;
}

export function summarizeRuns(runs: readonly ScaleRun[]): ScaleSummary | undefined {
  if (runs.length === 0) return undefined;
  const shares = runs.flatMap((run) => run.workerCpuShares);
  return {
    requestsPerSec: median(runs.map((r) => r.requestsPerSec)),
    p50Ms: median(runs.map((r) => r.p50Ms)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest).filter(Number.isFinite)),
    peakRssBytes: Math.max(...runs.map((r) => (Number.isFinite(r.peakRssBytes) ? r.peakRssBytes : 0))) || Number.NaN,
    non2xx: runs.reduce((sum, r) => sum + r.non2xx, 0),
    socketErrors: runs.reduce((sum, r) => sum + r.socketErrors, 0),
    minWorkerShare: shares.length > 0 ? Math.min(...shares) : Number.NaN,
    maxWorkerShare: shares.length > 0 ? Math.max(...shares) : Number.NaN,
  };
}

export function scalingRows(configs: readonly ScaleConfigResult[]): ScalingRow[] {
  const plain = configs.filter((c) => !c.tracing && c.summary !== undefined);
  const single = plain.find((c) => c.workers === 1)?.summary;
  return plain.map((c) => {
    const speedup = ratioOrNaN(c.summary!.requestsPerSec, single?.requestsPerSec ?? Number.NaN);
    return { workers: c.workers, summary: c.summary!, speedup, efficiency: speedup / c.workers };
  });
}

function errorsCell(summary: ScaleSummary): string {
  return summary.non2xx || summary.socketErrors ? `${summary.non2xx} / ${summary.socketErrors}` : '0';
}

function shareCell(summary: ScaleSummary): string {
  return Number.isFinite(summary.minWorkerShare) ? `${fmtPercent(summary.minWorkerShare)}-${fmtPercent(summary.maxWorkerShare)}` : 'n/a';
}

export function printScaleReport(report: ScaleBenchResults): string {
  const { machine, settings } = report;
  const lines: string[] = [];
  lines.push(
    `Machine: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, load average ${machine.loadAverageBefore.toFixed(2)} before, ${machine.loadAverageAfter.toFixed(2)} after`,
    `Load: ${report.tool}; upstream: ${settings.upstreamProcesses} process(es); ${settings.rounds} interleaved round(s) x ${settings.durationS} s (+${settings.warmupS} s warmup); Redis: ${settings.redis}`,
    '',
    'Scaling (Portico --num_workers N, medians over the rounds; efficiency = speedup / N, the aim is >= 0.8 up to 8 workers on spare cores)',
  );
  const rows = scalingRows(report.configs);
  lines.push(
    formatTable(
      ['workers', 'req/s', 'speedup', 'efficiency', 'p50', 'p99', 'CPU/req', 'peak RSS', 'worker CPU share', 'non-2xx / socket err'],
      rows.map((row) => [
        String(row.workers),
        fmtInt(row.summary.requestsPerSec),
        fmtRatio(row.speedup),
        fmtPercent(row.efficiency),
        fmtMs(row.summary.p50Ms),
        fmtMs(row.summary.p99Ms),
        `${Math.round(row.summary.cpuUsPerRequest)} us`,
        fmtMB(row.summary.peakRssBytes),
        shareCell(row.summary),
        errorsCell(row.summary),
      ]),
    ),
  );
  for (const failed of report.configs.filter((c) => c.error && !c.tracing)) lines.push(`! ${failed.label}: ${failed.error}`);

  const traced = report.configs.find((c) => c.tracing);
  if (traced) {
    const off = report.configs.find((c) => !c.tracing && c.workers === traced.workers)?.summary;
    lines.push('', `Tracing cost (${traced.workers} worker, OTEL_TRACES_SAMPLER=always_on, OTLP/HTTP JSON to a local receiver; interleaved with the rows above)`);
    if (traced.summary && off) {
      const on = traced.summary;
      lines.push(
        formatTable(
          ['tracing', 'req/s', 'p50', 'p99', 'CPU/req', 'peak RSS', 'spans/request'],
          [
            ['off', fmtInt(off.requestsPerSec), fmtMs(off.p50Ms), fmtMs(off.p99Ms), `${Math.round(off.cpuUsPerRequest)} us`, fmtMB(off.peakRssBytes), '0'],
            ['on', fmtInt(on.requestsPerSec), fmtMs(on.p50Ms), fmtMs(on.p99Ms), `${Math.round(on.cpuUsPerRequest)} us`, fmtMB(on.peakRssBytes), traced.spansPerRequest === undefined ? 'n/a' : traced.spansPerRequest.toFixed(2)],
          ],
        ),
        `on/off: throughput ${fmtRatio(ratioOrNaN(on.requestsPerSec, off.requestsPerSec))}, CPU per request ${fmtRatio(ratioOrNaN(on.cpuUsPerRequest, off.cpuUsPerRequest))} (+${Math.round(on.cpuUsPerRequest - off.cpuUsPerRequest)} us)`,
      );
    } else lines.push(`! not measured: ${traced.error ?? 'the untraced single worker has no result'}`);
  }
  return lines.join('\n');
}
