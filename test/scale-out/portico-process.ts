/**
 * Portico as a real process, started exactly as a user starts it
 * (`node_modules/.bin/node bin/portico.js --config FILE --port N --host 127.0.0.1`), for the
 * scale-out suites: several instances on one PostgreSQL and one Redis, stopped with SIGTERM or
 * killed with SIGKILL.
 *
 *   const portico = await spawnPortico({ configPath, env: { DATABASE_URL, REDIS_URL } });
 *   portico.client().batches.list();     // openai SDK, master key, no SDK retries
 *   await portico.stop();                // SIGTERM; resolves with the exit code
 *
 * `--port 0` lets the OS pick a free port; the port is read from the "Portico is listening" log
 * line. Logs are kept (`logs`) and printed when `PORTICO_TEST_LOGS=1`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The pinned Node 24 (the system Node may be older). */
export const PINNED_NODE = fileURLToPath(new URL('../../node_modules/.bin/node', import.meta.url));

export interface SpawnPorticoOptions {
  configPath: string;
  /** Added to the parent's environment. */
  env?: Record<string, string>;
  /** Default 0: a free port. */
  port?: number;
  /** Used by `client()`. */
  masterKey?: string;
  name?: string;
  startTimeoutMs?: number;
  /** The `portico` to run (default: this repository's `bin/portico.js`), e.g. an installed package's. */
  bin?: string;
  /** Working directory (default: the repository). */
  cwd?: string;
}

export interface PorticoProcess {
  readonly name: string;
  readonly url: string;
  readonly baseURL: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Every log line so far, parsed when it is JSON. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  client(apiKey?: string): OpenAI;
  /** SIGTERM (graceful stop); resolves with the exit code and signal once it exited. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL: no chance to release anything. */
  kill(): Promise<void>;
}

export async function spawnPortico(options: SpawnPorticoOptions): Promise<PorticoProcess> {
  const name = options.name ?? 'portico';
  const child = spawn(PINNED_NODE, [options.bin ?? 'bin/portico.js', '--config', options.configPath, '--port', String(options.port ?? 0), '--host', '127.0.0.1'], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { ...process.env, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const echo = process.env.PORTICO_TEST_LOGS === '1';
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let buffered = '';
  let onListening: ((url: string) => void) | undefined;
  child.stdout?.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    let newline = buffered.indexOf('\n');
    while (newline !== -1) {
      const line = buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
      if (echo) process.stderr.write(`[${name}] ${line}\n`);
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        logs.push(parsed);
        if (parsed.msg === 'Portico is listening' && typeof parsed.url === 'string') onListening?.(parsed.url);
      } catch {
        logs.push({ raw: line });
      }
    }
  });
  child.stderr?.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
    if (echo) process.stderr.write(`[${name} stderr] ${text}`);
  });

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start within ${options.startTimeoutMs ?? 20_000} ms\n${stderr}`));
    }, options.startTimeoutMs ?? 20_000);
    onListening = (listening) => {
      clearTimeout(timer);
      resolve(listening);
    };
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited before listening (code ${code}, signal ${signal})\n${stderr}`));
    });
  });
  const port = Number(new URL(url).port);
  const baseURL = `${url}/v1`;
  return {
    name,
    url,
    baseURL,
    port,
    child,
    logs,
    exited,
    client(apiKey = options.masterKey ?? 'no-key') {
      return new OpenAI({ apiKey, baseURL, maxRetries: 0, timeout: 30_000 });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A port that was free a moment ago (for restarting an instance on the same port). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Worker number -> pid of the workers answering at `url`, as seen over fresh connections (the
 * primary hands connections out in turn), until `workers` were seen or `tries` ran out. A
 * connection handed to a worker just killed is lost: the client times out and tries again.
 */
export async function workersSeen(url: string, workers = 2, tries = 200, timeoutMs = 1_000): Promise<Map<number, number>> {
  const seen = new Map<number, number>();
  for (let i = 0; i < tries && seen.size < workers; i++) {
    try {
      const answer = await fetch(`${url}/health/liveness`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(timeoutMs) });
      const body = (await answer.json()) as { pid: number; worker: number };
      seen.set(body.worker, body.pid);
    } catch {
      // next try
    }
  }
  return seen;
}
