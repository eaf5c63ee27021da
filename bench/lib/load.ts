/**
 * Closed-loop HTTP load (N connections, each sending its next request as soon as the previous
 * answer arrived) with wrk when it is installed, else autocannon (a devDependency).
 *
 * API:
 *   detectLoadTool(preference?: string): Promise<LoadTool>
 *       preference "wrk" | "autocannon" | undefined (= wrk if `wrk -v` runs, else autocannon);
 *       asking for wrk when it is missing throws
 *   describeLoadTool(tool: LoadTool, spec: Pick<LoadSpec, 'connections' | 'threads'>): string
 *   runLoad(tool: LoadTool, spec: LoadSpec): Promise<LoadResult>
 *       spec = { url, request: { method, headers, body? }, connections, threads, durationS }
 *       wrk runs as a child process (killed on abort); autocannon runs in this process with
 *       `threads` worker threads. Percentiles: wrk has microsecond resolution, autocannon
 *       whole milliseconds (its histogram records integers) - prefer wrk for latency figures.
 *
 * LoadResult is defined in ./wrk.ts.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, onAbort } from './processes.ts';
import { parseWrkOutput, wrkLuaScript, type HttpRequestSpec, type LoadResult } from './wrk.ts';

export type { HttpRequestSpec, LoadResult } from './wrk.ts';

export type LoadTool = { name: 'wrk' | 'autocannon'; version: string; reason: string };

export type LoadSpec = {
  url: string;
  request: HttpRequestSpec;
  connections: number;
  threads: number;
  durationS: number;
};

function wrkVersion(): string | undefined {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
  if (probe.error) return undefined;
  const text = `${probe.stdout ?? ''}${probe.stderr ?? ''}`;
  const match = /wrk\s+(?:debian\/)?([\w.\-+]+)/.exec(text);
  return match ? match[1] : 'unknown';
}

export async function detectLoadTool(preference?: string): Promise<LoadTool> {
  if (preference && preference !== 'wrk' && preference !== 'autocannon') {
    throw new Error(`BENCH_TOOL must be "wrk" or "autocannon", not "${preference}"`);
  }
  if (preference !== 'autocannon') {
    const version = wrkVersion();
    if (version) return { name: 'wrk', version, reason: preference ? 'BENCH_TOOL=wrk' : 'wrk found' };
    if (preference === 'wrk') throw new Error('BENCH_TOOL=wrk but wrk is not installed (apt-get install -y wrk)');
  }
  const { createRequire } = await import('node:module');
  const require = createRequire(import.meta.url);
  const pkg = require('autocannon/package.json') as { version: string };
  return { name: 'autocannon', version: pkg.version, reason: preference ? 'BENCH_TOOL=autocannon' : 'wrk not found' };
}

export function describeLoadTool(tool: LoadTool, spec: Pick<LoadSpec, 'connections' | 'threads'>): string {
  return tool.name === 'wrk'
    ? `wrk ${tool.version} (${spec.threads} threads, ${spec.connections} connections, Lua script for POST bodies; ${tool.reason})`
    : `autocannon ${tool.version} (${spec.threads} worker threads, ${spec.connections} connections, ` +
        `latency in whole ms; ${tool.reason})`;
}

export function runLoad(tool: LoadTool, spec: LoadSpec): Promise<LoadResult> {
  return tool.name === 'wrk' ? runWrk(spec) : runAutocannon(spec);
}

let wrkScriptDir: string | undefined;
let scriptCounter = 0;
let currentWrk: ChildProcess | undefined;
let abortHookInstalled = false;

function runWrk(spec: LoadSpec): Promise<LoadResult> {
  if (!abortHookInstalled) {
    abortHookInstalled = true;
    onAbort(() => currentWrk?.kill('SIGKILL'));
  }
  wrkScriptDir ??= makeTempDir('portico-bench-wrk-');
  scriptCounter += 1;
  const scriptPath = join(wrkScriptDir, `request-${scriptCounter}.lua`);
  writeFileSync(scriptPath, wrkLuaScript(spec.request));
  const args = [
    `-t${spec.threads}`,
    `-c${spec.connections}`,
    `-d${Math.max(1, Math.round(spec.durationS))}s`,
    '--timeout',
    '10s',
    '--latency',
    '-s',
    scriptPath,
    spec.url,
  ];
  return new Promise((resolveRun, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    currentWrk = child;
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      currentWrk = undefined;
      if (code !== 0) {
        reject(new Error(`wrk exited with ${code ?? signal}: ${stderr || stdout}`));
        return;
      }
      try {
        resolveRun(parseWrkOutput(stdout));
      } catch (error) {
        reject(error);
      }
    });
  });
}

async function runAutocannon(spec: LoadSpec): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon');
  return new Promise((resolveRun, reject) => {
    const instance = autocannon(
      {
        url: spec.url,
        method: spec.request.method,
        headers: { ...spec.request.headers },
        body: spec.request.body,
        connections: spec.connections,
        duration: Math.max(1, Math.round(spec.durationS)),
        workers: spec.threads > 1 ? spec.threads : undefined,
        timeout: 10,
      },
      (error, result) => {
        if (error) {
          reject(error);
          return;
        }
        resolveRun({
          tool: 'autocannon',
          requests: result.requests.total,
          durationS: result.duration,
          requestsPerSec: result.duration > 0 ? result.requests.total / result.duration : Number.NaN,
          meanMs: result.latency.mean,
          p50Ms: result.latency.p50,
          p90Ms: result.latency.p90,
          p99Ms: result.latency.p99,
          maxMs: result.latency.max,
          non2xx: result.non2xx,
          socketErrors: result.errors,
        });
      },
    );
    onAbort(() => instance.stop());
  });
}
