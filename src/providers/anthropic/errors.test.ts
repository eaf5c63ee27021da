import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anthropicErrorBody, anthropicErrorToUpstreamError, statusForAnthropicErrorType } from './errors.ts';

function anthropicError(type: string, message: string) {
  return { type: 'error', error: { type, message }, request_id: 'req_1' };
}

test('each Anthropic error type answers its HTTP status with the type kept as code', () => {
  const cases: [string, number, string][] = [
    ['invalid_request_error', 400, 'invalid_request_error'],
    ['authentication_error', 401, 'authentication_error'],
    ['permission_error', 403, 'permission_error'],
    ['not_found_error', 404, 'not_found_error'],
    ['request_too_large', 413, 'invalid_request_error'],
    ['rate_limit_error', 429, 'rate_limit_error'],
    ['api_error', 500, 'api_error'],
    ['overloaded_error', 503, 'server_error'],
  ];
  for (const [type, status, openAIType] of cases) {
    const error = anthropicErrorToUpstreamError({ body: anthropicError(type, `${type} happened`) });
    assert.equal(error.httpStatus, status, type);
    assert.deepEqual(error.toBody(), { error: { message: `${type} happened`, type: openAIType, param: null, code: type } });
  }
});

test('an HTTP 529 overloaded answer becomes a retryable 503', () => {
  const error = anthropicErrorToUpstreamError({ httpStatus: 529, body: anthropicError('overloaded_error', 'Overloaded') });
  assert.equal(error.httpStatus, 503);
  assert.equal(error.isRetryable, true);
});

test('rate limits are retryable and pass retry-after on; invalid requests are not retryable', () => {
  const limited = anthropicErrorToUpstreamError({ httpStatus: 429, body: anthropicError('rate_limit_error', 'slow down'), retryAfter: '7' });
  assert.equal(limited.isRetryable, true);
  assert.deepEqual(limited.headers, { 'retry-after': '7' });
  const invalid = anthropicErrorToUpstreamError({ httpStatus: 400, body: anthropicError('invalid_request_error', 'bad') });
  assert.equal(invalid.isRetryable, false);
  assert.deepEqual(invalid.headers, {});
});

test('the HTTP status wins over the error type, and a body that is not Anthropic JSON still yields an error', () => {
  assert.equal(anthropicErrorToUpstreamError({ httpStatus: 400, body: anthropicError('api_error', 'odd') }).httpStatus, 400);
  const opaque = anthropicErrorToUpstreamError({ httpStatus: 502, body: 'Bad Gateway' });
  assert.equal(opaque.httpStatus, 502);
  assert.equal(opaque.type, 'api_error');
  assert.match(opaque.message, /502/);
});

test('an errored batch result body is OpenAI\'s envelope with the status of its type', () => {
  assert.deepEqual(anthropicErrorBody(anthropicError('not_found_error', 'no such model')), {
    status: 404,
    body: { error: { message: 'no such model', type: 'not_found_error', param: null, code: 'not_found_error' } },
  });
  // Older result lines carry the bare error object.
  assert.equal(anthropicErrorBody({ type: 'rate_limit_error', message: 'x' }).status, 429);
  assert.equal(statusForAnthropicErrorType('made_up_error'), null);
});
