import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { holdSignal, progressReporter, watchSignal } from '../providers/http/signal-hold.ts';
import { attemptSignal } from './signals.ts';

describe('the attempt signal (client disconnect + deployment timeout)', () => {
  it('aborts with a TimeoutError once the timeout passed while the attempt runs', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const attempt = attemptSignal(undefined, 1_000);
    t.mock.timers.tick(999);
    assert.equal(attempt.signal.aborted, false);
    t.mock.timers.tick(1);
    assert.equal(attempt.signal.aborted, true);
    assert.equal((attempt.signal.reason as Error).name, 'TimeoutError');
  });

  it('counts the timeout from the last progress of a streamed body: a stream that keeps coming is not cut, a stall is', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const attempt = attemptSignal(undefined, 1_000);
    const release = holdSignal(attempt.signal);
    attempt.settle();
    const progressed = progressReporter(attempt.signal);
    for (let i = 0; i < 5; i++) {
      t.mock.timers.tick(600);
      progressed();
    }
    assert.equal(attempt.signal.aborted, false, '3 s of a stream with a chunk every 0.6 s');
    t.mock.timers.tick(999);
    assert.equal(attempt.signal.aborted, false);
    t.mock.timers.tick(1);
    assert.equal((attempt.signal.reason as Error | undefined)?.name, 'TimeoutError', 'cut 1 s after its last chunk');
    release();
  });

  it('without progress the timeout counts from the start (time to the first byte)', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const attempt = attemptSignal(undefined, 1_000);
    const release = holdSignal(attempt.signal);
    t.mock.timers.tick(1_000);
    assert.equal((attempt.signal.reason as Error | undefined)?.name, 'TimeoutError');
    release();
  });

  it('leaves no timer behind once the attempt settled: the signal never aborts afterwards', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const client = new AbortController();
    const attempt = attemptSignal(client.signal, 600_000);
    attempt.settle();
    t.mock.timers.tick(600_001);
    client.abort(new Error('client gone after the answer'));
    assert.equal(attempt.signal.aborted, false, 'neither the timer nor the client listener is left');
  });

  it('stays armed while a streamed body holds the signal, and disarms when it is released', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const client = new AbortController();
    const first = attemptSignal(client.signal, 1_000);
    const release = holdSignal(first.signal);
    first.settle();
    t.mock.timers.tick(1_000);
    assert.equal((first.signal.reason as Error | undefined)?.name, 'TimeoutError', 'the body still being read is cut at the timeout');

    const second = attemptSignal(client.signal, 1_000);
    const releaseSecond = holdSignal(second.signal);
    second.settle();
    releaseSecond();
    releaseSecond();
    t.mock.timers.tick(5_000);
    assert.equal(second.signal.aborted, false, 'released: disarmed');
    release();
  });

  it('passes the client disconnect on, with its reason, while armed', () => {
    const client = new AbortController();
    const attempt = attemptSignal(client.signal, 60_000);
    const reason = new Error('client closed');
    client.abort(reason);
    assert.equal(attempt.signal.aborted, true);
    assert.equal(attempt.signal.reason, reason);
    attempt.settle();
  });

  it('starts aborted when the client is already gone', () => {
    const client = new AbortController();
    client.abort(new Error('gone'));
    const attempt = attemptSignal(client.signal, 60_000);
    assert.equal(attempt.signal.aborted, true);
    attempt.settle();
  });

  it('a hold taken after the attempt settled re-arms the deadline for the time left', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'] });
    const attempt = attemptSignal(undefined, 1_000);
    attempt.settle();
    t.mock.timers.tick(600);
    const release = holdSignal(attempt.signal);
    t.mock.timers.tick(399);
    assert.equal(attempt.signal.aborted, false);
    t.mock.timers.tick(1);
    assert.equal((attempt.signal.reason as Error).name, 'TimeoutError');
    release();
  });

  it('tells a watcher when it aborts, and stops telling it once released', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const client = new AbortController();
    const calls: string[] = [];
    const first = attemptSignal(client.signal, 1_000);
    watchSignal(first.signal, () => calls.push(`first aborted: ${(first.signal.reason as Error).name}`));
    t.mock.timers.tick(1_000);
    const second = attemptSignal(client.signal, 1_000);
    const unwatch = watchSignal(second.signal, () => calls.push('second aborted'));
    unwatch();
    client.abort(new Error('gone'));
    assert.deepEqual(calls, ['first aborted: TimeoutError']);
  });

  it('a signal it does not own needs no hold', () => {
    const release = holdSignal(new AbortController().signal);
    assert.doesNotThrow(release);
    assert.doesNotThrow(holdSignal(undefined));
  });
});
