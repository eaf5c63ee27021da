/**
 * Result types of the proxy benchmark, the comparisons derived from them (added latency versus
 * the direct upstream, throughput ratios, issue 5's aims) and the printed tables. Pure.
 *
 * API:
 *   deriveComparisons(targets: TargetResults[]): Comparisons
 *   formatReport(results: ProxyBenchResults): string     // the aligned text tables
 *   printReport(results: ProxyBenchResults): void        // fills results.comparisons, prints formatReport to stdout
 */
import type { MachineInfo } from './run-record.ts';
import type { LoadResult } from './wrk.ts';
import type { TargetName } from './proxy-targets.ts';
import { ratioOrNaN, subtractOrNaN, type LatencySummary } from './stats.ts';
import { fmtDeltaMs, fmtInt, fmtMB, fmtMs, fmtPercent, fmtRatio, formatTable } from './table.ts';

/** `cpuUsPerRequest`: CPU time of the target's process tree during the measured run / requests. */
export type RoundResult = LoadResult & { peakRssBytes: number; cpuUsPerRequest: number };
export type LatencyStats = LatencySummary & { errors: number; firstError?: string };

export type TargetResults = {
  name: TargetName;
  label: string;
  detail?: string;
  /** Set when the target could not be started or answered wrongly: nothing measured. */
  error?: string;
  loadError?: string;
  streamError?: string;
  rounds: RoundResult[];
  throughput?: {
    requestsPerSec: number;
    p50Ms: number;
    p99Ms: number;
    peakRssBytes: number;
    /** Median over the rounds. */
    cpuUsPerRequest: number;
    non2xx: number;
    socketErrors: number;
  };
  sequential?: LatencyStats;
  stream?: { sequential: LatencyStats; concurrent: LatencyStats & { streamsPerSec: number } };
};

export type Aim = { aim: string; measured: string; met: boolean | undefined };

export type Comparisons = {
  porticoOverPortkeyThroughput: number;
  porticoOverBareThroughput: number;
  /** CPU time per request, Portico / bare proxy (1 = as cheap as the floor). */
  porticoOverBareCpuPerRequest: number;
  aims: Aim[];
};

export type ProxyBenchResults = {
  startedAt: string;
  machine: MachineInfo;
  tool: { name: string; version: string; description: string };
  settings: {
    durationS: number;
    warmupS: number;
    rounds: number;
    connections: number;
    threads: number;
    sequentialRequests: number;
    streamRequests: number;
    streamConcurrentRequests: number;
    targets: TargetName[];
  };
  targets: TargetResults[];
  comparisons?: Comparisons;
};

const MB = 1024 * 1024;

function find(targets: readonly TargetResults[], name: TargetName): TargetResults | undefined {
  return targets.find((t) => t.name === name);
}

function aimOf(aim: string, measured: number, format: (n: number) => string, met: (n: number) => boolean): Aim {
  return Number.isFinite(measured)
    ? { aim, measured: format(measured), met: met(measured) }
    : { aim, measured: 'n/a', met: undefined };
}

export function deriveComparisons(targets: readonly TargetResults[]): Comparisons {
  const direct = find(targets, 'direct');
  const portico = find(targets, 'portico');
  const rps = (t: TargetResults | undefined): number => t?.throughput?.requestsPerSec ?? Number.NaN;
  const overPortkey = ratioOrNaN(rps(portico), rps(find(targets, 'portkey')));
  const overBare = ratioOrNaN(rps(portico), rps(find(targets, 'bare')));
  const addedSeqP99 = subtractOrNaN(portico?.sequential?.p99Ms ?? NaN, direct?.sequential?.p99Ms ?? NaN);
  const addedFirstChunkP50 = subtractOrNaN(
    portico?.stream?.sequential.p50Ms ?? NaN,
    direct?.stream?.sequential.p50Ms ?? NaN,
  );
  const rss = portico?.throughput?.peakRssBytes ?? Number.NaN;
  const ledgerShare = ratioOrNaN(rps(portico), rps(find(targets, 'portico-no-spend-logs')));
  return {
    porticoOverPortkeyThroughput: overPortkey,
    porticoOverBareThroughput: overBare,
    porticoOverBareCpuPerRequest: ratioOrNaN(portico?.throughput?.cpuUsPerRequest ?? NaN, find(targets, 'bare')?.throughput?.cpuUsPerRequest ?? NaN),
    aims: [
      aimOf('Portico throughput >= 5x Portkey', overPortkey, fmtRatio, (n) => n >= 5),
      aimOf('Portico throughput >= 80% of the bare proxy', overBare, fmtPercent, (n) => n >= 0.8),
      aimOf('added latency at concurrency 1, p99 < 1 ms', addedSeqP99, fmtDeltaMs, (n) => n < 1),
      aimOf('streaming adds < 1 ms to the first chunk (p50, sequential)', addedFirstChunkP50, fmtDeltaMs, (n) => n < 1),
      aimOf('Portico RSS under load < 150 MB', rss, fmtMB, (n) => n < 150 * MB),
      aimOf('spend ledger on keeps >= 95% of the throughput with it off', ledgerShare, fmtPercent, (n) => n >= 0.95),
    ],
  };
}

function throughputTable(targets: readonly TargetResults[]): string {
  const direct = find(targets, 'direct')?.throughput;
  const rows = targets.map((t) => {
    const r = t.throughput;
    if (!r) return [t.label, t.error || t.loadError ? 'unavailable' : 'n/a'];
    const errors = r.non2xx + r.socketErrors;
    return [
      t.label,
      fmtInt(r.requestsPerSec),
      fmtMs(r.p50Ms),
      fmtMs(r.p99Ms),
      t.name === 'direct' ? '-' : fmtDeltaMs(subtractOrNaN(r.p50Ms, direct?.p50Ms ?? NaN)),
      t.name === 'direct' ? '-' : fmtDeltaMs(subtractOrNaN(r.p99Ms, direct?.p99Ms ?? NaN)),
      fmtMB(r.peakRssBytes),
      Number.isFinite(r.cpuUsPerRequest) ? `${r.cpuUsPerRequest.toFixed(0)} us` : 'n/a',
      errors === 0 ? '0' : fmtInt(errors),
    ];
  });
  return formatTable(['target', 'req/s', 'p50', 'p99', 'added p50', 'added p99', 'peak RSS', 'CPU/request', 'errors'], rows);
}

function latencyRows(
  targets: readonly TargetResults[],
  pick: (t: TargetResults) => LatencyStats | undefined,
): (string | undefined)[][] {
  const direct = pick(find(targets, 'direct') ?? ({} as TargetResults));
  return targets.map((t) => {
    const s = pick(t);
    if (!s) return [t.label, t.error ? 'unavailable' : 'n/a'];
    return [
      t.label,
      fmtMs(s.p50Ms),
      fmtMs(s.p99Ms),
      t.name === 'direct' ? '-' : fmtDeltaMs(subtractOrNaN(s.p50Ms, direct?.p50Ms ?? NaN)),
      t.name === 'direct' ? '-' : fmtDeltaMs(subtractOrNaN(s.p99Ms, direct?.p99Ms ?? NaN)),
      fmtMs(s.meanMs),
      String(s.errors),
    ];
  });
}

function streamTable(targets: readonly TargetResults[]): string {
  const direct = find(targets, 'direct')?.stream;
  const rows = targets.map((t) => {
    const s = t.stream;
    if (!s) return [t.label, t.error ? 'unavailable' : t.streamError ? 'stream failed' : 'n/a'];
    const isDirect = t.name === 'direct';
    return [
      t.label,
      fmtMs(s.sequential.p50Ms),
      fmtMs(s.sequential.p99Ms),
      isDirect ? '-' : fmtDeltaMs(subtractOrNaN(s.sequential.p50Ms, direct?.sequential.p50Ms ?? NaN)),
      isDirect ? '-' : fmtDeltaMs(subtractOrNaN(s.sequential.p99Ms, direct?.sequential.p99Ms ?? NaN)),
      fmtMs(s.concurrent.p50Ms),
      fmtMs(s.concurrent.p99Ms),
      fmtInt(s.concurrent.streamsPerSec),
      String(s.sequential.errors + s.concurrent.errors),
    ];
  });
  return formatTable(
    ['target', 'seq p50', 'seq p99', 'added p50', 'added p99', 'conc p50', 'conc p99', 'streams/s', 'errors'],
    rows,
  );
}

export function formatReport(results: ProxyBenchResults): string {
  const { settings, targets } = results;
  const comparisons = results.comparisons ?? deriveComparisons(targets);
  const out: string[] = [];
  out.push(
    `Portico proxy benchmark - ${results.startedAt}`,
    `machine: ${results.machine.cpus} CPUs (${results.machine.cpuModel}), Node ${results.machine.node}, ` +
      `load average ${results.machine.loadAverageBefore.toFixed(2)} before / ` +
      `${results.machine.loadAverageAfter.toFixed(2)} after the run`,
    `load tool: ${results.tool.description}`,
    '',
    `Non-streamed chat completions: ${settings.connections} connections, ${settings.durationS} s per run ` +
      `(+${settings.warmupS} s warmup), median of ${settings.rounds} interleaved rounds; ` +
      'added = versus direct upstream; peak RSS and CPU time per request of the process under test',
    throughputTable(targets),
    '',
    `One request at a time: ${settings.sequentialRequests} sequential requests per target, keep-alive undici client`,
    formatTable(
      ['target', 'p50', 'p99', 'added p50', 'added p99', 'mean', 'errors'],
      latencyRows(targets, (t) => t.sequential),
    ),
    '',
    `Streamed chat completions, time to first body byte: ${settings.streamRequests} sequential, ` +
      `${settings.streamConcurrentRequests} at ${settings.connections} concurrent per target`,
    streamTable(targets),
    '',
    'Throughput ratios',
    formatTable(
      ['ratio', 'value'],
      [
        ['Portico / Portkey', fmtRatio(comparisons.porticoOverPortkeyThroughput)],
        ['Portico / bare proxy', fmtPercent(comparisons.porticoOverBareThroughput)],
        ['CPU per request, Portico / bare proxy', fmtPercent(comparisons.porticoOverBareCpuPerRequest)],
      ],
    ),
    '',
    "Issue 5's aims (informational)",
    formatTable(
      ['aim', 'measured', 'met'],
      comparisons.aims.map((a) => [a.aim, a.measured, a.met === undefined ? 'n/a' : a.met ? 'yes' : 'NO']),
    ),
  );
  const problems = targets.flatMap((t) =>
    [
      t.error && `${t.label}: unavailable - ${t.error}`,
      t.loadError && `${t.label}: load run failed - ${t.loadError}`,
      t.streamError && `${t.label}: streamed request failed - ${t.streamError}`,
      t.sequential?.firstError && `${t.label}: sequential errors, first: ${t.sequential.firstError}`,
    ].filter((line): line is string => Boolean(line)),
  );
  if (problems.length > 0) out.push('', 'Problems', ...problems.map((p) => `- ${p}`));
  const details = targets.filter((t) => t.detail).map((t) => `- ${t.label}: ${t.detail}`);
  if (details.length > 0) out.push('', 'Targets', ...details);
  return out.join('\n');
}

export function printReport(results: ProxyBenchResults): void {
  results.comparisons = deriveComparisons(results.targets);
  process.stdout.write(`\n${formatReport(results)}\n`);
}
