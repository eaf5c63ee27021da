/**
 * How long and with what seed the fuzz suite runs.
 *
 * `npm test` runs it with a fixed seed and a short time budget per database dialect, so the
 * suite is reproducible and bounded. `npm run fuzz` (FUZZ_LONG=1) runs longer with a fresh
 * seed each time, printed so a failure can be replayed:
 *
 *   FUZZ_SEED=123 npm run fuzz                       # replay a run (same cases, same order)
 *   FUZZ_SEED=123 FUZZ_PATH=17:2:0 npm run fuzz      # replay only the shrunk counterexample
 *   FUZZ_SECONDS=1800 FUZZ_RUNS=100000 npm run fuzz  # longer: per dialect, whichever ends first
 *   FUZZ_DIALECTS=postgres npm run fuzz              # one dialect
 *   FUZZ_TRACE=1 npm run fuzz                        # every case on stderr before it is sent
 *   FUZZ_TEMP_FDS=1 npm run fuzz                     # fail the case after which a temporary blob file stays open
 */
import type { SqlDialectName } from '../../src/storage/database.ts';

export interface FuzzSettings {
  seed: number;
  /** fast-check's replay path of a counterexample. */
  path: string | undefined;
  /** Cases per dialect, at most. */
  numRuns: number;
  /** Time per dialect, at most (cases, then shrinking a failure). */
  timeLimitMs: number;
  dialects: readonly SqlDialectName[];
}

/** The seed `npm test` uses: change it only on purpose (it changes every case). */
export const DEFAULT_SEED = 20261204;
const DEFAULT_SECONDS = 45;
const DEFAULT_RUNS = 2_000;
const LONG_SECONDS = 300;
const LONG_RUNS = 1_000_000;

export function fuzzSettings(env: NodeJS.ProcessEnv = process.env): FuzzSettings {
  const long = env.FUZZ_LONG === '1';
  const seed = env.FUZZ_SEED ? integer(env.FUZZ_SEED, 'FUZZ_SEED') : long ? Date.now() % 2 ** 31 : DEFAULT_SEED;
  const numRuns = env.FUZZ_RUNS ? integer(env.FUZZ_RUNS, 'FUZZ_RUNS') : long ? LONG_RUNS : DEFAULT_RUNS;
  const seconds = env.FUZZ_SECONDS ? integer(env.FUZZ_SECONDS, 'FUZZ_SECONDS') : long ? LONG_SECONDS : DEFAULT_SECONDS;
  const dialects = (env.FUZZ_DIALECTS ?? 'sqlite,postgres').split(',').map((name) => name.trim());
  for (const dialect of dialects) {
    if (dialect !== 'sqlite' && dialect !== 'postgres') throw new Error(`FUZZ_DIALECTS: unknown dialect ${JSON.stringify(dialect)}`);
  }
  return { seed, path: env.FUZZ_PATH || undefined, numRuns, timeLimitMs: seconds * 1000, dialects: dialects as SqlDialectName[] };
}

function integer(text: string, name: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(text)}`);
  return value;
}
