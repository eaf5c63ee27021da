/**
 * What every benchmark records about its run: the machine (with the load average, which skews
 * every figure on a shared machine) and the JSON results file under bench/results/.
 *
 *   const machineBefore = loadavg()[0];
 *   ...
 *   const results = { machine: machineInfo(machineBefore), ... };
 *   log(`Wrote ${writeResults('proxy', results)}`);
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './processes.ts';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  node: string;
  /** 1-minute load average before and after the run (other processes skew the figures). */
  loadAverageBefore: number;
  loadAverageAfter: number;
}

export function machineInfo(loadAverageBefore: number): MachineInfo {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    node: process.version,
    loadAverageBefore,
    loadAverageAfter: loadavg()[0],
  };
}

/** Writes `bench/results/latest-<name>.json`; answers its path. */
export function writeResults(name: string, results: unknown): string {
  const dir = join(repoRoot, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `latest-${name}.json`);
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
