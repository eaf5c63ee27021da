import assert from 'node:assert/strict';
import { it } from 'node:test';
import { MAX_DURATION_MS, parseDurationMs } from './duration.ts';

it("reads LiteLLM's key durations in seconds, minutes, hours, days, weeks, months and years", () => {
  assert.equal(parseDurationMs('10s'), 10_000);
  assert.equal(parseDurationMs('30m'), 1_800_000);
  assert.equal(parseDurationMs('1h'), 3_600_000);
  assert.equal(parseDurationMs('30d'), 30 * 86_400_000);
  assert.equal(parseDurationMs('2w'), 14 * 86_400_000);
  assert.equal(parseDurationMs('1mo'), 30 * 86_400_000);
  assert.equal(parseDurationMs('1y'), 365 * 86_400_000);
});

it('refuses text that is not a positive duration', () => {
  for (const text of ['', '30', 'd', '0s', '-1h', '1.5h', '30 days', '1hh']) {
    assert.equal(parseDurationMs(text), undefined, text);
  }
});

it('refuses a lifetime over 1000 years, so every expiry is a representable date', () => {
  assert.equal(parseDurationMs('1000y'), MAX_DURATION_MS);
  for (const text of ['1001y', '300000y', '999999999y', '999999999mo']) assert.equal(parseDurationMs(text), undefined, text);
});
