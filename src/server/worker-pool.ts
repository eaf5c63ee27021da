/**
 * Several Portico processes on one port (`--num_workers N`, `portico_settings.workers`): the
 * primary process serves nothing; it migrates the database once, forks the workers (node:cluster
 * shares the listening socket between them), forks a replacement when one dies (with a growing
 * delay if they keep dying), and on SIGTERM/SIGINT stops them all gracefully and exits.
 *
 * Workers share state as separate instances do: rate limits, cooldowns, routing stats and key
 * deletions through Redis when it is configured (exactly as instances), everything else through
 * the database (SQLite's WAL serves several processes on one machine). Without Redis, the primary
 * holds that state itself, in memory (`coordination/cluster-shared-state-host.ts`), and the workers
 * reach it over the cluster's IPC channel (`coordination/cluster-shared-state.ts`): limits still
 * hold across workers (not N times the configured rpm), a cooldown started in one applies in all,
 * and a deleted key is refused by all at once.
 */
import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import { readFileSync } from 'node:fs';
import { serveWorkerMetrics } from '../observability/cluster-metrics.ts';
import type { Logger } from '../observability/logger.ts';
import { serveClusterSharedState } from '../coordination/cluster-shared-state-host.ts';
import type { CooldownPolicy } from '../routing/cooldown.ts';
import { openDatabase } from '../storage/database.ts';

/** Set in each worker's environment: its number, 1..N. */
export const WORKER_ID_VARIABLE = 'PORTICO_WORKER_ID';

/** A restart loop slows down to this; a worker that lived this long resets it. */
const MAX_RESTART_DELAY_MS = 30_000;
const STABLE_AFTER_MS = 60_000;

/**
 * The CPUs this process may use: the machine's, or fewer under a container's CPU limit (cgroup v2
 * `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`).
 */
export function availableCpus(readText: (path: string) => string | undefined = readIfThere): number {
  const machine = availableParallelism();
  const limit = cgroupCpuLimit(readText);
  return limit === undefined ? machine : Math.max(1, Math.min(machine, Math.floor(limit)));
}

function readIfThere(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function cgroupCpuLimit(readText: (path: string) => string | undefined): number | undefined {
  const v2 = readText('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[0]) > 0 && Number(v2[1]) > 0) return Number(v2[0]) / Number(v2[1]);
  const quota = Number(readText('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(readText('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  if (quota > 0 && period > 0) return quota / period;
  return undefined;
}

/** `auto`: the available CPUs; a number as given. */
export function workerCount(setting: number | 'auto' | undefined, cpus: () => number = availableCpus): number {
  if (setting === undefined) return 1;
  return setting === 'auto' ? cpus() : setting;
}

export interface WorkerPoolOptions {
  workers: number;
  databaseUrl: string | undefined;
  redisUrl: string | undefined;
  /** For the cooldowns the primary holds when there is no Redis. */
  cooldownPolicy: CooldownPolicy;
  logger: Logger;
  /** How long workers get to finish in-flight work on a stop (their own grace, plus a margin). */
  stopTimeoutMs: number;
}

/** Runs the primary until a signal stops it; resolves when every worker has exited. */
export async function runWorkerPool(options: WorkerPoolOptions): Promise<void> {
  const { logger } = options;
  // Once, here: workers starting together would otherwise all run them (they are serialised,
  // but every worker would wait for the lock).
  const database = await openDatabase(options.databaseUrl);
  await database.close();

  let stopping = false;
  let restarts = 0;
  /**
   * Restarts waiting for their delay. Their timers are not unref'd: when every worker died at
   * once, they are all that keeps the primary's event loop alive, and an unref'd one let it exit
   * instead of starting the workers again. A stop clears them.
   */
  const pendingRestarts = new Set<NodeJS.Timeout>();
  const bornAt = new Map<number, number>();
  const fork = (id: number): Worker => {
    const worker = cluster.fork({ [WORKER_ID_VARIABLE]: String(id) });
    bornAt.set(worker.id, Date.now());
    worker.on('exit', (code, signal) => {
      const lived = Date.now() - (bornAt.get(worker.id) ?? Date.now());
      bornAt.delete(worker.id);
      if (stopping) return;
      if (lived >= STABLE_AFTER_MS) restarts = 0;
      const delay = Math.min(MAX_RESTART_DELAY_MS, restarts === 0 ? 0 : 500 * 2 ** (restarts - 1));
      restarts += 1;
      logger.error({ worker: id, pid: worker.process.pid, code, signal, restart_in_ms: delay }, 'worker died; starting another');
      const timer = setTimeout(() => {
        pendingRestarts.delete(timer);
        if (!stopping) fork(id);
      }, delay);
      pendingRestarts.add(timer);
    });
    return worker;
  };
  serveWorkerMetrics();
  // With Redis the workers share state there, exactly as instances do; the primary holds none.
  const sharedInPrimary = !options.redisUrl?.trim();
  if (sharedInPrimary) serveClusterSharedState(options.cooldownPolicy);
  for (let id = 1; id <= options.workers; id++) fork(id);
  logger.info({ workers: options.workers, pid: process.pid, shared_state: sharedInPrimary ? 'primary process' : 'redis' }, 'primary: workers started');

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      for (const timer of pendingRestarts) clearTimeout(timer);
      pendingRestarts.clear();
      logger.info({ signal }, 'primary: stopping the workers');
      const living = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
      if (living.length === 0) return resolve();
      let left = living.length;
      const killer = setTimeout(() => {
        for (const worker of living) if (!worker.isDead()) worker.process.kill('SIGKILL');
      }, options.stopTimeoutMs);
      for (const worker of living) {
        worker.once('exit', () => {
          left -= 1;
          if (left === 0) {
            clearTimeout(killer);
            resolve();
          }
        });
        worker.process.kill('SIGTERM');
      }
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
  logger.info('primary: every worker stopped');
}
