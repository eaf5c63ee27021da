import assert from 'node:assert/strict';
import { it } from 'node:test';
import { echoValue } from './echo-value.ts';

it('quotes any parsed JSON value, own toString keys included, without throwing', () => {
  const hostile = JSON.parse('{"toString": "x", "valueOf": 1}') as unknown;
  assert.throws(() => String(hostile), TypeError, 'what the plain conversion does');
  assert.equal(echoValue(hostile), '{"toString":"x","valueOf":1}');
  assert.equal(echoValue('GET'), 'GET');
  assert.equal(echoValue(null), 'null');
  assert.equal(echoValue(undefined), 'undefined');
  assert.equal(echoValue('x'.repeat(200), 10), 'xxxxxxxxxx...');
});
