/**
 * `npm run bench:scale`: Portico's throughput at 1, 2, 4, ... workers (`--num_workers N`) up to
 * the machine's CPUs, and the cost of OpenTelemetry tracing at full sampling, measured side by
 * side in one run (issue 14).
 *
 * Every configuration runs in its own Portico, started fresh for each of BENCH_ROUNDS interleaved
 * rounds (1 worker, 2 workers, ..., traced; then again), all in front of one upstream that runs
 * several processes (so that it is not what limits several workers) and measured with the same
 * closed-loop load (wrk with several threads, else autocannon with worker threads). Portico runs
 * as `bin/portico.js` with SQLite and Redis (more than one worker needs Redis: rate limits and
 * cooldowns are shared through it; every row gets it, so the rows differ only in N).
 *
 * Environment (defaults in parentheses; C = the machine's CPUs):
 *   BENCH_WORKERS (1,2,4,... up to C)      worker counts to measure
 *   BENCH_DURATION_S (10)  BENCH_WARMUP_S (3)  BENCH_ROUNDS (2)
 *   BENCH_CONNECTIONS (max(32, 16 x the largest N))  BENCH_THREADS (max(2, C/4))
 *   BENCH_UPSTREAM_PROCESSES (max(1, C/4))  processes of the upstream
 *   BENCH_TRACING (1)       0: skip the traced configuration
 *   BENCH_REDIS_URL         Redis to use; else a redis-server on PATH is started on a free port
 *   BENCH_TOOL (wrk if installed, else autocannon)  BENCH_MAX_S (estimate + 120)
 * Prints the tables and writes bench/results/latest-scale.json.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { readCpuSeconds } from './lib/cpu.ts';
import { describeLoadTool, detectLoadTool, runLoad, type LoadTool } from './lib/load.ts';
import {
  getFreePort,
  installCleanupHandlers,
  isAborted,
  makeTempDir,
  nodeBinary,
  porticoLaunch,
  repoRoot,
  runBench,
  startProcess,
  stopProcess,
  type ManagedProcess,
} from './lib/processes.ts';
import { PORTICO_MASTER_KEY, probeTarget, UPSTREAM_API_KEY, type Target } from './lib/proxy-targets.ts';
import { childPids, startRssSampler } from './lib/rss.ts';
import { machineInfo, writeResults } from './lib/run-record.ts';
import { printScaleReport, summarizeRuns, workerCounts, type ScaleBenchResults, type ScaleConfigResult, type ScaleRun } from './lib/scale-report.ts';

const log = (line: string): void => void process.stderr.write(`${line}\n`);

function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, not "${raw}"`);
  return value;
}

const machineCpus = cpus().length;
const workerList = process.env.BENCH_WORKERS
  ? process.env.BENCH_WORKERS.split(',').map((part) => {
      const n = Number(part.trim());
      if (!Number.isInteger(n) || n < 1) throw new Error(`BENCH_WORKERS: "${part}" is not a worker count`);
      return n;
    })
  : workerCounts(machineCpus);
if (!workerList.includes(1)) workerList.unshift(1); // speedups are measured against one worker

const settings = {
  durationS: envNumber('BENCH_DURATION_S', 10),
  warmupS: envNumber('BENCH_WARMUP_S', 3),
  rounds: Math.max(1, Math.round(envNumber('BENCH_ROUNDS', 2))),
  connections: Math.round(envNumber('BENCH_CONNECTIONS', Math.max(32, 16 * Math.max(...workerList)))),
  threads: Math.round(envNumber('BENCH_THREADS', Math.max(2, Math.floor(machineCpus / 4)))),
  upstreamProcesses: Math.round(envNumber('BENCH_UPSTREAM_PROCESSES', Math.max(1, Math.floor(machineCpus / 4)))),
  tracing: process.env.BENCH_TRACING !== '0',
};

const MODEL = 'bench-model';
const messages = [
  { role: 'system', content: 'You are a terse benchmark assistant.' },
  { role: 'user', content: 'Say hello.' },
];

async function startUpstream(): Promise<{ proc: ManagedProcess; origin: string }> {
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'upstream',
    command: nodeBinary(),
    args: [join(repoRoot, 'bench', 'lib', 'upstream-server.ts'), '--port', String(port), '--api-key', UPSTREAM_API_KEY, '--processes', String(settings.upstreamProcesses)],
    ready: { url: `${origin}/health` },
  });
  return { proc, origin };
}

async function startOtlpSink(): Promise<{ proc: ManagedProcess; origin: string }> {
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'otlp receiver',
    command: nodeBinary(),
    args: [join(repoRoot, 'bench', 'lib', 'otlp-sink-server.ts'), '--port', String(port)],
    ready: { url: `${origin}/health` },
  });
  return { proc, origin };
}

async function spanCount(sinkOrigin: string): Promise<number> {
  const response = await fetch(`${sinkOrigin}/counts`);
  return ((await response.json()) as { spans: number }).spans;
}

/** BENCH_REDIS_URL, else a throwaway redis-server (no persistence) on a free port. */
async function resolveRedis(): Promise<{ url: string; description: string }> {
  if (process.env.BENCH_REDIS_URL) return { url: process.env.BENCH_REDIS_URL, description: 'BENCH_REDIS_URL' };
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('more than one worker needs Redis: set BENCH_REDIS_URL or install redis-server (apt-get install -y redis-server)');
  }
  const port = await getFreePort();
  const proc = await startProcess({
    name: 'redis',
    command: 'redis-server',
    args: ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    stdinPipe: false,
  });
  // redis-server has no HTTP: wait for its "Ready to accept connections" line.
  const deadline = Date.now() + 10_000;
  while (!/ready to accept connections/i.test(proc.logTail())) {
    if (proc.hasExited() || Date.now() > deadline) throw new Error(`redis-server did not start:\n${proc.logTail()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url: `redis://127.0.0.1:${port}`, description: `redis-server on port ${port}, started by the bench` };
}

interface PorticoUnderTest {
  proc: ManagedProcess;
  target: Target;
}

async function startPortico(workers: number, upstreamOrigin: string, redisUrl: string, otlpOrigin: string | undefined): Promise<PorticoUnderTest> {
  const cli = join(repoRoot, 'bin', 'portico.js');
  const dir = makeTempDir('portico-scale-');
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    [
      'model_list:',
      `  - model_name: ${MODEL}`,
      '    litellm_params:',
      `      model: openai/${MODEL}`,
      `      api_base: ${upstreamOrigin}/v1`,
      `      api_key: ${UPSTREAM_API_KEY}`,
      'general_settings:',
      `  master_key: ${PORTICO_MASTER_KEY}`,
      '',
    ].join('\n'),
  );
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const launch = porticoLaunch(cli);
  const tracingEnv = otlpOrigin === undefined ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: otlpOrigin, OTEL_TRACES_SAMPLER: 'always_on', OTEL_SERVICE_NAME: 'portico-bench' };
  const proc = await startProcess({
    name: `portico (${workers} worker${workers === 1 ? '' : 's'}${otlpOrigin ? ', traced' : ''})`,
    command: nodeBinary(),
    args: [...launch.nodeArgs, cli, '--config', configPath, '--port', String(port), ...(workers > 1 ? ['--num_workers', String(workers)] : [])],
    // Logging on, as deployed (one line per request), to a file the bench does not drain.
    env: { ...launch.env, DATABASE_URL: `file:${join(dir, 'bench.db')}`, REDIS_URL: redisUrl, LOG_LEVEL: 'info', ...tracingEnv },
    outputFile: join(dir, 'portico.log'),
    stdinPipe: false,
    ready: { url: `${origin}/health/liveliness`, timeoutMs: 60_000 },
  });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${PORTICO_MASTER_KEY}` };
  const target: Target = {
    name: 'portico',
    pid: proc.pid,
    proc,
    detail: `${workers} workers`,
    plain: { origin, path: '/v1/chat/completions', request: { method: 'POST', headers, body: JSON.stringify({ model: MODEL, messages }) } },
    stream: { origin, path: '/v1/chat/completions', request: { method: 'POST', headers, body: JSON.stringify({ model: MODEL, messages, stream: true }) } },
  };
  return { proc, target };
}

/** CPU seconds of each direct child (a worker with what it started), by pid. */
function workerCpuSeconds(primaryPid: number): Map<number, number> {
  const seconds = new Map<number, number>();
  for (const pid of childPids(primaryPid)) {
    const value = readCpuSeconds(pid);
    if (value !== undefined) seconds.set(pid, value);
  }
  return seconds;
}

async function measure(tool: LoadTool, config: ScaleConfigResult, upstreamOrigin: string, redisUrl: string, sinkOrigin: string | undefined): Promise<{ run: ScaleRun; requestsSent: number }> {
  const { proc, target } = await startPortico(config.workers, upstreamOrigin, redisUrl, config.tracing ? sinkOrigin : undefined);
  try {
    const probe = await probeTarget(target);
    if (probe.plainError) throw new Error(`plain chat completion failed: ${probe.plainError}`);
    const load = (durationS: number) =>
      runLoad(tool, { url: `${target.plain.origin}${target.plain.path}`, request: target.plain.request, connections: settings.connections, threads: settings.threads, durationS });
    const warmup = await load(settings.warmupS);
    const sampler = startRssSampler(proc.pid);
    const cpuBefore = readCpuSeconds(proc.pid);
    const workersBefore = workerCpuSeconds(proc.pid);
    const result = await load(settings.durationS);
    const cpuAfter = readCpuSeconds(proc.pid);
    const workersAfter = workerCpuSeconds(proc.pid);
    const rss = sampler.stop();
    if (proc.hasExited()) throw new Error(`Portico exited during the run:\n${proc.logTail()}`);
    const deltas = config.workers > 1 ? [...workersAfter].map(([pid, after]) => after - (workersBefore.get(pid) ?? after)) : [];
    const deltaTotal = deltas.reduce((sum, d) => sum + d, 0);
    const run: ScaleRun = {
      requests: result.requests,
      requestsPerSec: result.requestsPerSec,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      non2xx: result.non2xx,
      socketErrors: result.socketErrors,
      cpuUsPerRequest: cpuBefore === undefined || cpuAfter === undefined || result.requests === 0 ? Number.NaN : ((cpuAfter - cpuBefore) * 1e6) / result.requests,
      peakRssBytes: rss.peakBytes,
      workerCpuShares: deltaTotal > 0 ? deltas.map((d) => d / deltaTotal) : [],
    };
    // The probe's two requests (plain and streamed), the warmup and the measured run.
    return { run, requestsSent: 2 + warmup.requests + result.requests };
  } finally {
    // A traced Portico flushes its last spans on SIGTERM (graceful shutdown).
    await stopProcess(proc, 30_000);
  }
}

async function main(): Promise<number> {
  const loadAverageBefore = loadavg()[0];
  installCleanupHandlers();
  const tool = await detectLoadTool(process.env.BENCH_TOOL || undefined);
  const configs: ScaleConfigResult[] = workerList.map((workers) => ({ label: `${workers} worker${workers === 1 ? '' : 's'}`, workers, tracing: false, runs: [] }));
  if (settings.tracing) configs.push({ label: '1 worker, traced', workers: 1, tracing: true, runs: [] });
  const estimate = settings.rounds * configs.length * (settings.durationS + settings.warmupS + 6) + 20;
  const maxS = envNumber('BENCH_MAX_S', estimate + 120);
  setTimeout(() => {
    log(`\nBENCH_MAX_S=${maxS} s exceeded: stopping everything.`);
    process.kill(process.pid, 'SIGTERM');
  }, maxS * 1000).unref();
  log(`Load tool: ${describeLoadTool(tool, settings)}`);
  log(`Configurations: ${configs.map((c) => c.label).join('; ')}; ${settings.rounds} rounds x ${settings.durationS} s (+${settings.warmupS} s warmup); about ${estimate} s.`);

  const upstream = await startUpstream();
  const redis = await resolveRedis();
  const sink = settings.tracing ? await startOtlpSink() : undefined;
  log(`upstream: ${settings.upstreamProcesses} process(es) at ${upstream.origin}; Redis: ${redis.description}${sink ? `; OTLP receiver at ${sink.origin}` : ''}`);

  let tracedRequests = 0;
  let tracedSpans = 0;
  for (let round = 1; round <= settings.rounds; round += 1) {
    for (const config of configs) {
      if (isAborted()) throw new Error('aborted; no report written');
      if (config.error) continue;
      try {
        const spansBefore = config.tracing && sink ? await spanCount(sink.origin) : 0;
        const { run, requestsSent } = await measure(tool, config, upstream.origin, redis.url, sink?.origin);
        if (config.tracing && sink) {
          tracedRequests += requestsSent;
          tracedSpans += (await spanCount(sink.origin)) - spansBefore;
        }
        config.runs.push(run);
        log(
          `round ${round}/${settings.rounds} ${config.label.padEnd(17)} ${Math.round(run.requestsPerSec).toString().padStart(7)} req/s  ` +
            `p50 ${run.p50Ms.toFixed(2)} ms  p99 ${run.p99Ms.toFixed(2)} ms  cpu ${run.cpuUsPerRequest.toFixed(0)} us/req` +
            (run.workerCpuShares.length > 0 ? `  worker CPU shares ${run.workerCpuShares.map((s) => `${Math.round(s * 100)}%`).join(' ')}` : '') +
            (run.non2xx || run.socketErrors ? `  non-2xx ${run.non2xx} socket errors ${run.socketErrors}` : ''),
        );
      } catch (error) {
        if (isAborted()) throw error;
        config.error = (error as Error).message;
        log(`! ${config.label}: ${config.error}`);
      }
    }
  }
  for (const config of configs) {
    config.summary = summarizeRuns(config.runs);
    if (config.tracing && tracedRequests > 0) config.spansPerRequest = tracedSpans / tracedRequests;
  }
  const machine = machineInfo(loadAverageBefore);
  const report: ScaleBenchResults = {
    machine,
    tool: describeLoadTool(tool, settings),
    settings: { ...settings, redis: redis.description },
    configs,
  };
  process.stdout.write(`\n${printScaleReport(report)}\n`);
  log(`\nWrote ${writeResults('scale', report)}`);
  return configs.some((c) => c.error) ? 1 : 0;
}

await runBench('bench:scale', main);
