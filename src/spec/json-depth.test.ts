import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nestsDeeperThan } from './json-depth.ts';

describe('nestsDeeperThan', () => {
  it('counts arrays and objects, not scalars', () => {
    assert.equal(nestsDeeperThan('text', 0), false);
    assert.equal(nestsDeeperThan({}, 0), true);
    assert.equal(nestsDeeperThan({ a: [1, { b: 'x' }] }, 3), false);
    assert.equal(nestsDeeperThan({ a: [1, { b: 'x' }] }, 2), true);
    assert.equal(nestsDeeperThan([[], [[[]]]], 3), true);
  });

  it('walks a million levels without overflowing its own stack', () => {
    const depth = 1_000_000;
    const deep = JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;
    assert.equal(nestsDeeperThan(deep, 128), true);
    assert.equal(nestsDeeperThan(deep, depth), false);
  });
});
