/**
 * CPU time of a process under test, read from Linux /proc (no dependency). Throughput on a
 * shared 2-CPU machine swings with whatever else runs; the CPU time a gateway spends per request
 * swings much less, so the bench reports both.
 *
 * API:
 *   parseCpuTicks(statLine: string): number | undefined   // utime + stime of one /proc/PID/stat line
 *   readCpuSeconds(pid: number): number | undefined        // CPU seconds of pid and its descendants
 *
 * Ticks are converted at 100 per second (USER_HZ, which Linux fixes at 100 on x86 and arm64).
 */
import { readFileSync } from 'node:fs';
import { childPids } from './rss.ts';

const USER_HZ = 100;

/** utime (field 14) + stime (field 15); fields are counted after the `(comm)`, which may hold spaces. */
export function parseCpuTicks(statLine: string): number | undefined {
  const afterComm = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  // afterComm[0] is field 3 (state): field n is afterComm[n - 3].
  const utime = Number(afterComm[14 - 3]);
  const stime = Number(afterComm[15 - 3]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

export function readCpuSeconds(pid: number): number | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const ticks = parseCpuTicks(line);
  if (ticks === undefined) return undefined;
  let seconds = ticks / USER_HZ;
  for (const child of childPids(pid)) seconds += readCpuSeconds(child) ?? 0;
  return seconds;
}
