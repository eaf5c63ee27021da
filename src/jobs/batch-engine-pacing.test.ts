import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageCallMs, burstOf, DEFAULT_PACING, FRESH_PACE, startSpacingMs, takeStarts, type PaceState } from './batch-engine-pacing.ts';

const settings = { ...DEFAULT_PACING, share: 0.8, maxSpacingMs: 2, initialCallMs: 50, weight: 0.1 };

/** Starts made when `wanted` lines ask to start at each of `times` (ms), one pass each. */
function startsAt(times: number[], spacingMs: number, wanted: number, from: PaceState = FRESH_PACE): number[] {
  let state = from;
  return times.map((now) => {
    const taken = takeStarts(state, now, spacingMs, wanted);
    state = taken.state;
    return taken.starts;
  });
}

describe('pacing of a batch lane', () => {
  it('spaces starts by a share of the call time over the concurrency, at most maxSpacingMs', () => {
    assert.equal(startSpacingMs(50, 64, settings), 0.625);
    // Before a call ended, the assumed call time.
    assert.equal(startSpacingMs(undefined, 20, settings), 2);
    assert.equal(startSpacingMs(undefined, 40, settings), 1);
    // Slow calls are spaced no further than the cap: their waves are far apart already.
    assert.equal(startSpacingMs(30_000, 64, settings), 2);
    assert.equal(startSpacingMs(5, 64, settings), 0.0625);
  });

  it('is off with a share of 0', () => {
    assert.equal(startSpacingMs(50, 64, { ...settings, share: 0 }), 0);
    assert.deepEqual(startsAt([0, 0, 0], 0, 64), [64, 64, 64]);
  });

  it('lets a fresh lane start a small burst, then one start per spacing', () => {
    // 2 ms of slack at 0.5 ms: a burst of 4, then 2 per ms.
    assert.equal(burstOf(0.5), 4);
    assert.deepEqual(startsAt([0, 0, 1, 1, 2, 3.25], 0.5, 64), [4, 0, 2, 0, 2, 2]);
  });

  it('never holds more than the burst, however long the lane was idle', () => {
    assert.deepEqual(startsAt([0, 10_000], 1, 64), [2, 2]);
    assert.equal(burstOf(2), 2);
    assert.equal(burstOf(0.0625), 32);
  });

  it('says how long until the next start when it holds some back', () => {
    const first = takeStarts(FRESH_PACE, 0, 0.5, 10);
    assert.equal(first.starts, 4);
    assert.equal(first.waitMs, 0.5);
    const later = takeStarts(first.state, 0.2, 0.5, 10);
    assert.equal(later.starts, 0);
    assert.ok(Math.abs(later.waitMs - 0.3) < 1e-9, `wait ${later.waitMs}`);
    assert.equal(takeStarts(FRESH_PACE, 0, 0.5, 3).waitMs, 0, 'no wait when all wanted may start');
  });

  it('holds a wave of answers to the spacing: 64 lines wanting to start at once start over 0.8 of a call time', () => {
    const spacing = startSpacingMs(50, 64, settings);
    let state: PaceState = { tokens: 0, atMs: 0 };
    let left = 64;
    let now = 0;
    let lastStartAt = 0;
    while (left > 0) {
      const taken = takeStarts(state, now, spacing, left);
      state = taken.state;
      left -= taken.starts;
      if (taken.starts > 0) lastStartAt = now;
      now += Math.max(1, taken.waitMs); // a timer wakes at ms granularity
    }
    assert.ok(lastStartAt >= 38 && lastStartAt <= 42, `last of the wave started at ${lastStartAt} ms`);
  });

  it('averages call times, starting from the first', () => {
    assert.equal(averageCallMs(undefined, 52, settings), 52);
    assert.equal(averageCallMs(50, 60, settings), 51);
    assert.equal(averageCallMs(50, -3, settings), 45);
  });
});
