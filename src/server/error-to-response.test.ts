import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { errorCodes } from 'fastify';
import {
  AuthenticationError,
  CapabilityUnsupportedError,
  ConflictError,
  GatewayError,
  InvalidRequestError,
  NotFoundError,
  PayloadTooLargeError,
  PermissionDeniedError,
  PrimaryProcessUnavailableError,
  RateLimitError,
  UpstreamConnectionError,
  UpstreamError,
  UpstreamTimeoutError,
} from '../spec/errors.ts';
import { createRedactor, errorToResponse, errorToSseFrame, FASTIFY_ERRORS, inAnthropicShape } from './error-to-response.ts';

function assertEnvelope(body: unknown): void {
  assert.deepEqual(Object.keys(body as object), ['error']);
  const error = (body as { error: Record<string, unknown> }).error;
  assert.deepEqual(Object.keys(error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.type, 'string');
}

describe('errorToResponse', () => {
  const cases: { error: GatewayError; status: number; type: string; code: string | null }[] = [
    { error: new InvalidRequestError('bad', { param: 'messages' }), status: 400, type: 'invalid_request_error', code: null },
    { error: new AuthenticationError(), status: 401, type: 'authentication_error', code: 'invalid_api_key' },
    { error: new PermissionDeniedError('no'), status: 403, type: 'permission_error', code: null },
    { error: new NotFoundError('gone', { code: 'model_not_found' }), status: 404, type: 'invalid_request_error', code: 'model_not_found' },
    { error: new ConflictError('done'), status: 409, type: 'invalid_request_error', code: null },
    { error: new PayloadTooLargeError('big'), status: 413, type: 'invalid_request_error', code: null },
    { error: new RateLimitError('slow down'), status: 429, type: 'rate_limit_error', code: 'rate_limit_exceeded' },
    {
      error: new UpstreamError(503, { message: 'overloaded', type: 'server_error', param: null, code: 'overloaded' }),
      status: 503,
      type: 'server_error',
      code: 'overloaded',
    },
    { error: new UpstreamConnectionError('refused'), status: 502, type: 'api_error', code: 'upstream_connection_error' },
    { error: new UpstreamTimeoutError(), status: 504, type: 'timeout_error', code: 'timeout' },
    { error: new CapabilityUnsupportedError('no files'), status: 400, type: 'invalid_request_error', code: 'unsupported_operation' },
    { error: new PrimaryProcessUnavailableError(), status: 503, type: 'server_error', code: 'primary_process_unavailable' },
  ];
  for (const { error, status, type, code } of cases) {
    it(`renders ${error.name} as ${status} in OpenAI's envelope, keeping type, param and code`, () => {
      const response = errorToResponse(error);
      assert.equal(response.status, status);
      assertEnvelope(response.body);
      assert.equal(response.body.error.message, error.message);
      assert.equal(response.body.error.type, type);
      assert.equal(response.body.error.code, code);
      assert.equal(response.body.error.param, error.param);
      assert.equal(response.isInternal, false);
    });
  }

  it('keeps the headers a gateway error carries (retry-after)', () => {
    const response = errorToResponse(new RateLimitError('slow', { headers: { 'retry-after': '3' } }));
    assert.deepEqual(response.headers, { 'retry-after': '3' });
  });

  it("maps each of Fastify's body errors it lists to the status Fastify itself gives them", () => {
    for (const code of Object.keys(FASTIFY_ERRORS)) {
      const ErrorClass = (errorCodes as unknown as Record<string, new () => Error & { statusCode: number }>)[code];
      assert.ok(ErrorClass, `fastify no longer defines ${code}`);
      const fastifyError = new ErrorClass();
      const response = errorToResponse(fastifyError);
      assertEnvelope(response.body);
      assert.equal(response.status, fastifyError.statusCode, code);
      assert.equal(response.body.error.type, 'invalid_request_error');
      assert.doesNotMatch(response.body.error.message, /fastify|FST_/i);
    }
  });

  it('answers malformed JSON with 400 invalid_request_error and a body too large with 413', () => {
    assert.equal(errorToResponse(new errorCodes.FST_ERR_CTP_INVALID_JSON_BODY()).status, 400);
    assert.equal(errorToResponse(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()).status, 413);
    assert.equal(errorToResponse(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE()).status, 415);
  });

  it('keeps the status of other Fastify client errors without their wording', () => {
    const response = errorToResponse(new errorCodes.FST_ERR_MAX_PARAM_LENGTH('/v1/models/xxxxxxxx'));
    assert.equal(response.status, 414);
    assert.doesNotMatch(response.body.error.message, /xxxxxxxx|FST_/);
  });

  it('hides unknown errors behind a generic 500 that names the request id and leaks no detail', () => {
    const error = new Error('ECONNREFUSED /home/app/src/storage/database.ts sk-live-secret-123456');
    const response = errorToResponse(error, { requestId: 'req-42' });
    assert.equal(response.status, 500);
    assert.equal(response.isInternal, true);
    assertEnvelope(response.body);
    assert.equal(response.body.error.type, 'server_error');
    assert.match(response.body.error.message, /req-42/);
    assert.doesNotMatch(JSON.stringify(response.body), /ECONNREFUSED|database\.ts|secret|at /);
  });

  it('treats thrown non-errors as internal errors too', () => {
    assert.equal(errorToResponse('a string').status, 500);
    assert.equal(errorToResponse(undefined).status, 500);
    assert.equal(errorToResponse({ statusCode: 400 }).status, 500);
  });

  it('redacts upstream keys that an upstream echoed into its message', () => {
    const redact = createRedactor(['azure-key-0123456789', undefined]);
    const response = errorToResponse(
      new UpstreamError(401, { message: 'Incorrect API key provided: sk-proj-abcdefghijkl and azure-key-0123456789', type: 'invalid_request_error', param: null, code: 'invalid_api_key' }),
      { redact },
    );
    assert.equal(response.status, 401);
    assert.doesNotMatch(response.body.error.message, /sk-proj-abcdefghijkl|azure-key-0123456789/);
    assert.match(response.body.error.message, /\[redacted\]/);
  });

  it('answers a full disk (blob directory or SQLite file) with 507 insufficient_storage, never a 500', () => {
    const full = [
      Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' }),
      Object.assign(new Error('EDQUOT: disk quota exceeded, write'), { code: 'EDQUOT' }),
      Object.assign(new Error('database or disk is full'), { code: 'ERR_SQLITE_ERROR', errcode: 13 }),
      Object.assign(new Error('could not extend file "base/16384/16450": No space left on device'), { code: '53100' }),
    ];
    for (const error of full) {
      const response = errorToResponse(error, { requestId: 'req-1' });
      assert.equal(response.status, 507, error.message);
      assertEnvelope(response.body);
      assert.equal(response.body.error.code, 'insufficient_storage');
      assert.equal(response.body.error.type, 'server_error');
      assert.doesNotMatch(response.body.error.message, /ENOSPC|EDQUOT|disk is full|extend file/, 'the system error stays in the log');
    }
    const busy = Object.assign(new Error('database is locked'), { code: 'ERR_SQLITE_ERROR', errcode: 5 });
    assert.equal(errorToResponse(busy).status, 500);
  });

  it('frames an error as one SSE data event carrying the same envelope', () => {
    const frame = errorToSseFrame(new UpstreamConnectionError('upstream connection reset'));
    assert.match(frame, /^data: \{.*\}\n\n$/);
    const body = JSON.parse(frame.slice('data: '.length));
    assertEnvelope(body);
    assert.equal(body.error.message, 'upstream connection reset');
  });
  it('renders an error in Anthropic’s shape for Anthropic’s routes: its type by status, the upstream’s own kept, overload as 529', () => {
    assert.deepEqual(inAnthropicShape(errorToResponse(new NotFoundError('no such model'))), { status: 404, body: { type: 'error', error: { type: 'not_found_error', message: 'no such model' } } });
    const overloaded = errorToResponse(new UpstreamError(503, { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded_error' }));
    assert.deepEqual(inAnthropicShape(overloaded), { status: 529, body: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } });
    assert.equal(inAnthropicShape(errorToResponse(new Error('boom'))).body.error.type, 'api_error');
    assert.match(errorToSseFrame(new NotFoundError('gone'), { shape: 'messages-api' }), /^event: error\ndata: \{"type":"error","error":\{"type":"not_found_error","message":"gone"\}\}\n\n$/);
  });
});
