/**
 * The processes the proxy benchmark measures, each started as its own child process and all
 * pointed at one minimal upstream on 127.0.0.1.
 *
 * API:
 *   startUpstream(): Promise<Upstream>                       // bench/lib/upstream-server.ts
 *   startTarget(name: TargetName, upstream: Upstream): Promise<Target>
 *       'direct'  - the upstream itself (no extra process)
 *       'bare'    - bench/lib/bare-proxy-server.ts, the floor for a Node proxy
 *       'portico' - bin/portico.js with a LiteLLM-style config (DATABASE_URL=file:<tmp>/bench.db),
 *                   as the `portico` command runs it: the node flags of its shebang line
 *                   (--max-semi-space-size=4 --no-maglev), LOG_LEVEL=info (one line per request, written to
 *                   <tmp>/portico.log), plus BENCH_PORTICO_NODE_ARGS (e.g. --cpu-prof)
 *       'portico-no-spend-logs' - the same with `general_settings.disable_spend_logs: true`: what
 *                   the spend ledger costs, side by side ('portico' runs with it on, the default)
 *       'portkey' - @portkey-ai/gateway build/start-server.js --port=N --headless, routed with
 *                   x-portkey-provider / x-portkey-custom-host headers
 *       rejects with a message saying why the target is unavailable (missing file, boot failure)
 *   probeTarget(target: Target): Promise<ProbeResult>
 *       one plain and one streamed request; plain must be a chat.completion carrying the
 *       upstream's answer, streamed must end with `data: [DONE]`
 *   TARGET_ORDER, TARGET_LABELS, UPSTREAM_API_KEY, PORTICO_MASTER_KEY
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { createBenchClient, type Endpoint } from './client.ts';
import { getFreePort, makeTempDir, nodeBinary, porticoLaunch, porticoNodeArgs, repoRoot, startProcess, warmCompileCache, type ManagedProcess } from './processes.ts';

export const UPSTREAM_API_KEY = 'sk-upstream';
export const PORTICO_MASTER_KEY = 'sk-bench-master';
const MODEL = 'bench-model';
const UPSTREAM_ANSWER = 'Hello from the benchmark upstream.';

export const TARGET_ORDER = ['direct', 'bare', 'portico', 'portico-no-spend-logs', 'portkey'] as const;
export type TargetName = (typeof TARGET_ORDER)[number];

export const TARGET_LABELS: Record<TargetName, string> = {
  direct: 'direct upstream',
  bare: 'bare Node proxy',
  portico: 'Portico',
  'portico-no-spend-logs': 'Portico, spend ledger off',
  portkey: 'Portkey gateway',
};

export type Upstream = { proc: ManagedProcess; origin: string };

export type Target = {
  name: TargetName;
  /** Process whose memory is sampled (the upstream for 'direct'). */
  pid: number;
  plain: Endpoint;
  stream: Endpoint;
  /** Version or build description shown in the report. */
  detail: string;
  /** The process serving this target (the upstream for 'direct'). */
  proc: ManagedProcess;
};

const messages = [
  { role: 'system', content: 'You are a terse benchmark assistant.' },
  { role: 'user', content: 'Say hello.' },
];
const plainBody = JSON.stringify({ model: MODEL, messages });
const streamBody = JSON.stringify({ model: MODEL, messages, stream: true });

function endpoints(origin: string, headers: Record<string, string>): Pick<Target, 'plain' | 'stream'> {
  const allHeaders = { 'content-type': 'application/json', ...headers };
  return {
    plain: { origin, path: '/v1/chat/completions', request: { method: 'POST', headers: allHeaders, body: plainBody } },
    stream: { origin, path: '/v1/chat/completions', request: { method: 'POST', headers: allHeaders, body: streamBody } },
  };
}

const benchServer = (file: string): string => join(repoRoot, 'bench', 'lib', file);

export async function startUpstream(): Promise<Upstream> {
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'upstream',
    command: nodeBinary(),
    args: [benchServer('upstream-server.ts'), '--port', String(port), '--api-key', UPSTREAM_API_KEY],
    ready: { url: `${origin}/health` },
  });
  return { proc, origin };
}

export async function startTarget(name: TargetName, upstream: Upstream): Promise<Target> {
  switch (name) {
    case 'direct':
      return {
        name,
        pid: upstream.proc.pid,
        proc: upstream.proc,
        detail: 'node:http, fixed answers',
        ...endpoints(upstream.origin, { authorization: `Bearer ${UPSTREAM_API_KEY}` }),
      };
    case 'bare':
      return startBareProxy(upstream);
    case 'portico':
      return startPortico(upstream, true);
    case 'portico-no-spend-logs':
      return startPortico(upstream, false);
    case 'portkey':
      return startPortkey(upstream);
  }
}

async function startBareProxy(upstream: Upstream): Promise<Target> {
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'bare proxy',
    command: nodeBinary(),
    args: [benchServer('bare-proxy-server.ts'), '--port', String(port), '--upstream', upstream.origin],
    ready: { url: `${origin}/health` },
  });
  return { name: 'bare', pid: proc.pid, proc, detail: 'node:http + JSON.parse + undici Pool', ...endpoints(origin, {}) };
}

function porticoConfig(upstreamOrigin: string, spendLogs: boolean): string {
  return [
    'model_list:',
    `  - model_name: ${MODEL}`,
    '    litellm_params:',
    `      model: openai/${MODEL}`,
    `      api_base: ${upstreamOrigin}/v1`,
    `      api_key: ${UPSTREAM_API_KEY}`,
    'general_settings:',
    `  master_key: ${PORTICO_MASTER_KEY}`,
    // The spend ledger is on by default; the second Portico target measures it off, side by side.
    ...(spendLogs ? [] : ['  disable_spend_logs: true']),
    '',
  ].join('\n');
}

function extraNodeArgs(variable: string): string[] {
  return (process.env[variable] ?? '').split(/\s+/).filter(Boolean);
}

async function startPortico(upstream: Upstream, spendLogs: boolean): Promise<Target> {
  const cli = join(repoRoot, 'bin', 'portico.js');
  if (!existsSync(cli)) {
    throw new Error(`${cli} does not exist yet (Portico is not built); nothing to measure`);
  }
  const dir = makeTempDir('portico-bench-');
  const configPath = join(dir, 'bench-config.yaml');
  writeFileSync(configPath, porticoConfig(upstream.origin, spendLogs));
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const nodeArgs = porticoNodeArgs(cli);
  await warmCompileCache(nodeArgs);
  const proc = await startProcess({
    name: 'portico',
    command: nodeBinary(),
    // BENCH_PORTICO_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/portico-prof", profiles the
    // gateway under the same load (the profile is written when Portico exits on SIGTERM).
    args: [...nodeArgs, ...extraNodeArgs('BENCH_PORTICO_NODE_ARGS'), cli, '--config', configPath, '--port', String(port)],
    // Logging on, as deployed: one JSON line per request. Written to a file, so that draining
    // it costs the bench process (on the same CPUs) nothing.
    env: { ...porticoLaunch(cli).env, DATABASE_URL: `file:${join(dir, 'bench.db')}`, LOG_LEVEL: 'info' },
    outputFile: join(dir, 'portico.log'),
    stdinPipe: false,
    ready: { url: `${origin}/health/liveliness`, timeoutMs: 30_000 },
  });
  return {
    name: spendLogs ? 'portico' : 'portico-no-spend-logs',
    pid: proc.pid,
    proc,
    detail: `node ${nodeArgs.length > 0 ? `${nodeArgs.join(' ')} ` : ''}bin/portico.js, LOG_LEVEL=info (request lines to a file), SQLite, spend ledger ${spendLogs ? 'on' : 'off (disable_spend_logs)'}`,
    ...endpoints(origin, { authorization: `Bearer ${PORTICO_MASTER_KEY}` }),
  };
}

function portkeyEntry(): { script: string; version: string } {
  const require = createRequire(import.meta.url);
  let pkgPath: string;
  try {
    pkgPath = require.resolve('@portkey-ai/gateway/package.json');
  } catch {
    throw new Error('@portkey-ai/gateway is not installed (npm install -D @portkey-ai/gateway)');
  }
  const pkg = require(pkgPath) as { version: string };
  return {
    script: join(dirname(pkgPath), 'build', 'start-server.js'),
    version: `${pkg.version} (@hono/node-server ${installedVersionNear(dirname(pkgPath), '@hono/node-server')})`,
  };
}

/** Version of `name` as Node would resolve it from `dir` (walks up node_modules folders). */
function installedVersionNear(dir: string, name: string): string {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return (JSON.parse(readFileSync(candidate, 'utf8')) as { version: string }).version;
    if (dirname(current) === current) return 'unknown';
  }
}

async function startPortkey(upstream: Upstream): Promise<Target> {
  const { script, version } = portkeyEntry();
  const port = await getFreePort();
  // build/start-server.js reads its port only as `--port=N` (default 8787); `--headless` skips
  // the log-viewer UI routes. It listens on all interfaces; we only send to 127.0.0.1.
  const proc = await startProcess({
    name: 'portkey',
    command: nodeBinary(),
    args: [script, `--port=${port}`, '--headless'],
    stdinPipe: false,
    ready: { url: `http://127.0.0.1:${port}/` },
  });
  return {
    name: 'portkey',
    pid: proc.pid,
    proc,
    detail: `@portkey-ai/gateway ${version}`,
    ...endpoints(`http://127.0.0.1:${port}`, {
      authorization: `Bearer ${UPSTREAM_API_KEY}`,
      'x-portkey-provider': 'openai',
      'x-portkey-custom-host': `${upstream.origin}/v1`,
    }),
  };
}

export type ProbeResult = { plainError?: string; streamError?: string };

export async function probeTarget(target: Target): Promise<ProbeResult> {
  const result: ProbeResult = {};
  const plain = createBenchClient(target.plain, 1);
  const stream = createBenchClient(target.stream, 1);
  try {
    const answer = await plain.probe();
    if (answer.status !== 200) result.plainError = `answered ${answer.status}: ${answer.body.slice(0, 300)}`;
    else {
      const content = (JSON.parse(answer.body) as { choices?: { message?: { content?: string } }[] }).choices?.[0]
        ?.message?.content;
      if (content !== UPSTREAM_ANSWER) result.plainError = `unexpected body: ${answer.body.slice(0, 300)}`;
    }
  } catch (error) {
    result.plainError = (error as Error).message;
  }
  try {
    const answer = await stream.probe();
    if (answer.status !== 200) result.streamError = `answered ${answer.status}: ${answer.body.slice(0, 300)}`;
    else if (!answer.body.includes('data: [DONE]') || !answer.body.includes('benchmark upstream.')) {
      result.streamError = `unexpected stream: ${answer.body.slice(0, 300)}`;
    }
  } catch (error) {
    result.streamError = (error as Error).message;
  } finally {
    await Promise.all([plain.close(), stream.close()]);
  }
  return result;
}
