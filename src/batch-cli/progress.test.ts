import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type OpenAI from 'openai';
import { createProgressReporter, formatDuration, formatProgress, progressBar, rateAndEta } from './progress.ts';

const sample = (at: number, completed: number, failed = 0, total = 100, status = 'in_progress') => ({ at, status, completed, failed, total });

function batch(status: string, completed: number, failed: number, total: number): OpenAI.Batches.Batch {
  return { id: 'batch_1', status, request_counts: { completed, failed, total } } as OpenAI.Batches.Batch;
}

test('rate and ETA count done lines (completed and failed) since the first sample', () => {
  assert.deepEqual(rateAndEta(sample(0, 0), sample(0, 0)), { perSecond: undefined, etaSeconds: undefined });
  const { perSecond, etaSeconds } = rateAndEta(sample(1_000, 10), sample(5_000, 40, 10));
  assert.equal(perSecond, 10);
  assert.equal(etaSeconds, 5);
});

test('the bar, durations and the line', () => {
  assert.equal(progressBar(0, 10, 10), '[----------]');
  assert.equal(progressBar(5, 10, 10), '[#####-----]');
  assert.equal(progressBar(12, 10, 10), '[##########]');
  assert.equal(formatDuration(59), '59s');
  assert.equal(formatDuration(125), '2m05s');
  assert.equal(formatDuration(7_260), '2h01m');
  const line = formatProgress(sample(0, 0), sample(10_000, 45, 5), true);
  assert.match(line, /^in_progress\s+\[#{12}-{12}\]\s+50\/100 done\s+5 failed\s+5\.0 lines\/s\s+ETA 10s$/);
  assert.doesNotMatch(formatProgress(sample(0, 0), sample(10_000, 100), false), /ETA|\[/);
});

test('on a terminal the line is redrawn in place; elsewhere a line per change, at most every 5 s unless the status changes', () => {
  const terminal = new PassThrough();
  let written = '';
  terminal.on('data', (chunk) => (written += chunk));
  let now = 0;
  const onTerminal = createProgressReporter(terminal, true, () => now);
  onTerminal.update(batch('in_progress', 1, 0, 4));
  onTerminal.update(batch('in_progress', 2, 0, 4));
  onTerminal.finish();
  assert.equal(written.split('\r\x1b[2K').length, 3);
  assert.ok(written.endsWith('\n'));

  const pipe = new PassThrough();
  const lines: string[] = [];
  pipe.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  const plain = createProgressReporter(pipe, false, () => now);
  plain.update(batch('validating', 0, 0, 0));
  now = 1_000;
  plain.update(batch('in_progress', 1, 0, 4)); // the status changed: shown
  now = 2_000;
  plain.update(batch('in_progress', 2, 0, 4)); // changed, but not due yet
  now = 7_000;
  plain.update(batch('in_progress', 3, 0, 4)); // due
  now = 8_000;
  plain.update(batch('in_progress', 3, 0, 4)); // nothing changed
  plain.update(batch('completed', 4, 0, 4)); // the status changed
  plain.finish();
  assert.deepEqual(
    lines.map((line) => line.split(/\s+/).slice(0, 2).join(' ')),
    ['validating 0/?', 'in_progress 1/4', 'in_progress 3/4', 'completed 4/4'],
  );
  assert.ok(lines.every((line) => !line.includes('\r') && !line.includes('[')));
});
