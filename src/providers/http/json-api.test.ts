import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamError } from '../../spec/errors.ts';
import { ERROR_BODY_LIMIT, errorStatusOf, isSuccessStatus, parseJsonAnswer, readErrorText } from './json-api.ts';
import type { UpstreamBody } from './request.ts';

test('only 2xx is success; an error below 400 is reported as a bad gateway', () => {
  assert.deepEqual([199, 200, 204, 299, 300].map(isSuccessStatus), [false, true, true, true, false]);
  assert.deepEqual([101, 302, 304, 400, 429, 503].map(errorStatusOf), [502, 502, 502, 400, 429, 503]);
});

test('an error body is read within the bound, and one that cannot be read is empty', async () => {
  const limits: (number | undefined)[] = [];
  const body = (text: () => Promise<string>) => ({ text: (max?: number) => (limits.push(max), text()) }) as unknown as UpstreamBody;
  assert.equal(await readErrorText(body(async () => '{"error":{}}')), '{"error":{}}');
  assert.equal(await readErrorText(body(async () => Promise.reject(new Error('too large')))), '');
  assert.deepEqual(limits, [ERROR_BODY_LIMIT, ERROR_BODY_LIMIT]);
});

test('a success body that is not JSON is a retryable 502 bad_upstream_response of the deployment', () => {
  assert.deepEqual(parseJsonAnswer('{"a":1}', 'unused', 'd1'), { a: 1 });
  assert.throws(
    () => parseJsonAnswer('<html>', 'X answered the call with a body that is not JSON.', 'd1'),
    (error: unknown) =>
      error instanceof UpstreamError &&
      error.httpStatus === 502 &&
      error.isRetryable &&
      error.deploymentId === 'd1' &&
      error.toBody().error.code === 'bad_upstream_response' &&
      error.toBody().error.message === 'X answered the call with a body that is not JSON.',
  );
});
