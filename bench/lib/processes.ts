/**
 * Child-process management for benchmarks: start servers in their own processes (so they do not
 * share the event loop with the measuring client or with each other), wait until they answer,
 * and stop every one of them on exit, Ctrl-C, or an uncaught error.
 *
 * API:
 *   repoRoot: string                                   // the package root
 *   nodeBinary(): string                               // node_modules/.bin/node (Node 24), else process.execPath
 *   getFreePort(): Promise<number>                     // a free TCP port on 127.0.0.1
 *   makeTempDir(prefix: string): string                // mkdtemp under os.tmpdir(), removed at cleanup
 *   startProcess(options: StartProcessOptions): Promise<ManagedProcess>
 *       spawns, drains stdout/stderr into a tail buffer (or, with `outputFile`, lets the process
 *       write them to that file), waits for `ready` (if given);
 *       rejects with the log tail when the process exits early or is not ready in time
 *   waitForHttp(url, { timeoutMs, expectStatus?, isAlive? }): Promise<void>
 *       polls GET url until it answers expectStatus (default 200)
 *   stopProcess(proc, graceMs?): Promise<void>         // SIGTERM, then SIGKILL after graceMs (default 3000)
 *   stopAll(): Promise<void>                           // stops every process started here and removes temp dirs
 *   warmCompileCache(nodeArgs): Promise<void>          // once per bench: Portico's sources stripped and cached before it is measured
 *   runBench(name, main: () => Promise<number>): Promise<never>
 *       the entry point of a bench: runs main, reports a failure as "NAME failed: ...", always
 *       stops every process, exits with main's code (1 on failure)
 *   installCleanupHandlers(): void                     // SIGINT/SIGTERM/uncaught errors/exit -> stopAll()
 *   onAbort(callback: () => void): void                // called once when a signal or error aborts the run
 *   isAborted(): boolean
 *
 * Servers written for the bench (bench/lib/*-server.ts) exit when their stdin closes, so they
 * do not outlive a bench that was killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

export const repoRoot: string = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function nodeBinary(): string {
  const pinned = join(repoRoot, 'node_modules', '.bin', 'node');
  return existsSync(pinned) ? pinned : process.execPath;
}

/**
 * How `bin/portico.js` runs when started as a command (`#!/usr/bin/env -S [NAME=VALUE ...] node
 * <flags>`; `npm start` and the Dockerfile pass the same): its node flags and environment, so
 * that every bench measures Portico as shipped: `node <nodeArgs> bin/portico.js ...` with `env`.
 * (Started as `node bin/portico.js`, the shebang is not read: bench:files and bench:batch ran
 * without `--max-semi-space-size=4` until issue 15.)
 */
export function porticoLaunch(cli: string = join(repoRoot, 'bin', 'portico.js')): { nodeArgs: string[]; env: Record<string, string> } {
  const first = readFileSync(cli, 'utf8').split('\n', 1)[0];
  const words = (/^#!\S*env -S (.*)$/.exec(first)?.[1] ?? 'node').split(/\s+/).filter(Boolean);
  const env: Record<string, string> = {};
  let i = 0;
  for (; i < words.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]); i++) {
    const eq = words[i].indexOf('=');
    env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
  }
  return { nodeArgs: words.slice(i + 1), env };
}

/**
 * Node strips the types of Portico's TypeScript sources with a WebAssembly compiler (amaro) that
 * stays loaded once used: about 4 MB of heap and 17-25 MB of RSS. `bin/portico.js` keeps the
 * result in Node's compile cache, so only the first start after a source file changed loads it,
 * and an installed package (JavaScript from `npm run build`) never does. A bench that measured that
 * first start read its peak RSS 20-25 MB high (seen in a heap snapshot at the peak: amaro's source,
 * 3.7 MB, among the large objects). So before a bench starts Portico, one process with the same
 * node flags (the cache is kept per V8 flags) imports every gateway module with the compile cache
 * on, and exits. Once per bench process.
 */
let warmed: Promise<void> | undefined;
export function warmCompileCache(nodeArgs: readonly string[]): Promise<void> {
  warmed ??= new Promise<void>((resolveWarm, reject) => {
    const script = `
      import { enableCompileCache } from 'node:module';
      import { readdirSync } from 'node:fs';
      import { join } from 'node:path';
      import { pathToFileURL } from 'node:url';
      enableCompileCache();
      const files = [];
      const walk = (dir) => {
        for (const entry of readdirSync(dir, { withFileTypes: true })) {
          const path = join(dir, entry.name);
          if (entry.isDirectory()) { if (entry.name !== 'testing' && entry.name !== 'fixtures') walk(path); }
          else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) files.push(path);
        }
      };
      walk(${JSON.stringify(join(repoRoot, 'src'))});
      for (const file of files) await import(pathToFileURL(file).href);
      process.exit(0);
    `;
    const child = spawn(nodeBinary(), [...nodeArgs, '--input-type=module', '-e', script], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'pipe'] });
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => (errors = (errors + chunk.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolveWarm() : reject(new Error(`warming the compile cache failed (exit ${code}): ${errors}`))));
  });
  return warmed;
}

/** The node flags of `porticoLaunch`. */
export function porticoNodeArgs(cli?: string): string[] {
  return porticoLaunch(cli).nodeArgs;
}

export function getFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

const tempDirs = new Set<string>();

export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export type StartProcessOptions = {
  /** Name used in messages, e.g. "portico". */
  name: string;
  command: string;
  args: readonly string[];
  cwd?: string;
  /** Added to (and overriding) process.env. */
  env?: Record<string, string | undefined>;
  /** How to know the server is up; omitted = resolve right after spawn. */
  ready?: { url: string; expectStatus?: number; timeoutMs?: number };
  /** Keep stdin open as a pipe; bench servers exit when it closes (default true). */
  stdinPipe?: boolean;
  /** Lines of stdout+stderr kept for error messages (default 60). */
  logTailLines?: number;
  /**
   * Send stdout and stderr to this file instead of a pipe the bench drains: a process that logs
   * every request (Portico at `LOG_LEVEL=info`) then costs the measuring process nothing. The
   * log tail is read back from the file.
   */
  outputFile?: string;
};

export type ManagedProcess = {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Last lines the process wrote, for error messages. */
  logTail(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  hasExited(): boolean;
};

const running = new Set<ManagedProcess>();

export async function startProcess(options: StartProcessOptions): Promise<ManagedProcess> {
  const outputFd = options.outputFile === undefined ? undefined : openSync(options.outputFile, 'a');
  const child = spawn(options.command, [...options.args], {
    cwd: options.cwd ?? repoRoot,
    env: { ...process.env, ...options.env },
    stdio: [options.stdinPipe === false ? 'ignore' : 'pipe', outputFd ?? 'pipe', outputFd ?? 'pipe'],
  });
  // The child has its own copy of the descriptor.
  if (outputFd !== undefined) closeSync(outputFd);
  const maxLines = options.logTailLines ?? 60;
  const lines: string[] = [];
  let partial = '';
  const collect = (chunk: Buffer): void => {
    const text = partial + chunk.toString('utf8');
    const parts = text.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (lines.length > maxLines) lines.shift();
    }
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);

  let exitedFlag = false;
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitedFlag = true;
      resolveExit(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      exitedFlag = true;
      lines.push(`spawn error: ${error.message}`);
      resolveExit('spawn-error');
    });
  });

  const proc: ManagedProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    child,
    logTail: () =>
      options.outputFile === undefined
        ? [...lines, partial].filter((l) => l.length > 0).join('\n')
        : [...lines, ...fileTail(options.outputFile, maxLines)].filter((l) => l.length > 0).join('\n'),
    exited,
    hasExited: () => exitedFlag,
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));

  if (options.ready) {
    try {
      await waitForHttp(options.ready.url, {
        timeoutMs: options.ready.timeoutMs ?? 20_000,
        expectStatus: options.ready.expectStatus,
        isAlive: () => !exitedFlag,
      });
    } catch (error) {
      await stopProcess(proc, 1000);
      const tail = proc.logTail();
      throw new Error(
        `${options.name} did not become ready: ${(error as Error).message}` +
          (tail ? `\n--- last output of ${options.name} ---\n${tail}` : ''),
      );
    }
  }
  return proc;
}

/** The last `maxLines` lines of a file (reads at most its last 64 KiB). */
function fileTail(path: string, maxLines: number): string[] {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return buffer.toString('utf8').split('\n').slice(-maxLines - 1);
  } catch {
    return [];
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function waitForHttp(
  url: string,
  options: { timeoutMs: number; expectStatus?: number; isAlive?: () => boolean },
): Promise<void> {
  const expectStatus = options.expectStatus ?? 200;
  const deadline = Date.now() + options.timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (options.isAlive && !options.isAlive()) throw new Error(`process exited (${last})`);
    if (isAborted()) throw new Error('aborted');
    try {
      const response = await request(url, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
      await response.body.dump();
      if (response.statusCode === expectStatus) return;
      last = `GET ${url} answered ${response.statusCode}`;
    } catch (error) {
      last = `GET ${url}: ${(error as Error).message}`;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${options.timeoutMs} ms (${last})`);
}

export async function stopProcess(proc: ManagedProcess, graceMs = 3000): Promise<void> {
  if (proc.hasExited()) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => {
    if (!proc.hasExited()) proc.child.kill('SIGKILL');
  }, graceMs);
  await proc.exited;
  clearTimeout(timer);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((proc) => stopProcess(proc)));
  removeTempDirs();
}

export async function runBench(name: string, main: () => Promise<number>): Promise<never> {
  let exitCode = 1;
  try {
    exitCode = await main();
  } catch (error) {
    process.stderr.write(`\n${name} failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } finally {
    await stopAll();
  }
  process.exit(exitCode);
}

function removeTempDirs(): void {
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort: a leftover temp dir is harmless
    }
  }
  tempDirs.clear();
}

let aborted = false;
const abortCallbacks: Array<() => void> = [];

export function isAborted(): boolean {
  return aborted;
}

export function onAbort(callback: () => void): void {
  abortCallbacks.push(callback);
}

function abort(): void {
  if (aborted) return;
  aborted = true;
  for (const callback of abortCallbacks) {
    try {
      callback();
    } catch {
      // keep aborting the others
    }
  }
}

let handlersInstalled = false;

export function installCleanupHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    process.stderr.write(`\n${signal} received: stopping all benchmark processes...\n`);
    abort();
    void stopAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const onFatal = (error: unknown): void => {
    process.stderr.write(`\nbenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    abort();
    void stopAll().finally(() => process.exit(1));
  };
  process.once('uncaughtException', onFatal);
  process.once('unhandledRejection', onFatal);
  // Last resort when the process exits without awaiting stopAll(): synchronous SIGKILL.
  process.once('exit', () => {
    for (const proc of running) {
      if (!proc.hasExited()) proc.child.kill('SIGKILL');
    }
    removeTempDirs();
  });
}
