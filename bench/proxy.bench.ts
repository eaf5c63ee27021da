/**
 * `npm run bench`: Portico against a bare Node proxy and Portkey's gateway, all in front of the
 * same minimal upstream on 127.0.0.1 (issue 5, "Benchmark suite").
 *
 * 1. throughput: closed-loop load (wrk, else autocannon) on each target in turn, interleaved over
 *    BENCH_ROUNDS rounds, median per target; peak RSS of the process under test;
 * 2. one request at a time: added latency without queueing (keep-alive undici client);
 * 3. streams: time to the first body byte, sequential and concurrent.
 * Prints aligned tables and writes bench/results/latest-proxy.json.
 *
 * Environment (defaults in parentheses):
 *   BENCH_DURATION_S (10)   seconds of measured load per target and round
 *   BENCH_WARMUP_S (2)      seconds of unmeasured load before each measured run
 *   BENCH_ROUNDS (3)        interleaved rounds (direct, bare, portico, portkey, repeated)
 *   BENCH_CONNECTIONS (32)  BENCH_THREADS (2)
 *   BENCH_SEQUENTIAL_REQUESTS (2000)  one-at-a-time requests per target
 *   BENCH_STREAM_REQUESTS (500)       sequential streamed requests per target
 *   BENCH_STREAM_CONCURRENT_REQUESTS (2000)  streamed requests per target at BENCH_CONNECTIONS
 *   BENCH_TARGETS (direct,bare,portico,portkey)  BENCH_TOOL (wrk if installed, else autocannon)
 *   BENCH_MAX_S             hard stop for the whole run (default: estimate + 120 s)
 *   BENCH_PORTICO_NODE_ARGS extra node flags for Portico, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
 */
import { loadavg } from 'node:os';
import { createBenchClient, type BenchClient } from './lib/client.ts';
import { describeLoadTool, detectLoadTool, runLoad, type LoadResult, type LoadTool } from './lib/load.ts';
import {
  installCleanupHandlers,
  isAborted,
  runBench,
} from './lib/processes.ts';
import {
  probeTarget,
  startTarget,
  startUpstream,
  TARGET_LABELS,
  TARGET_ORDER,
  type Target,
  type TargetName,
} from './lib/proxy-targets.ts';
import { printReport, type ProxyBenchResults, type TargetResults } from './lib/proxy-report.ts';
import { readCpuSeconds } from './lib/cpu.ts';
import { startRssSampler } from './lib/rss.ts';
import { machineInfo, writeResults } from './lib/run-record.ts';
import { median, summarizeLatencies } from './lib/stats.ts';

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

function envTargets(): TargetName[] {
  const raw = process.env.BENCH_TARGETS;
  if (!raw) return [...TARGET_ORDER];
  const names = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const name of names) {
    if (!(TARGET_ORDER as readonly string[]).includes(name)) {
      throw new Error(`BENCH_TARGETS: unknown target "${name}" (known: ${TARGET_ORDER.join(', ')})`);
    }
  }
  if (!names.includes('direct')) names.unshift('direct'); // added latency is measured against it
  return TARGET_ORDER.filter((name) => names.includes(name));
}

const settings = {
  durationS: envNumber('BENCH_DURATION_S', 10),
  warmupS: envNumber('BENCH_WARMUP_S', 2),
  rounds: Math.round(envNumber('BENCH_ROUNDS', 3)),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', 32)),
  threads: Math.round(envNumber('BENCH_THREADS', 2)),
  sequentialRequests: Math.round(envNumber('BENCH_SEQUENTIAL_REQUESTS', 2000)),
  streamRequests: Math.round(envNumber('BENCH_STREAM_REQUESTS', 500)),
  streamConcurrentRequests: Math.round(envNumber('BENCH_STREAM_CONCURRENT_REQUESTS', 2000)),
  targets: envTargets(),
};

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function estimateSeconds(): number {
  const load = settings.rounds * settings.targets.length * (settings.durationS + settings.warmupS + 0.5);
  return Math.ceil(load + 20 + settings.targets.length * 10);
}

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  // Other work on the machine skews every figure; the report shows how busy it was.
  const loadAverageBefore = loadavg()[0];
  installCleanupHandlers();
  const tool = await detectLoadTool(process.env.BENCH_TOOL || undefined);
  const estimate = estimateSeconds();
  const maxS = envNumber('BENCH_MAX_S', estimate + 120);
  const watchdog = setTimeout(() => {
    log(`\nBENCH_MAX_S=${maxS} s exceeded: stopping everything.`);
    process.kill(process.pid, 'SIGTERM');
  }, maxS * 1000);
  watchdog.unref();
  log(`Load tool: ${describeLoadTool(tool, settings)}`);
  log(`Targets: ${settings.targets.join(', ')}; ${settings.rounds} rounds x ${settings.durationS} s (+${settings.warmupS} s warmup); about ${estimate} s.`);

  const upstream = await startUpstream();
  const targets: Target[] = [];
  const results = new Map<TargetName, TargetResults>();
  for (const name of settings.targets) {
    const entry: TargetResults = { name, label: TARGET_LABELS[name], rounds: [] };
    results.set(name, entry);
    try {
      const target = await startTarget(name, upstream);
      const probe = await probeTarget(target);
      entry.detail = target.detail;
      if (probe.plainError) throw new Error(`plain chat completion failed: ${probe.plainError}`);
      if (probe.streamError) {
        entry.streamError = probe.streamError + knownCause(target);
        log(`! ${TARGET_LABELS[name]}: streamed chat completion failed, streams not measured: ${probe.streamError}`);
      }
      targets.push(target);
      log(`started ${TARGET_LABELS[name]} (pid ${target.pid}, ${target.detail})`);
    } catch (error) {
      entry.error = (error as Error).message;
      log(`! ${TARGET_LABELS[name]} unavailable: ${entry.error}`);
    }
  }
  if (!targets.some((t) => t.name === 'direct')) throw new Error('the upstream did not answer; cannot measure');

  await throughputRounds(tool, targets, results);
  await sequentialRuns(targets, results);
  await streamRuns(targets, results);
  if (isAborted()) throw new Error('aborted; no report written');

  const report: ProxyBenchResults = {
    startedAt,
    machine: machineInfo(loadAverageBefore),
    tool: { name: tool.name, version: tool.version, description: describeLoadTool(tool, settings) },
    settings,
    targets: settings.targets.map((name) => results.get(name)!),
  };
  printReport(report);
  log(`\nWrote ${writeResults('proxy', report)}`);
  return report.targets.some((t) => t.error) ? 1 : 0;
}

async function throughputRounds(tool: LoadTool, targets: Target[], results: Map<TargetName, TargetResults>): Promise<void> {
  const load = (target: Target, durationS: number): Promise<LoadResult> =>
    runLoad(tool, {
      url: `${target.plain.origin}${target.plain.path}`,
      request: target.plain.request,
      connections: settings.connections,
      threads: settings.threads,
      durationS,
    });
  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const target of targets) {
      if (isAborted()) return;
      const entry = results.get(target.name)!;
      try {
        await load(target, settings.warmupS);
        const sampler = startRssSampler(target.pid);
        const cpuBefore = readCpuSeconds(target.pid);
        const run = await load(target, settings.durationS);
        const cpuAfter = readCpuSeconds(target.pid);
        const rss = sampler.stop();
        assertAlive(target);
        const cpuUsPerRequest = cpuBefore === undefined || cpuAfter === undefined || run.requests === 0 ? Number.NaN : ((cpuAfter - cpuBefore) * 1e6) / run.requests;
        entry.rounds.push({ ...run, peakRssBytes: rss.peakBytes, cpuUsPerRequest });
        log(
          `round ${round}/${settings.rounds} ${TARGET_LABELS[target.name].padEnd(16)} ` +
            `${Math.round(run.requestsPerSec).toString().padStart(6)} req/s  p50 ${run.p50Ms.toFixed(2)} ms  ` +
            `p99 ${run.p99Ms.toFixed(2)} ms  rss ${(rss.peakBytes / 1048576).toFixed(0)} MB  cpu ${cpuUsPerRequest.toFixed(0)} us/req` +
            (run.non2xx || run.socketErrors ? `  non-2xx ${run.non2xx} socket errors ${run.socketErrors}` : ''),
        );
      } catch (error) {
        if (isAborted()) return;
        entry.loadError ??= (error as Error).message;
        log(`! ${TARGET_LABELS[target.name]} load run failed: ${entry.loadError}`);
      }
    }
  }
  for (const target of targets) {
    const entry = results.get(target.name)!;
    const rounds = entry.rounds;
    if (rounds.length === 0) continue;
    entry.throughput = {
      requestsPerSec: median(rounds.map((r) => r.requestsPerSec)),
      p50Ms: median(rounds.map((r) => r.p50Ms)),
      p99Ms: median(rounds.map((r) => r.p99Ms)),
      peakRssBytes: Math.max(...rounds.map((r) => (Number.isFinite(r.peakRssBytes) ? r.peakRssBytes : 0))) || Number.NaN,
      cpuUsPerRequest: median(rounds.map((r) => r.cpuUsPerRequest).filter(Number.isFinite)),
      non2xx: rounds.reduce((sum, r) => sum + r.non2xx, 0),
      socketErrors: rounds.reduce((sum, r) => sum + r.socketErrors, 0),
    };
  }
}

/** Names a peer's known bug when its log shows the signature, so the report explains the gap. */
function knownCause(target: Target): string {
  if (target.name === 'portkey' && target.proc.logTail().includes('TypeError: immutable')) {
    return (
      " (Portkey logged 'TypeError: immutable': its streaming path appends headers to a Response that" +
      " @hono/node-server built on the upstream fetch's immutable Headers; known upstream bug," +
      ' https://github.com/Portkey-AI/gateway/issues/1389 and /issues/1550)'
    );
  }
  return '';
}

/** A target that died under load must not be reported as merely slow or erroring. */
function assertAlive(target: Target): void {
  if (!target.proc.hasExited()) return;
  const tail = target.proc.logTail();
  throw new Error(
    `${target.proc.name} (pid ${target.pid}) exited during the run` + (tail ? `; last output:\n${tail}` : ''),
  );
}

/**
 * Runs `perTarget` requests per target in `settings.rounds` interleaved blocks, so that drift
 * (CPU frequency, GC of the client) spreads evenly over the targets.
 */
async function interleavedBlocks(
  targets: Target[],
  clients: Map<TargetName, BenchClient>,
  perTarget: number,
  concurrency: number,
  until: 'complete' | 'first-byte',
): Promise<Map<TargetName, { latenciesMs: number[]; errors: number; firstError?: string; wallMs: number }>> {
  const collected = new Map<TargetName, { latenciesMs: number[]; errors: number; firstError?: string; wallMs: number }>();
  for (const target of targets) collected.set(target.name, { latenciesMs: [], errors: 0, wallMs: 0 });
  // Warm every connection and JIT path first; not recorded.
  for (const target of targets) {
    await clients.get(target.name)!.timeRequests({ count: Math.max(50, concurrency * 4), concurrency, until });
  }
  const blocks = Math.max(1, settings.rounds);
  for (let block = 0; block < blocks; block += 1) {
    for (const target of targets) {
      if (isAborted()) return collected;
      const count = Math.ceil(perTarget / blocks);
      const run = await clients.get(target.name)!.timeRequests({ count, concurrency, until });
      const into = collected.get(target.name)!;
      for (const latency of run.latenciesMs) into.latenciesMs.push(latency);
      into.errors += run.errors;
      into.firstError ??= run.firstError;
      into.wallMs += run.wallMs;
    }
  }
  return collected;
}

async function sequentialRuns(targets: Target[], results: Map<TargetName, TargetResults>): Promise<void> {
  if (isAborted()) return;
  log(`one request at a time: ${settings.sequentialRequests} per target...`);
  const clients = new Map(targets.map((t) => [t.name, createBenchClient(t.plain, 1)] as const));
  try {
    const runs = await interleavedBlocks(targets, clients, settings.sequentialRequests, 1, 'complete');
    for (const [name, run] of runs) {
      results.get(name)!.sequential = { ...summarizeLatencies(run.latenciesMs), errors: run.errors, firstError: run.firstError };
    }
  } finally {
    await Promise.all([...clients.values()].map((c) => c.close()));
  }
}

async function streamRuns(targets: Target[], results: Map<TargetName, TargetResults>): Promise<void> {
  const streaming = targets.filter((t) => !results.get(t.name)!.streamError);
  if (isAborted() || streaming.length === 0) return;
  log(`streams: ${settings.streamRequests} sequential and ${settings.streamConcurrentRequests} at ${settings.connections} concurrent per target...`);
  const single = new Map(streaming.map((t) => [t.name, createBenchClient(t.stream, 1)] as const));
  const pooled = new Map(streaming.map((t) => [t.name, createBenchClient(t.stream, settings.connections)] as const));
  try {
    const sequential = await interleavedBlocks(streaming, single, settings.streamRequests, 1, 'first-byte');
    const concurrent = await interleavedBlocks(
      streaming,
      pooled,
      settings.streamConcurrentRequests,
      settings.connections,
      'first-byte',
    );
    for (const target of streaming) {
      const seq = sequential.get(target.name)!;
      const conc = concurrent.get(target.name)!;
      results.get(target.name)!.stream = {
        sequential: { ...summarizeLatencies(seq.latenciesMs), errors: seq.errors, firstError: seq.firstError },
        concurrent: {
          ...summarizeLatencies(conc.latenciesMs),
          errors: conc.errors,
          firstError: conc.firstError,
          streamsPerSec: conc.wallMs > 0 ? (conc.latenciesMs.length / conc.wallMs) * 1000 : Number.NaN,
        },
      };
    }
  } finally {
    await Promise.all([...single.values(), ...pooled.values()].map((c) => c.close()));
  }
}

await runBench('bench', main);
