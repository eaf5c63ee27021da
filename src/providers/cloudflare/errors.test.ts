import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cloudflareErrorToUpstreamError, isErrorEnvelope } from './errors.ts';
import { fixtureJson } from './fixtures/load.ts';

describe('Workers AI errors -> OpenAI error envelope', () => {
  it("keeps Cloudflare's status and message, its code as the code, and retry-after", () => {
    const error = cloudflareErrorToUpstreamError({ httpStatus: 429, body: fixtureJson('error-capacity.json'), retryAfter: '3', deploymentId: 'd1' });
    assert.equal(error.httpStatus, 429);
    assert.deepEqual(error.toBody(), { error: { message: 'No more data centers to forward the request to', type: 'rate_limit_error', param: null, code: '3040' } });
    assert.deepEqual(error.headers, { 'retry-after': '3' });
    assert.equal(error.isRetryable, true);
    assert.equal(error.deploymentId, 'd1');
  });

  it('maps each status to its OpenAI type', () => {
    const typeOf = (status: number) => cloudflareErrorToUpstreamError({ httpStatus: status, body: fixtureJson('error-authentication.json') }).type;
    assert.deepEqual([401, 403, 404, 408, 400, 500, 503].map(typeOf), ['authentication_error', 'permission_error', 'not_found_error', 'timeout_error', 'invalid_request_error', 'api_error', 'api_error']);
    const notFound = cloudflareErrorToUpstreamError({ httpStatus: 400, body: fixtureJson('error-no-such-model.json') });
    assert.equal(notFound.message, 'No such model @cf/meta/llama-9-instruct or task');
    assert.equal(notFound.code, '5007');
    assert.equal(notFound.isRetryable, false);
  });

  it('several errors are joined; an over-long prompt is context_length_exceeded; a body without errors says the status', () => {
    const joined = cloudflareErrorToUpstreamError({ httpStatus: 400, body: { success: false, errors: [{ code: 5006, message: 'AiError: Bad input' }, { code: 5006, message: 'second' }] } });
    assert.equal(joined.message, 'AiError: Bad input; second');
    const tooLong = cloudflareErrorToUpstreamError({ httpStatus: 400, body: { success: false, errors: [{ code: 5021, message: "The estimated number of input and maximum output tokens exceeded this model's context window limit." }] } });
    assert.equal(tooLong.code, 'context_length_exceeded');
    const bare = cloudflareErrorToUpstreamError({ httpStatus: 502, body: undefined });
    assert.equal(bare.message, 'Cloudflare Workers AI answered with HTTP 502.');
    assert.equal(bare.code, null);
  });

  it('an error without an HTTP status (in a stream) is a 500; a 2xx envelope saying success: false a 502', () => {
    assert.equal(cloudflareErrorToUpstreamError({ body: { error: 'boom' } }).httpStatus, 500);
    assert.equal(cloudflareErrorToUpstreamError({ httpStatus: 200, body: fixtureJson('error-authentication.json') }).httpStatus, 502);
    assert.equal(isErrorEnvelope(fixtureJson('error-authentication.json')), true);
    assert.equal(isErrorEnvelope(fixtureJson('run-text.json')), false);
  });
});
