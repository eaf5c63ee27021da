/**
 * Preloaded into the process under test (`node --import bench/lib/memory-probe.ts ...`) when
 * the environment names a file in MEMORY_PROBE_FILE: every MEMORY_PROBE_INTERVAL_MS (default 50)
 * it appends one JSON line with what only the process itself can see, so a bench can tell V8
 * heap growth from buffers from native memory:
 *   {"wallMs", "rss", "heapUsed", "heapTotal", "external", "arrayBuffers", "rssAnon", "rssFile"}
 * (bytes; `rssAnon`/`rssFile` from /proc/self/status: anonymous memory vs mapped files such as
 * the node binary's code). Synchronous appends of ~200 bytes: no buffering that would itself
 * show up in the figures. The timer is unref'd and never keeps the process alive.
 *
 * API (for the bench that reads the file):
 *   type ProbeSample
 *   parseProbeLines(text: string): ProbeSample[]     // pure; skips malformed lines
 */
import { appendFileSync, readFileSync } from 'node:fs';

export interface ProbeSample {
  wallMs: number;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  rssAnon: number;
  rssFile: number;
}

export function parseProbeLines(text: string): ProbeSample[] {
  const samples: ProbeSample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const parsed = JSON.parse(line) as ProbeSample;
      if (typeof parsed.wallMs === 'number' && typeof parsed.rss === 'number') samples.push(parsed);
    } catch {
      // a line cut by the process being killed
    }
  }
  return samples;
}

function statusKb(status: string, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status);
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

const probeFile = process.env.MEMORY_PROBE_FILE;
if (probeFile) {
  const interval = Number(process.env.MEMORY_PROBE_INTERVAL_MS ?? 50);
  const timer = setInterval(() => {
    const usage = process.memoryUsage();
    let status = '';
    try {
      status = readFileSync('/proc/self/status', 'utf8');
    } catch {
      // not Linux: rssAnon/rssFile stay NaN (null in JSON)
    }
    const sample: ProbeSample = {
      wallMs: Date.now(),
      rss: usage.rss,
      heapUsed: usage.heapUsed,
      heapTotal: usage.heapTotal,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      rssAnon: statusKb(status, 'RssAnon'),
      rssFile: statusKb(status, 'RssFile'),
    };
    try {
      appendFileSync(probeFile, `${JSON.stringify(sample)}\n`);
    } catch {
      // the bench removed its temp dir: nothing left to report to
    }
  }, interval > 0 ? interval : 50);
  timer.unref();
}
