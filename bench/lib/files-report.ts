/**
 * Results, memory timeline analysis and printed report of the files bench (bench/files.bench.ts).
 *
 * API:
 *   blobStoreGauges(storageDir): () => { blobFiles, blobBytes, blobTempBytes }
 *       what Portico's local blob store holds right now (finished blobs, and bytes of blobs still
 *       being written, `.tmp-*`); cheap enough to read every 50 ms
 *   phasesOf(samples, stages, probe?): PhasePeak[] // pure: splits each stage at blob-store events;
 *       the memory probe's sample nearest each peak says what the memory was (heap, buffers, code)
 *   probeAt(probe, wallMs): ProbeSample | undefined  // pure: the last probe sample at or before wallMs
 *   verdict(results): { peakRssBytes, underLimit } // pure
 *   concurrencyRows(operations): ConcurrencyRow[]   // pure: one upload against several at once, and what the others added
 *   explainPeak(phase): string                     // pure: what the RSS at a phase's peak was made of
 *   printFilesReport(results): void                // aligned tables on stdout
 *   types FilesBenchResults, OperationResult, PhasePeak
 */
import type { MachineInfo } from './run-record.ts';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ProbeSample } from './memory-probe.ts';
import type { TimelineSample } from './rss-timeline.ts';
import { fmtMB, formatTable } from './table.ts';

export interface OperationResult {
  stage: string;
  label: string;
  /** Bytes of the file moved (the upload's source, the download's body, the batch's output). */
  bytes: number;
  seconds: number;
  mbPerSec: number;
  peakRssBytes: number;
  /** What was verified about the result. */
  check?: string;
  error?: string;
}

export interface FilesBenchResults {
  startedAt: string;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  portico: { nodeArgs: string[]; config: string; idleRssBytes: number };
  simulatorsRssBytes: number | undefined;
  operations: OperationResult[];
  rssLimitBytes: number;
  timeline: TimelineSample[];
  /** What Portico reported about itself (bench/lib/memory-probe.ts); empty when the probe was off. */
  probe: ProbeSample[];
  failures: string[];
}

export function blobStoreGauges(storageDir: string): () => Record<'blobFiles' | 'blobBytes' | 'blobTempBytes', number> {
  return () => {
    let blobFiles = 0;
    let blobBytes = 0;
    let blobTempBytes = 0;
    let names: string[] = [];
    try {
      names = readdirSync(storageDir);
    } catch {
      // not created yet
    }
    for (const name of names) {
      let size = 0;
      try {
        size = statSync(join(storageDir, name)).size;
      } catch {
        continue; // renamed or removed between readdir and stat
      }
      if (name.startsWith('.tmp-')) blobTempBytes += size;
      else {
        blobFiles += 1;
        blobBytes += size;
      }
    }
    return { blobFiles, blobBytes, blobTempBytes };
  };
}

export interface PhasePeak {
  stage: string;
  phase: string;
  fromMs: number;
  toMs: number;
  peakRssBytes: number;
  atMs: number;
  /** Portico's own view at the peak (nearest probe sample), when the probe ran. */
  atPeak: ProbeSample | undefined;
}

export function probeAt(probe: readonly ProbeSample[], wallMs: number): ProbeSample | undefined {
  let lo = 0;
  let hi = probe.length - 1;
  let found: ProbeSample | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (probe[mid].wallMs <= wallMs) {
      found = probe[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found ?? probe[0];
}

/**
 * Splits a stage by what the blob store shows, which is what Portico is doing:
 *   "before blob write": request received, nothing written yet (or a download/poll)
 *   "blob write": a `.tmp-*` blob is growing (upload: multipart receive + JSONL validation +
 *       blob write, all in one stream; batch: the provider's output copied into the store)
 *   "after blob stored": the blob was renamed into place (upload: the size passes over the
 *       rewritten lines and the copy uploads to the deployments)
 */
export function phasesOf(samples: readonly TimelineSample[], stages: readonly string[], probe: readonly ProbeSample[] = []): PhasePeak[] {
  const out: PhasePeak[] = [];
  for (const stage of stages) {
    const own = samples.filter((s) => s.stage === stage);
    if (own.length === 0) continue;
    const startFiles = own[0].gauges.blobFiles ?? 0;
    const writes = own.some((s) => (s.gauges.blobTempBytes ?? 0) > 0 || (s.gauges.blobFiles ?? 0) > startFiles);
    const phaseOf = (s: TimelineSample): string =>
      !writes
        ? 'whole stage'
        : (s.gauges.blobTempBytes ?? 0) > 0
          ? 'blob write'
          : (s.gauges.blobFiles ?? 0) > startFiles
            ? 'after blob stored'
            : 'before blob write';
    const byPhase = new Map<string, PhasePeak>();
    for (const s of own) {
      const phase = phaseOf(s);
      const entry = byPhase.get(phase);
      if (!entry) {
        byPhase.set(phase, { stage, phase, fromMs: s.tMs, toMs: s.tMs, peakRssBytes: s.rssBytes, atMs: s.tMs, atPeak: probeAt(probe, s.wallMs) });
        continue;
      }
      entry.toMs = s.tMs;
      if (s.rssBytes > entry.peakRssBytes) {
        entry.peakRssBytes = s.rssBytes;
        entry.atMs = s.tMs;
        entry.atPeak = probeAt(probe, s.wallMs);
      }
    }
    out.push(...byPhase.values());
  }
  return out;
}

/**
 * RSS = file-backed pages (mostly the node binary's code) + anonymous memory; anonymous memory
 * is the V8 heap as committed (not only what is in use) + ArrayBuffers (Buffers' bytes, alive or
 * dead and not yet collected) + the rest (native allocations, freed memory malloc kept, stacks).
 */
export function explainPeak(phase: PhasePeak): string {
  const p = phase.atPeak;
  const mb = (n: number): string => `${(n / MiB).toFixed(0)} MB`;
  if (!p) return `${phase.stage} / ${phase.phase}: ${mb(phase.peakRssBytes)} (no memory probe)`;
  const other = p.rssAnon - p.heapTotal - p.arrayBuffers;
  return (
    `${phase.stage} / ${phase.phase} at ${(phase.atMs / 1000).toFixed(2)} s: peak RSS ${mb(phase.peakRssBytes)}; ` +
    `Portico's own reading then: RSS ${mb(p.rss)} = file-backed ${mb(p.rssFile)} + V8 heap committed ${mb(p.heapTotal)} (in use ${mb(p.heapUsed)}) + ` +
    `ArrayBuffers ${mb(p.arrayBuffers)} + other native ${mb(Math.max(0, other))}`
  );
}

export function verdict(results: Pick<FilesBenchResults, 'operations' | 'rssLimitBytes'>): { peakRssBytes: number; underLimit: boolean } {
  const peaks = results.operations.map((o) => o.peakRssBytes).filter((n) => Number.isFinite(n));
  const peakRssBytes = peaks.length > 0 ? Math.max(...peaks) : Number.NaN;
  return { peakRssBytes, underLimit: Number.isFinite(peakRssBytes) && peakRssBytes < results.rssLimitBytes };
}

const MiB = 1024 * 1024;

export interface ConcurrencyRow {
  kind: string;
  uploads: number;
  onePeakBytes: number;
  manyPeakBytes: number;
  /** manyPeakBytes - onePeakBytes: what the uploads after the first added to the peak. */
  addedBytes: number;
}

/** Pairs each run of uploads at once with the single upload of the same kind (stages of files.bench.ts). */
export function concurrencyRows(operations: readonly OperationResult[]): ConcurrencyRow[] {
  const pairs = [
    { kind: 'store only (validated, stored)', one: 'upload-plain', many: 'upload-concurrent' },
    { kind: '-> 2 deployments (stored, 2 copies placed)', one: 'upload', many: 'upload-concurrent-targets' },
  ];
  const rows: ConcurrencyRow[] = [];
  for (const pair of pairs) {
    const one = operations.find((o) => o.stage === pair.one && !o.error);
    const many = operations.find((o) => o.stage === pair.many && !o.error);
    if (!one || !many || !Number.isFinite(one.bytes) || one.bytes <= 0) continue;
    const uploads = Math.round(many.bytes / one.bytes);
    if (uploads < 2) continue;
    rows.push({ kind: pair.kind, uploads, onePeakBytes: one.peakRssBytes, manyPeakBytes: many.peakRssBytes, addedBytes: many.peakRssBytes - one.peakRssBytes });
  }
  return rows;
}

export function printFilesReport(results: FilesBenchResults): void {
  const out = (line = ''): void => void process.stdout.write(`${line}\n`);
  out();
  const load = (n: unknown): string => (typeof n === 'number' ? n.toFixed(2) : 'n/a');
  const blobStore = results.settings.blobStore === 'database' ? 'database blob store' : 'local blob store';
  out(`Portico managed Files, large files: ${String(results.machine.cpus)} CPUs (${results.machine.cpuModel}), ${String(results.machine.node)}, ${blobStore}`);
  out(`load average before/after: ${load(results.machine.loadAverageBefore)}/${load(results.machine.loadAverageAfter)} (other work on the machine skews every figure)`);
  out();
  out(
    formatTable(
      ['operation', 'MB', 'seconds', 'MB/s', 'Portico peak RSS', 'checked'],
      results.operations.map((o) => [
        o.label,
        Number.isFinite(o.bytes) ? (o.bytes / MiB).toFixed(1) : 'n/a',
        Number.isFinite(o.seconds) ? o.seconds.toFixed(2) : 'n/a',
        Number.isFinite(o.mbPerSec) ? o.mbPerSec.toFixed(1) : 'n/a',
        fmtMB(o.peakRssBytes),
        o.error ? `FAILED: ${o.error.slice(0, 80)}` : (o.check ?? ''),
      ]),
      { align: ['left', 'right', 'right', 'right', 'right', 'left'] },
    ),
  );
  out();
  out('MB = MiB (1,048,576 bytes). Upload MB/s counts the file once, although Portico also reads it back');
  out('twice per deployment (size pass + copy) and sends a copy to each deployment before it answers.');
  out();
  const together = concurrencyRows(results.operations);
  if (together.length > 0) {
    out(`Uploads at once (${String(results.machine.cpus)} CPUs, ${results.machine.cpuModel}): Portico's peak RSS with one upload, with several, and what the others added`);
    out(
      formatTable(
        ['upload', 'one at a time', 'at once', 'added by the others', 'per added upload'],
        together.map((row) => [
          row.kind,
          fmtMB(row.onePeakBytes),
          `${fmtMB(row.manyPeakBytes)} (${row.uploads})`,
          fmtMB(row.addedBytes),
          fmtMB(row.addedBytes / (row.uploads - 1)),
        ]),
        { align: ['left', 'right', 'right', 'right', 'right'] },
      ),
    );
    out('A negative figure: the runs differ by less than the garbage awaiting collection at their peaks.');
    out();
  }
  const phases = phasesOf(results.timeline, results.operations.map((o) => o.stage), results.probe);
  out('Memory by phase: peak VmRSS (sampled every 50 ms), and what Portico itself saw at that moment');
  out('(V8 heap used/total, ArrayBuffers = Buffers alive or awaiting GC, anonymous vs file-backed RSS)');
  const mb = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'n/a' : (n / MiB).toFixed(0));
  out(
    formatTable(
      ['stage', 'phase', 'from s', 'to s', 'peak RSS', 'heap used/total', 'ArrayBuffers', 'RSS anon/file'],
      phases.map((p) => [
        p.stage,
        p.phase,
        (p.fromMs / 1000).toFixed(2),
        (p.toMs / 1000).toFixed(2),
        fmtMB(p.peakRssBytes),
        p.atPeak ? `${mb(p.atPeak.heapUsed)}/${mb(p.atPeak.heapTotal)} MB` : 'n/a',
        p.atPeak ? `${mb(p.atPeak.arrayBuffers)} MB` : 'n/a',
        p.atPeak ? `${mb(p.atPeak.rssAnon)}/${mb(p.atPeak.rssFile)} MB` : 'n/a',
      ]),
      { align: ['left', 'left', 'right', 'right', 'right', 'right', 'right', 'right'] },
    ),
  );
  out();
  const { peakRssBytes, underLimit } = verdict(results);
  const worst = phases.reduce<PhasePeak | undefined>((a, b) => (a === undefined || b.peakRssBytes > a.peakRssBytes ? b : a), undefined);
  if (worst) out(`Highest: ${explainPeak(worst)}`);
  out(`Portico idle RSS: ${fmtMB(results.portico.idleRssBytes)}; simulators' process (not counted): ${fmtMB(results.simulatorsRssBytes)}`);
  out(
    `Portico peak RSS over all operations: ${fmtMB(peakRssBytes)} -> ` +
      (underLimit ? `UNDER issue 3's bar of ${fmtMB(results.rssLimitBytes)}` : `OVER issue 3's bar of ${fmtMB(results.rssLimitBytes)}`),
  );
  if (results.failures.length > 0) {
    out();
    out('Failures:');
    for (const failure of results.failures) out(`  - ${failure}`);
  }
}
