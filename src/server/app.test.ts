/**
 * The HTTP layer in isolation (Fastify's `inject()`, no sockets): auth, the error envelope for
 * every kind of failure, request ids, validation, health and metrics. The router is a small fake
 * here; the real one is exercised end to end in test/e2e.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { PorticoConfig } from '../config/types.ts';
import { KeyService } from '../auth/key-service.ts';
import { createLogger } from '../observability/logger.ts';
import { GatewayMetrics } from '../observability/metrics.ts';
import type { Router } from '../routing/router.ts';
import { UpstreamError } from '../spec/errors.ts';
import type { CallOptions, ProviderClient } from '../spec/provider.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { KeyStore } from '../storage/key-store.ts';
import { buildApp } from './app.ts';
import { ROUTE_MODULES } from './routes/index.ts';
import type { AppServices } from './services.ts';

const MASTER = 'sk-master-app-test';
const UPSTREAM_KEY = 'sk-upstream-secret-abcdefghijklmnop';

const config = {
  deployments: [{ id: 'd1', modelGroup: 'gpt-4o-mini', apiKey: UPSTREAM_KEY }, { id: 'd2', modelGroup: 'other-model', apiKey: UPSTREAM_KEY }],
  masterKey: MASTER,
  router: {},
  files: {},
  warnings: [],
} as unknown as PorticoConfig;

/** Answers chat completions with the request id it was given; fails on demand. */
function fakeRouter(calls: CallOptions[]): Router {
  const client = {
    deployment: config.deployments[0],
    async chatCompletions(_body: Record<string, unknown>, options: CallOptions = {}) {
      calls.push(options);
      if (_body.fail === 'upstream-401') {
        throw new UpstreamError(401, { message: `Incorrect API key provided: ${UPSTREAM_KEY}`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' });
      }
      if (_body.fail === 'bug') throw new TypeError("Cannot read properties of undefined (reading 'x') at /srv/portico/src/x.ts:1:1");
      return { status: 200, body: { id: 'chatcmpl-1', object: 'chat.completion', choices: [] } };
    },
  } as unknown as ProviderClient;
  const groups = ['gpt-4o-mini', 'other-model'];
  return {
    hasModelGroup: (group: string) => groups.includes(group),
    modelGroups: () => groups,
    send: <T>(_group: string, call: (c: ProviderClient, o: CallOptions) => Promise<T>, options: CallOptions) =>
      call(client, { signal: options.signal, requestId: options.requestId }),
  } as unknown as Router;
}

describe('HTTP layer', () => {
  let app: FastifyInstance;
  let database: Database;
  let services: AppServices;
  const calls: CallOptions[] = [];
  const logLines: string[] = [];
  const auth = { authorization: `Bearer ${MASTER}` };

  before(async () => {
    database = await openDatabase('file::memory:');
    const logger = createLogger({ destination: { write: (line: string) => void logLines.push(line) } });
    services = {
      config,
      database,
      router: fakeRouter(calls),
      keys: new KeyService(new KeyStore(database), { masterKey: MASTER }),
      metrics: new GatewayMetrics({ collectDefaultMetrics: false }),
      logger,
      startedAt: 1_700_000_000,
    };
    // Managed files and batches need their own services; they have their own suites.
    const routes = ROUTE_MODULES.filter((module) => module.name !== 'files' && module.name !== 'batches');
    app = await buildApp(services, { bodyLimitBytes: 64 * 1024, routes });
  });
  after(async () => {
    await app.close();
    await database.close();
  });

  function errorOf(response: { json(): unknown }) {
    const body = response.json() as { error: { message: string; type: string; param: string | null; code: string | null } };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    return body.error;
  }

  it('answers a request without a key with 401 in the envelope', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', payload: { model: 'gpt-4o-mini', messages: [] } });
    assert.equal(response.statusCode, 401);
    assert.equal(errorOf(response).type, 'authentication_error');
  });

  it('accepts the key in the api-key header as Azure clients send it', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/models', headers: { 'api-key': MASTER } });
    assert.equal(response.statusCode, 200);
  });

  it('serves the same routes without the /v1 prefix', async () => {
    const response = await app.inject({ method: 'POST', url: '/chat/completions', headers: auth, payload: { model: 'gpt-4o-mini', messages: [] } });
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().object, 'chat.completion');
  });

  it('answers malformed JSON with 400 invalid_request_error', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"model": "gpt-4o-mini", "messages": [',
    });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response).type, 'invalid_request_error');
  });

  it('answers a body over the limit with 413 in the envelope', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: auth,
      payload: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(100 * 1024) }] },
    });
    assert.equal(response.statusCode, 413);
    errorOf(response);
  });

  it('answers an unsupported content type with 415 in the envelope', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/xml' },
      payload: '<chat/>',
    });
    assert.equal(response.statusCode, 415);
    errorOf(response);
  });

  it('answers an unknown route with 404 in the envelope, without echoing the query string', async () => {
    const response = await app.inject({ method: 'GET', url: '/v1/nothing-here?key=sk-secret-in-query' });
    assert.equal(response.statusCode, 404);
    const error = errorOf(response);
    assert.match(error.message, /GET \/v1\/nothing-here/);
    assert.doesNotMatch(error.message, /sk-secret-in-query/);
  });

  it('names the missing field in param: model, then messages', async () => {
    const noModel = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { messages: [] } });
    assert.equal(noModel.statusCode, 400);
    assert.equal(errorOf(noModel).param, 'model');
    assert.equal(errorOf(noModel).code, 'missing_required_parameter');
    const noMessages = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-4o-mini' } });
    assert.equal(noMessages.statusCode, 400);
    assert.equal(errorOf(noMessages).param, 'messages');
    const wrongType = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-4o-mini', messages: 'hi' } });
    assert.equal(errorOf(wrongType).code, 'invalid_type');
  });

  it('answers an unknown model with 404 model_not_found naming it', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-9-imaginary', messages: [] } });
    assert.equal(response.statusCode, 404);
    const error = errorOf(response);
    assert.equal(error.code, 'model_not_found');
    assert.equal(error.param, 'model');
    assert.match(error.message, /gpt-9-imaginary/);
  });

  it('returns x-request-id, keeps a sane incoming one and replaces an unsafe one', async () => {
    const minted = await app.inject({ method: 'GET', url: '/health/liveliness' });
    assert.match(String(minted.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    const kept = await app.inject({ method: 'GET', url: '/health/liveliness', headers: { 'x-request-id': 'trace-abc.123' } });
    assert.equal(kept.headers['x-request-id'], 'trace-abc.123');
    const replaced = await app.inject({ method: 'GET', url: '/health/liveliness', headers: { 'x-request-id': 'evil\nlog line' } });
    assert.notEqual(replaced.headers['x-request-id'], 'evil\nlog line');
  });

  it('forwards the request id to the upstream call', async () => {
    await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'x-request-id': 'forward-me-1' }, payload: { model: 'gpt-4o-mini', messages: [] } });
    assert.equal(calls.at(-1)?.requestId, 'forward-me-1');
    assert.ok(calls.at(-1)?.signal instanceof AbortSignal);
  });

  it('keeps an upstream status and message but never the upstream key', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-4o-mini', messages: [], fail: 'upstream-401' } });
    assert.equal(response.statusCode, 401);
    assert.match(errorOf(response).message, /Incorrect API key provided/);
    assert.doesNotMatch(response.body, new RegExp(UPSTREAM_KEY));
  });

  it('hides an unexpected exception behind a generic 500 and logs it', async () => {
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'x-request-id': 'bug-1' }, payload: { model: 'gpt-4o-mini', messages: [], fail: 'bug' } });
    assert.equal(response.statusCode, 500);
    const error = errorOf(response);
    assert.equal(error.type, 'server_error');
    assert.doesNotMatch(response.body, /srv\/portico|Cannot read|\.ts/);
    assert.ok(logLines.some((line) => line.includes('"req_id":"bug-1"') && line.includes('Cannot read properties')));
  });

  it('writes one request line with id, route, model, status and duration, and no key or prompt', async () => {
    await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'x-request-id': 'line-1' },
      payload: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'my secret prompt' }] },
    });
    const lines = logLines.filter((line) => line.includes('"req_id":"line-1"'));
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]);
    assert.equal(entry.msg, 'request');
    assert.equal(entry.route, '/v1/chat/completions');
    assert.equal(entry.model, 'gpt-4o-mini');
    assert.equal(entry.status, 200);
    assert.equal(typeof entry.duration_ms, 'number');
    assert.doesNotMatch(lines[0], /my secret prompt|sk-master-app-test/);
  });

  it('serves health probes without a key; readiness reflects the database', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/health/liveliness' })).statusCode, 200);
    const ready = await app.inject({ method: 'GET', url: '/health/readiness' });
    assert.equal(ready.statusCode, 200);
  });

  it('requires the master key for /metrics and exposes the overhead histogram', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/metrics' })).statusCode, 401);
    const { key } = (await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: {} })).json();
    const forbidden = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${key}` } });
    assert.equal(forbidden.statusCode, 403);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    assert.equal(metrics.statusCode, 200);
    assert.match(metrics.headers['content-type'] as string, /text\/plain/);
    assert.match(metrics.body, /portico_overhead_seconds_bucket\{le="[^"]+",route="\/v1\/chat\/completions"\}/);
    assert.match(metrics.body, /portico_requests_total\{route="\/v1\/chat\/completions",model="gpt-4o-mini",status="200"\} \d+/);
  });

  it('refuses LiteLLM key fields Portico does not enforce rather than ignoring them', async () => {
    const response = await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { max_budget: 10 } });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response).code, 'unknown_parameter');
  });

  it('refuses a key for a model group that is not configured', async () => {
    const response = await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { models: ['gpt-4o-mini', 'typo-model'] } });
    assert.equal(response.statusCode, 400);
    assert.match(errorOf(response).message, /typo-model/);
  });

  it('refuses a malformed duration', async () => {
    const response = await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { duration: '30 days' } });
    assert.equal(response.statusCode, 400);
    assert.equal(errorOf(response).param, 'duration');
  });

  it('lets a virtual key read its own info but not another key, and never shows the secret', async () => {
    const mine = (await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { key_alias: 'mine' } })).json();
    const other = (await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: {} })).json();
    const own = await app.inject({ method: 'GET', url: `/key/info?key=${mine.key}`, headers: { authorization: `Bearer ${mine.key}` } });
    assert.equal(own.statusCode, 200);
    assert.equal(own.json().info.key_alias, 'mine');
    assert.doesNotMatch(own.body, new RegExp(mine.key));
    const implicit = await app.inject({ method: 'GET', url: '/key/info', headers: { authorization: `Bearer ${mine.key}` } });
    assert.equal(implicit.json().info.token, mine.token);
    const foreign = await app.inject({ method: 'GET', url: `/key/info?key=${other.key}`, headers: { authorization: `Bearer ${mine.key}` } });
    assert.equal(foreign.statusCode, 403);
    const byMaster = await app.inject({ method: 'GET', url: `/key/info?key=${other.token}`, headers: auth });
    assert.equal(byMaster.statusCode, 200);
    assert.equal(byMaster.json().info.token, other.token);
  });

  it('answers a retrieve of a model the key may not see with 404', async () => {
    const { key } = (await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { models: ['gpt-4o-mini'] } })).json();
    const visible = await app.inject({ method: 'GET', url: '/v1/models/gpt-4o-mini', headers: { authorization: `Bearer ${key}` } });
    assert.equal(visible.statusCode, 200);
    assert.deepEqual(visible.json(), { id: 'gpt-4o-mini', object: 'model', created: 1_700_000_000, owned_by: 'portico' });
    const hidden = await app.inject({ method: 'GET', url: '/v1/models/other-model', headers: { authorization: `Bearer ${key}` } });
    assert.equal(hidden.statusCode, 404);
  });
});
