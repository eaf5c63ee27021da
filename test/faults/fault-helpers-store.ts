/**
 * Stores that a faults test may break: a private PostgreSQL and a private Redis (never the shared
 * servers on 5432/6379, which other suites use at the same time), stopped and started again to
 * simulate a restart or an outage, and a small tmpfs to run a directory out of space.
 *
 *   const pg = await startPrivatePostgres();     // initdb + pg_ctl start, as the `postgres` user
 *   if (typeof pg === 'string') return t.skip(pg); // the reason (no binaries)
 *   await pg.stop(); ... await pg.start();        // same port, same data
 *   await pg.freeze(); ... await pg.thaw();       // SIGSTOP / SIGCONT: a hung server, sessions kept
 *   await pg.dispose();
 *
 * Tests run as root and PostgreSQL refuses root, so its commands run through
 * `runuser -u postgres` in a temp dir owned by that user.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../scale-out/portico-process.ts';
import type { SimulatorRequestLog } from '../simulators/openai-simulator.ts';

const run = promisify(execFile);

export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/portico` */
  readonly url: string;
  readonly port: number;
  /** Fast shutdown (`pg_ctl stop -m fast`): open sessions are terminated, as in a restart. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory; resolves once it accepts connections. */
  start(): Promise<void>;
  /**
   * SIGSTOP to the postmaster and every backend: connections stay open and nothing answers, as a
   * hung server or a network cut (new connections are accepted by the kernel, never greeted).
   */
  freeze(): Promise<void>;
  /** SIGCONT to them all. */
  thaw(): Promise<void>;
  /** Stops it and removes its data directory. */
  dispose(): Promise<void>;
}

/** The newest PostgreSQL `bin` directory of this machine, or undefined. */
function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((name) => existsSync(join(root, name, 'bin', 'pg_ctl'))).sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** The uid and gid of the `postgres` user. */
export async function postgresUser(): Promise<{ uid: number; gid: number }> {
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  return { uid: Number(uid.trim()), gid: Number(gid.trim()) };
}

export interface PrivatePostgresOptions {
  /**
   * An empty directory owned by `postgres` for the data files (e.g. a small tmpfs, to fill it);
   * the write-ahead log stays in the temp dir, so a full data disk fails statements (53100)
   * instead of stopping the server.
   */
  dataDir?: string;
}

/** A PostgreSQL of the test's own, with a database `portico`; a string is the reason it cannot run here. */
export async function startPrivatePostgres(options: PrivatePostgresOptions = {}): Promise<PrivatePostgres | string> {
  const bin = postgresBinDir();
  if (bin === undefined) return 'no PostgreSQL binaries under /usr/lib/postgresql/*/bin';
  if (process.getuid?.() !== 0 && process.env.USER !== 'postgres') return 'needs root (to run PostgreSQL as the postgres user)';
  const dir = await mkdtemp(join(tmpdir(), 'portico-faults-pg-'));
  const dataDir = options.dataDir ?? join(dir, 'data');
  const socketDir = join(dir, 'socket');
  await mkdir(socketDir);
  const owner = await postgresUser();
  await chown(dir, owner.uid, owner.gid);
  await chown(socketDir, owner.uid, owner.gid);
  const asPostgres = (command: string, args: string[]) => run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args], { cwd: dir });
  await asPostgres('initdb', ['-D', dataDir, '--waldir', join(dir, 'wal'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const serverOptions = `-p ${port} -k ${socketDir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`;
  const start = async () => {
    await asPostgres('pg_ctl', ['-D', dataDir, '-o', serverOptions, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  };
  const stop = async () => {
    await asPostgres('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '30', 'stop']).catch(() => undefined);
  };
  await start();
  const postmasterPid = async () => Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  const processes = async () => {
    const postmaster = await postmasterPid();
    const { stdout } = await run('pgrep', ['-P', String(postmaster)]).catch(() => ({ stdout: '' }));
    return [postmaster, ...stdout.split('\n').filter(Boolean).map(Number)];
  };
  let frozen = false;
  const signal = async (name: NodeJS.Signals) => {
    for (const pid of await processes()) {
      try {
        process.kill(pid, name);
      } catch {
        // gone meanwhile
      }
    }
  };
  const thaw = async () => {
    if (!frozen) return;
    frozen = false;
    await signal('SIGCONT');
  };
  const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${port}/postgres` });
  await admin.connect();
  await admin.query('CREATE DATABASE portico');
  await admin.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/portico`,
    port,
    stop,
    start,
    async freeze() {
      frozen = true;
      await signal('SIGSTOP');
    },
    thaw,
    async dispose() {
      await thaw();
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface PrivateRedis {
  readonly url: string;
  /** SIGKILL: the server is gone at once, as in a crash. */
  kill(): Promise<void>;
  /** Starts it again, empty, on the same port; resolves once it answers. */
  start(): Promise<void>;
  /** SIGSTOP / SIGCONT: connections stay open and nothing answers, as a hung server. */
  freeze(): void;
  thaw(): void;
  dispose(): Promise<void>;
}

/** A `redis-server` of the test's own (no persistence); a string is the reason it cannot run here. */
export async function startPrivateRedis(): Promise<PrivateRedis | string> {
  const binary = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((path) => existsSync(path));
  if (binary === undefined) return 'no redis-server binary';
  const port = await freePort();
  let child: ChildProcess | undefined;
  const start = async () => {
    if (child) return;
    const started = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child = started;
    await waitForPort(port, 10_000);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = once(running, 'exit');
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  const signal = (name: NodeJS.Signals) => {
    if (child && child.exitCode === null) child.kill(name);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    start,
    kill,
    freeze: () => signal('SIGSTOP'),
    thaw: () => signal('SIGCONT'),
    async dispose() {
      signal('SIGCONT');
      await kill();
    },
  };
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const net = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface Tmpfs {
  readonly dir: string;
  /** Grows (or shrinks) it in place, as an operator gives a full volume more room. */
  resize(size: string): Promise<void>;
  unmount(): Promise<void>;
}

/** A tmpfs of `size` (e.g. `2m`) mounted on a new directory; a string is the reason it cannot be mounted. */
export async function mountTmpfs(size: string, owner?: { uid: number; gid: number }): Promise<Tmpfs | string> {
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const dir = await mkdtemp(join(tmpdir(), 'portico-faults-tmpfs-'));
  const ownership = owner ? `,uid=${owner.uid},gid=${owner.gid},mode=0700` : '';
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${size}${ownership}`, 'tmpfs', dir]);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    return `mount -t tmpfs failed: ${(error as Error).message.split('\n')[0]}`;
  }
  let mounted = true;
  return {
    dir,
    async resize(newSize) {
      await run('mount', ['-o', `remount,size=${newSize}`, dir]);
    },
    async unmount() {
      if (!mounted) return;
      mounted = false;
      await run('umount', [dir]).catch(() => run('umount', ['-l', dir]));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** How many times the simulator received each line's chat request (the user text is its custom id). */
export function upstreamExecutions(requests: readonly SimulatorRequestLog[], prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of requests) {
    if (request.method !== 'POST' || !request.path.endsWith('/chat/completions')) continue;
    const messages = (request.json as { messages?: Array<{ content?: unknown }> } | undefined)?.messages ?? [];
    const text = String(messages.at(-1)?.content ?? '');
    if (text.startsWith(prefix)) counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

/** Resolves with the OpenAI error envelope and status of a raw response. */
export async function errorEnvelope(response: Response): Promise<{ status: number; error: { message: string; type: string; param: unknown; code: unknown } }> {
  const body = (await response.json()) as { error: { message: string; type: string; param: unknown; code: unknown } };
  return { status: response.status, error: body.error };
}
