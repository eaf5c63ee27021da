import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SLOW_START, msUntilNextStep, slowStartLimit } from './batch-engine-slow-start.ts';

const settings = { ...DEFAULT_SLOW_START, initial: 4, stepMs: 50 };

describe('slow start of a batch lane', () => {
  it('doubles the calls allowed every step, up to the concurrency', () => {
    const allowed = [0, 49, 50, 99, 100, 150, 200, 250, 10_000].map((ms) => slowStartLimit(64, ms, settings));
    assert.deepEqual(allowed, [4, 4, 8, 8, 16, 32, 64, 64, 64]);
  });

  it('never allows more than the concurrency, even at the start', () => {
    assert.equal(slowStartLimit(2, 0, settings), 2);
    assert.equal(slowStartLimit(6, 50, settings), 6);
  });

  it('is off with an initial allowance of 0', () => {
    assert.equal(slowStartLimit(64, 0, { ...settings, initial: 0 }), 64);
  });

  it('says when the allowance next grows, and nothing once it is whole', () => {
    assert.equal(msUntilNextStep(64, 0, settings), 50);
    assert.equal(msUntilNextStep(64, 120, settings), 30);
    assert.equal(msUntilNextStep(64, 200, settings), undefined);
    assert.equal(msUntilNextStep(2, 0, settings), undefined);
  });
});
