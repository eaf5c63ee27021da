import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { awsErrorToUpstreamError, errorTypeName } from './errors.ts';

describe('AWS errors -> OpenAI envelope', () => {
  it('the type is read from x-amzn-errortype, the body __type, or an event stream exception name', () => {
    assert.equal(errorTypeName('ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/'), 'ValidationException');
    assert.equal(errorTypeName('com.amazon.coral.service#UnrecognizedClientException'), 'UnrecognizedClientException');
    assert.equal(errorTypeName('throttlingException'), 'ThrottlingException');
    assert.equal(awsErrorToUpstreamError({ httpStatus: 400, body: { __type: 'ThrottlingException', message: 'x' } }).httpStatus, 429);
  });

  it('each Bedrock exception has its status, type and retryability', () => {
    const table: [string, number, string, boolean][] = [
      ['ValidationException', 400, 'invalid_request_error', false],
      ['AccessDeniedException', 403, 'permission_error', false],
      ['ResourceNotFoundException', 404, 'invalid_request_error', false],
      ['ThrottlingException', 429, 'rate_limit_error', true],
      ['ServiceQuotaExceededException', 429, 'rate_limit_error', false],
      ['ModelTimeoutException', 504, 'timeout_error', true],
      ['ModelErrorException', 502, 'api_error', true],
      ['ModelNotReadyException', 503, 'server_error', true],
      ['InternalServerException', 500, 'server_error', true],
      ['ServiceUnavailableException', 503, 'server_error', true],
      ['ExpiredTokenException', 401, 'authentication_error', false],
      ['UnrecognizedClientException', 401, 'authentication_error', false],
    ];
    for (const [type, status, openaiType, retryable] of table) {
      const error = awsErrorToUpstreamError({ httpStatus: 418, errorType: type, body: { message: `m ${type}` } });
      assert.equal(error.httpStatus, status, type);
      assert.equal(error.type, openaiType, type);
      assert.equal(error.isRetryable, retryable, type);
      assert.equal(error.message, `m ${type}`);
    }
  });

  it('an unknown type keeps the HTTP status; Message (capitalised) is read too; a too-long input is context_length_exceeded', () => {
    const unknown = awsErrorToUpstreamError({ httpStatus: 418, errorType: 'TeapotException', body: { Message: 'short and stout' } });
    assert.equal(unknown.httpStatus, 418);
    assert.equal(unknown.message, 'short and stout');
    assert.equal(unknown.code, 'TeapotException');
    const long = awsErrorToUpstreamError({ httpStatus: 400, errorType: 'ValidationException', body: { message: 'Input is too long for requested model.' } });
    assert.equal(long.code, 'context_length_exceeded');
    assert.equal(awsErrorToUpstreamError({ httpStatus: 429, body: {}, retryAfter: '3' }).headers?.['retry-after'], '3');
  });
});
