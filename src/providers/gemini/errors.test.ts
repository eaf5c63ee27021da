import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { googleErrorToUpstreamError, googleStatusToErrorLine } from './errors.ts';

describe('Google errors -> OpenAI envelope', () => {
  it('keeps the HTTP status and maps the status word to type and code', () => {
    const error = googleErrorToUpstreamError({ httpStatus: 403, body: { error: { code: 403, message: 'denied', status: 'PERMISSION_DENIED' } } });
    assert.equal(error.httpStatus, 403);
    assert.deepEqual(error.toBody(), { error: { message: 'denied', type: 'permission_error', param: null, code: 'permission_denied' } });
  });

  it('RESOURCE_EXHAUSTED is a retryable 429 whose RetryInfo becomes retry-after', () => {
    const error = googleErrorToUpstreamError({ httpStatus: 429, body: { error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1.5s' }] } } });
    assert.equal(error.httpStatus, 429);
    assert.equal(error.type, 'rate_limit_error');
    assert.equal(error.isRetryable, true);
    assert.equal(error.headers['retry-after'], '2');
  });

  it('an invalid API key (400 API_KEY_INVALID at Google) is a 401 for OpenAI clients', () => {
    const error = googleErrorToUpstreamError({ httpStatus: 400, body: { error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT', details: [{ reason: 'API_KEY_INVALID' }] } } });
    assert.equal(error.httpStatus, 401);
    assert.equal(error.code, 'invalid_api_key');
  });

  it('a batch request Status without HTTP status takes the status its word names', () => {
    assert.equal(googleStatusToErrorLine({ code: 3, message: 'bad', status: 'INVALID_ARGUMENT' }).status, 400);
    assert.equal(googleStatusToErrorLine({ code: 429, message: 'slow down', status: 'RESOURCE_EXHAUSTED' }).status, 429);
    assert.equal(googleStatusToErrorLine({ code: 13, message: 'oops', status: 'INTERNAL' }).status, 500);
    assert.equal(googleStatusToErrorLine({ message: 'no word' }).status, 500);
  });

  it('a streamed error wrapped in an array is read', () => {
    assert.equal(googleErrorToUpstreamError({ body: [{ error: { code: 503, message: 'busy', status: 'UNAVAILABLE' } }] }).httpStatus, 503);
  });
});
