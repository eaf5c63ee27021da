/**
 * A memory timeline of a process under test: VmRSS (process tree) every few ms, labelled with
 * the stage the bench says it is in, plus any extra gauges the bench reads at the same moment
 * (bytes written to a blob file so far, /proc/PID/io counters...). Used to tell WHICH stage of
 * a long operation pushes memory up, not only how high it went.
 *
 * API:
 *   startRssTimeline(pid, { intervalMs = 50, gauges? }): RssTimeline
 *       timeline.mark(stage)   later samples carry `stage`
 *       timeline.samples       what was recorded so far
 *       timeline.stop()        stops polling, returns the samples
 *   readProcIo(pid): { rchar, wchar } | undefined     // bytes read/written through syscalls (proc(5))
 */
import { readFileSync } from 'node:fs';
import { readRssBytes } from './rss.ts';

export interface TimelineSample {
  /** Milliseconds since the timeline started. */
  tMs: number;
  /** Date.now() at the sample, to line it up with what the process reports about itself. */
  wallMs: number;
  stage: string;
  rssBytes: number;
  gauges: Record<string, number>;
}

export interface RssTimeline {
  mark(stage: string): void;
  readonly samples: readonly TimelineSample[];
  stop(): TimelineSample[];
}

export interface TimelineOptions {
  intervalMs?: number;
  /** Read at every sample; must be cheap and never throw. */
  gauges?: () => Record<string, number>;
}

export function startRssTimeline(pid: number, options: TimelineOptions = {}): RssTimeline {
  const started = performance.now();
  const samples: TimelineSample[] = [];
  let stage = 'start';
  const sample = (): void => {
    const rss = readRssBytes(pid);
    if (rss === undefined) return;
    samples.push({ tMs: Math.round(performance.now() - started), wallMs: Date.now(), stage, rssBytes: rss, gauges: options.gauges?.() ?? {} });
  };
  sample();
  const timer = setInterval(sample, options.intervalMs ?? 50);
  timer.unref();
  return {
    mark(next: string): void {
      sample();
      stage = next;
      sample();
    },
    samples,
    stop(): TimelineSample[] {
      clearInterval(timer);
      sample();
      return samples;
    },
  };
}

export function readProcIo(pid: number): { rchar: number; wchar: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/io`, 'utf8');
    const rchar = /^rchar:\s+(\d+)/m.exec(text);
    const wchar = /^wchar:\s+(\d+)/m.exec(text);
    return rchar && wchar ? { rchar: Number(rchar[1]), wchar: Number(wchar[1]) } : undefined;
  } catch {
    return undefined;
  }
}
