import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError, UpstreamError, UpstreamTimeoutError } from '../spec/errors.ts';
import { DEFAULT_LINE_RETRY, decideLineFailure } from './batch-engine-retry.ts';

const upstream = (status: number, headers: Record<string, string> = {}) =>
  new UpstreamError(status, { message: 'x', type: 'server_error', param: null, code: null }, { headers });
const noJitter = () => 0;

describe('retries of a batch line', () => {
  it('honours retry-after and retry-after-ms on a 429, and says the upstream is rate limited', () => {
    assert.deepEqual(decideLineFailure(upstream(429, { 'retry-after': '3' }), 1, DEFAULT_LINE_RETRY, noJitter), { kind: 'retry', delayMs: 3000, rateLimited: true });
    assert.deepEqual(decideLineFailure(upstream(429, { 'retry-after-ms': '250' }), 1, DEFAULT_LINE_RETRY, noJitter), { kind: 'retry', delayMs: 250, rateLimited: true });
  });

  it('backs off exponentially on 5xx and timeouts, capped', () => {
    const settings = { ...DEFAULT_LINE_RETRY, initialDelayMs: 100, maxDelayMs: 500, maxAttempts: 10 };
    assert.deepEqual(decideLineFailure(upstream(503), 1, settings, noJitter), { kind: 'retry', delayMs: 100, rateLimited: false });
    assert.deepEqual(decideLineFailure(new UpstreamTimeoutError(), 3, settings, noJitter), { kind: 'retry', delayMs: 400, rateLimited: false });
    assert.deepEqual(decideLineFailure(upstream(500), 6, settings, noJitter), { kind: 'retry', delayMs: 500, rateLimited: false });
  });

  it('fails at once on a client error, and after the last attempt on anything', () => {
    assert.deepEqual(decideLineFailure(new InvalidRequestError('bad'), 1, DEFAULT_LINE_RETRY), { kind: 'fail' });
    assert.deepEqual(decideLineFailure(upstream(400), 1, DEFAULT_LINE_RETRY), { kind: 'fail' });
    assert.deepEqual(decideLineFailure(upstream(429), DEFAULT_LINE_RETRY.maxAttempts, DEFAULT_LINE_RETRY), { kind: 'fail' });
  });
});
