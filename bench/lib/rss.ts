/**
 * Resident memory of a process under test, read from Linux /proc (no dependency).
 *
 * API:
 *   readRssBytes(pid: number): number | undefined        // VmRSS of pid plus all its descendants
 *   readPeakRssBytes(pid: number): number | undefined    // VmHWM (kernel-tracked peak) of pid itself
 *   resetPeakRss(pid: number): boolean                   // writes "5" to /proc/pid/clear_refs (resets VmHWM)
 *   childPids(pid: number): number[]                     // direct children of pid (all its threads)
 *   startRssSampler(pid: number, intervalMs = 50): RssSampler
 *       resets VmHWM if allowed, then polls VmRSS (process tree) every intervalMs;
 *       sampler.stop() returns { peakBytes, polledPeakBytes, hwmBytes, samples }
 *       where peakBytes = max(polled peak of the tree, VmHWM of the root when the reset worked)
 *
 * Everything answers undefined (never throws) where /proc is missing or the process is gone.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';

function readStatusField(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

export function childPids(pid: number): number[] {
  const children: number[] = [];
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return children;
  }
  for (const tid of tasks) {
    try {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (text) for (const child of text.split(/\s+/)) children.push(Number(child));
    } catch {
      // thread ended between readdir and read
    }
  }
  return children;
}

export function readRssBytes(pid: number): number | undefined {
  const own = readStatusField(pid, 'VmRSS');
  if (own === undefined) return undefined;
  let total = own;
  for (const child of childPids(pid)) total += readRssBytes(child) ?? 0;
  return total;
}

export function readPeakRssBytes(pid: number): number | undefined {
  return readStatusField(pid, 'VmHWM');
}

/** See proc(5), /proc/pid/clear_refs: "5" resets the peak resident set size (Linux >= 4.0). */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

export type RssReport = {
  /** Best estimate of the peak during the sampling window, bytes (NaN when unreadable). */
  peakBytes: number;
  polledPeakBytes: number;
  /** VmHWM of the root process after a successful reset; undefined when it could not be reset. */
  hwmBytes: number | undefined;
  samples: number;
};

export type RssSampler = { stop(): RssReport };

export function startRssSampler(pid: number, intervalMs = 50): RssSampler {
  const resetWorked = resetPeakRss(pid);
  let polledPeak = 0;
  let samples = 0;
  const sample = (): void => {
    const rss = readRssBytes(pid);
    if (rss !== undefined) {
      samples += 1;
      if (rss > polledPeak) polledPeak = rss;
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    stop(): RssReport {
      clearInterval(timer);
      sample();
      const hwm = resetWorked ? readPeakRssBytes(pid) : undefined;
      const peak = Math.max(polledPeak, hwm ?? 0);
      return {
        peakBytes: peak > 0 ? peak : Number.NaN,
        polledPeakBytes: polledPeak > 0 ? polledPeak : Number.NaN,
        hwmBytes: hwm,
        samples,
      };
    },
  };
}
