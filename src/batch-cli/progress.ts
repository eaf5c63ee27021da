/**
 * How a watched batch's progress is shown: on a terminal, one line redrawn in place with a bar,
 * the rate and an ETA; elsewhere (a pipe, a CI log), a plain line only when something changed,
 * at most every few seconds, so a log of a long batch stays readable.
 */
import type OpenAI from 'openai';

export interface ProgressSample {
  /** When the sample was taken, ms. */
  at: number;
  status: string;
  completed: number;
  failed: number;
  total: number;
}

/** Lines per second since `first`, and seconds left at that rate (undefined until known). */
export function rateAndEta(first: ProgressSample, last: ProgressSample): { perSecond: number | undefined; etaSeconds: number | undefined } {
  const seconds = (last.at - first.at) / 1000;
  const done = last.completed + last.failed - (first.completed + first.failed);
  if (seconds <= 0 || done <= 0) return { perSecond: undefined, etaSeconds: undefined };
  const perSecond = done / seconds;
  const left = Math.max(0, last.total - last.completed - last.failed);
  return { perSecond, etaSeconds: left / perSecond };
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[##########----------]`: done (completed and failed) out of total. */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total > 0 ? Math.min(width, Math.round((done / total) * width)) : 0;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

/** One progress line: status, bar, counts, rate and ETA. */
export function formatProgress(first: ProgressSample, last: ProgressSample, withBar: boolean): string {
  const done = last.completed + last.failed;
  const parts = [last.status.padEnd(11)];
  if (withBar) parts.push(progressBar(done, last.total));
  parts.push(`${done}/${last.total || '?'} done`, `${last.failed} failed`);
  const { perSecond, etaSeconds } = rateAndEta(first, last);
  if (perSecond !== undefined) parts.push(`${perSecond >= 10 ? Math.round(perSecond) : perSecond.toFixed(1)} lines/s`);
  if (etaSeconds !== undefined && done < last.total) parts.push(`ETA ${formatDuration(etaSeconds)}`);
  return parts.join('  ');
}

export function sampleOf(batch: OpenAI.Batches.Batch, at: number): ProgressSample {
  const counts = batch.request_counts;
  return { at, status: batch.status, completed: counts?.completed ?? 0, failed: counts?.failed ?? 0, total: counts?.total ?? 0 };
}

export interface ProgressReporter {
  update(batch: OpenAI.Batches.Batch): void;
  /** Ends the redrawn line (terminal) so that what follows starts on its own line. */
  finish(): void;
}

/** Plain lines are written at most this often, unless the status changed. */
const PLAIN_EVERY_MS = 5_000;

export function createProgressReporter(out: NodeJS.WriteStream | NodeJS.WritableStream, isTerminal: boolean, now: () => number = Date.now): ProgressReporter {
  let first: ProgressSample | undefined;
  let lastShown: { line: string; status: string; at: number } | undefined;
  let redrawn = false;
  return {
    update(batch) {
      const sample = sampleOf(batch, now());
      // The rate counts from the first sample that saw the batch running.
      if (!first || (first.status !== 'in_progress' && sample.status === 'in_progress')) first = sample;
      const line = formatProgress(first, sample, isTerminal);
      if (isTerminal) {
        out.write(`\r\x1b[2K${line}`);
        redrawn = true;
        return;
      }
      const changed = !lastShown || lastShown.status !== sample.status || lastShown.line !== line;
      const due = !lastShown || lastShown.status !== sample.status || sample.at - lastShown.at >= PLAIN_EVERY_MS;
      if (changed && due) {
        out.write(`${line}\n`);
        lastShown = { line, status: sample.status, at: sample.at };
      }
    },
    finish() {
      if (redrawn) out.write('\n');
      redrawn = false;
    },
  };
}
