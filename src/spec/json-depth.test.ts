import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mayNestDeeperThan, nestsDeeperThan } from './json-depth.ts';

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

describe('mayNestDeeperThan', () => {
  it('is false only when the text has no more openers than the limit', () => {
    assert.equal(mayNestDeeperThan('{"a":[1,{"b":"x"}]}', 3), false);
    assert.equal(mayNestDeeperThan('{"a":[1,{"b":"x"}]}', 2), true);
    assert.equal(mayNestDeeperThan('[[[]]]', 3), false);
    assert.equal(mayNestDeeperThan('[[[[]]]]', 3), true);
  });

  it('never says no for a text that nests too deeply (openers in strings only add to the count)', () => {
    for (const text of ['['.repeat(129) + ']'.repeat(129), '{"a":'.repeat(129) + '1' + '}'.repeat(129), '{"s":"{[{[","a":[[[]]]}']) {
      if (nestsDeeperThan(JSON.parse(text), 128)) assert.equal(mayNestDeeperThan(text, 128), true, text.slice(0, 20));
    }
    assert.equal(mayNestDeeperThan('{"s":"{[{[","a":[[[]]]}', 5), true);
    assert.equal(nestsDeeperThan(JSON.parse('{"s":"{[{[","a":[[[]]]}'), 5), false);
  });
});
