import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { MIN_HANDOVER_INTERVAL_MS, StreamLineSink, TurnBatchedDestination, createLogger, droppedLogLines, isoTimestamp } from './logger.ts';

describe('the logger', () => {
  it('writes the time as pino.stdTimeFunctions.isoTime does', () => {
    for (const ms of [0, 7, 999, 1_000, 1_700_000_000_000, 1_700_000_000_005, 1_700_000_000_050, 1_764_241_685_032, Date.now()]) {
      assert.equal(isoTimestamp(ms), `,"time":"${new Date(ms).toISOString()}"`);
    }
    const ours = isoTimestamp();
    const theirs = pino.stdTimeFunctions.isoTime();
    assert.equal(ours.length, theirs.length);
  });

  it('a line logged to a given destination carries the level, time, service and message', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(line) } });
    logger.info({ req_id: 'r1', authorization: 'Bearer sk-secret' }, 'request');
    const line = JSON.parse(lines[0]) as Record<string, unknown>;
    assert.equal(line.level, 'info');
    assert.match(line.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(line.service, 'portico');
    assert.equal(line.msg, 'request');
    assert.equal(line.authorization, '[redacted]');
  });

  it('hands the lines of one event-loop turn to stdout in one write, at the end of the turn', async () => {
    const writes: string[] = [];
    const sink = { write: (chunk: string) => writes.push(chunk) > 0, flush: () => {}, flushSync: () => {} };
    const destination = new TurnBatchedDestination(sink);
    destination.write('a\n');
    destination.write('b\n');
    assert.deepEqual(writes, [], 'nothing is written during the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\nb\n']);
    destination.write('c\n');
    destination.flushSync();
    assert.deepEqual(writes, ['a\nb\n', 'c\n'], 'flushSync hands pending lines over at once');
  });

  it('while lines keep coming, hands them over at most once per interval; a quiet line goes at the end of its turn', async () => {
    const writes: string[] = [];
    const sink = { write: (chunk: string) => writes.push(chunk) > 0, flush: () => {}, flushSync: () => {} };
    let now = 1_000;
    const destination = new TurnBatchedDestination(sink, () => now);
    destination.write('a\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\n'], 'the first line after a quiet spell: at the end of its turn');
    now += 1;
    destination.write('b\n');
    await new Promise((resolve) => setImmediate(resolve));
    destination.write('c\n');
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(writes, ['a\n'], 'within the interval of the last hand-over, lines wait');
    await new Promise((resolve) => setTimeout(resolve, MIN_HANDOVER_INTERVAL_MS + 5));
    assert.deepEqual(writes, ['a\n', 'b\nc\n'], 'and go out together when it has passed');
    now += 1;
    destination.write('x'.repeat(70 * 1024) + '\n');
    assert.equal(writes.length, 3, 'a large pending text goes at once');
    destination.flushSync();
  });

  it('a stream sink never holds more than its cap, and after a write error drops everything; both counted', async () => {
    const written: string[] = [];
    // A reader that takes one chunk and then nothing more (a stalled log shipper).
    const stalled = new Writable({ write: (chunk: Buffer) => void written.push(chunk.toString()) });
    const sink = new StreamLineSink(stalled, 20);
    const before = droppedLogLines();
    sink.write('line 1\n');
    sink.write('line 2\nline 3\n');
    assert.equal(droppedLogLines() - before, 2, 'over the 20 buffered bytes: dropped and counted');
    assert.deepEqual(written, ['line 1\n']);

    // A reader that is gone (EPIPE).
    const failing = new Writable({ write: (_chunk, _encoding, done) => done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })) });
    const broken = new StreamLineSink(failing, 1000);
    broken.write('a\n');
    await new Promise((resolve) => setImmediate(resolve));
    broken.write('b\nc\n');
    assert.equal(droppedLogLines() - before, 5, 'the failed write and everything after it');
    broken.flushSync();
  });
});
