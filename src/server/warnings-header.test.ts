import { test } from 'node:test';
import assert from 'node:assert/strict';
import { warningsHeaderValue, warningsOf } from './warnings-header.ts';

const warning = (param: string, message = 'was dropped.') => ({ param, message });

test('entries are kept whole while they fit, the rest counted', () => {
  const value = warningsHeaderValue([warning('a'), warning('b'), warning('c')], 40);
  assert.equal(value, 'a: was dropped. | +2 more');
  assert.equal(warningsHeaderValue([warning('a'), warning('b')], 100), 'a: was dropped. | b: was dropped.');
});

test('a first entry longer than the bound is cut, never sent whole', () => {
  const value = warningsHeaderValue([warning('x'.repeat(50)), warning('b')], 30);
  assert.ok(value.length <= 30, value);
  assert.match(value, /^x+\.\.\. \| \+1 more$/);
  assert.match(warningsHeaderValue([warning('y'.repeat(50))], 20), /^y{17}\.\.\.$/);
});

test('characters a header cannot carry become ?', () => {
  assert.equal(warningsHeaderValue([warning('é\r\n€', "'é' was dropped.")]), "????: '?' was dropped.");
});

test('drop_params removals come first, then the provider\'s warnings', () => {
  assert.deepEqual(warningsOf({ droppedParams: ['n'], warnings: [warning('temperature')] }).map((w) => w.param), ['n', 'temperature']);
  assert.deepEqual(warningsOf({}), []);
});
