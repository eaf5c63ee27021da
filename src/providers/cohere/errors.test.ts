import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cohereErrorToUpstreamError } from './errors.ts';

const RATE_LIMITED = "You are using a Trial key, which is limited to 20 API calls / minute. You can continue to use the Trial key for free or upgrade to a Production key with higher rate limits at 'https://dashboard.cohere.com/api-keys'.";

test("Cohere's {id, message} body keeps its status and message in OpenAI's envelope", () => {
  const error = cohereErrorToUpstreamError({ httpStatus: 400, body: { id: 'a1b2', message: 'invalid request: p must be between 0.01 and 0.99, inclusive' }, deploymentId: 'dep' });
  assert.equal(error.httpStatus, 400);
  assert.deepEqual(error.toBody(), {
    error: { message: 'invalid request: p must be between 0.01 and 0.99, inclusive', type: 'invalid_request_error', param: null, code: null },
  });
  assert.equal(error.isRetryable, false);
  assert.equal(error.deploymentId, 'dep');
});

test('a 429 is a retryable rate_limit_error that passes retry-after on', () => {
  const error = cohereErrorToUpstreamError({ httpStatus: 429, body: { id: 'x', message: RATE_LIMITED }, retryAfter: '7' });
  assert.equal(error.httpStatus, 429);
  assert.equal(error.type, 'rate_limit_error');
  assert.equal(error.code, 'rate_limit_exceeded');
  assert.equal(error.message, RATE_LIMITED);
  assert.equal(error.isRetryable, true);
  assert.deepEqual(error.headers, { 'retry-after': '7' });
});

test('401 and 498 (a blocked or expired token) are both authentication errors with invalid_api_key', () => {
  for (const status of [401, 498]) {
    const error = cohereErrorToUpstreamError({ httpStatus: status, body: { id: 'x', message: 'invalid api token' } });
    assert.equal(error.httpStatus, 401);
    assert.equal(error.type, 'authentication_error');
    assert.equal(error.code, 'invalid_api_key');
  }
});

test("an unknown model is a 404 model_not_found; a server error a retryable api_error", () => {
  const missing = cohereErrorToUpstreamError({ httpStatus: 404, body: { id: 'x', message: "model 'command-z' not found, make sure the correct model ID was used and that you have access to the model." } });
  assert.equal(missing.type, 'not_found_error');
  assert.equal(missing.code, 'model_not_found');
  const failed = cohereErrorToUpstreamError({ httpStatus: 503, body: { id: 'x', message: 'service unavailable' } });
  assert.equal(failed.type, 'api_error');
  assert.equal(failed.isRetryable, true);
});

test('a prompt over the context window is context_length_exceeded; a max_tokens over the model limit is not', () => {
  const tooLong = cohereErrorToUpstreamError({ httpStatus: 400, body: { id: 'x', message: "too many tokens: size limit exceeded by 11326 tokens. Try using shorter or fewer inputs, or setting prompt_truncation='AUTO'." } });
  assert.equal(tooLong.code, 'context_length_exceeded');
  const maxTokens = cohereErrorToUpstreamError({ httpStatus: 400, body: { id: 'x', message: 'too many tokens: max tokens must be less than or equal to 4096, the maximum output for this model - received 8192.' } });
  assert.equal(maxTokens.code, null);
});

test('a body that is not Cohere JSON: the text is the message, or the status speaks', () => {
  assert.equal(cohereErrorToUpstreamError({ httpStatus: 502, body: 'upstream connect error' }).message, 'upstream connect error');
  const silent = cohereErrorToUpstreamError({ httpStatus: 502, body: undefined });
  assert.equal(silent.message, 'Cohere answered with HTTP 502.');
  assert.equal(silent.type, 'api_error');
  // An error met inside a stream has no status: a retryable 500.
  const inStream = cohereErrorToUpstreamError({ body: { type: 'error', message: 'stream broke' } });
  assert.equal(inStream.httpStatus, 500);
  assert.equal(inStream.message, 'stream broke');
});
