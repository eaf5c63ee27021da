/**
 * The HTTP layer in isolation (Fastify's `inject()`, no sockets on our side): auth, the error
 * envelope for every kind of failure, request ids, validation, health and metrics.
 *
 * Every part is real: the config is parsed from LiteLLM YAML, the services (router, keys on an
 * in-memory SQLite database, metrics, managed files and batches) are built by `createServices`,
 * and the only double is the OpenAI simulator standing in for the remote upstream. The two
 * test-only route modules below add a route that throws and a tap on the raw responses (to make a
 * client go away); they stand in for nothing of ours.
 */
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parseConfig } from '../config/load-config.ts';
import { createLogger } from '../observability/logger.ts';
import { openDatabase, type Database } from '../storage/database.ts';
import { startOpenAISimulator, type OpenAISimulator } from '../../test/simulators/openai-simulator.ts';
import { NotFoundError } from '../spec/errors.ts';
import { buildApp } from './app.ts';
import { ROUTE_MODULES } from './routes/index.ts';
import type { AppServices, RouteModule } from './services.ts';
import { createServices } from './start.ts';

const MASTER = 'sk-master-app-test';
const UPSTREAM_KEY = 'sk-upstream-secret-abcdefghijklmnop';
const STARTED_AT = 1_700_000_000;
const CHAT_PATH = /^\/v1\/chat\/completions$/;

/** Two model groups on the simulated OpenAI; the upstream key comes from the environment. */
function configYaml(upstream: OpenAISimulator, storageDir: string): string {
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstream.url}
      api_key: os.environ/APP_TEST_UPSTREAM_KEY
  - model_name: other-model
    litellm_params:
      model: openai/other-model
      api_base: ${upstream.url}
      api_key: os.environ/APP_TEST_UPSTREAM_KEY
general_settings:
  master_key: ${MASTER}
router_settings:
  num_retries: 0
  timeout: 30
  # The upstream 401 below must not cool the only gpt-4o-mini deployment down for later tests.
  allowed_fails: 1000
  cooldown_time: 1
portico_settings:
  files:
    storage_dir: ${storageDir}
`;
}

/** A route whose handler hits a bug: what an unexpected exception looks like to the app. */
const boomRoutes: RouteModule = {
  name: 'boom',
  register(app) {
    app.get('/boom', () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x') at /srv/portico/src/x.ts:1:1");
    });
    // A download route that had described its body before failing.
    app.get('/boom-after-headers', (_request, reply) => {
      reply.header('content-type', 'application/octet-stream').header('content-length', '100000').header('content-disposition', 'attachment; filename="x.bin"');
      throw new NotFoundError('No such File object: file-x');
    });
  },
};

/** Keeps each request's raw response by request id, so a test can close it as a leaving client would. */
function responseTap(responses: Map<string, ServerResponse>): RouteModule {
  return {
    name: 'response-tap',
    register(app) {
      app.addHook('onRequest', (request, reply, done) => {
        responses.set(request.id, reply.raw);
        done();
      });
    },
  };
}

async function until(condition: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('HTTP layer', () => {
  let app: FastifyInstance;
  let database: Database;
  let services: AppServices;
  let upstream: OpenAISimulator;
  let storageDir: string;
  const logLines: string[] = [];
  const responses = new Map<string, ServerResponse>();
  const auth = { authorization: `Bearer ${MASTER}` };
  const hello = [{ role: 'user', content: 'hello' }];

  before(async () => {
    upstream = await startOpenAISimulator({ apiKey: UPSTREAM_KEY });
    storageDir = await mkdtemp(join(tmpdir(), 'portico-app-test-'));
    const config = parseConfig(configYaml(upstream, storageDir), { APP_TEST_UPSTREAM_KEY: UPSTREAM_KEY });
    database = await openDatabase('file::memory:');
    // Debug level: a request ended by its client is logged at debug (see the disconnect test).
    const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void logLines.push(line) } });
    services = { ...(await createServices(config, database, logger)), startedAt: STARTED_AT };
    app = await buildApp(services, { bodyLimitBytes: 64 * 1024, routes: [...ROUTE_MODULES, boomRoutes, responseTap(responses)] });
  });
  after(async () => {
    await app?.close();
    await database?.close();
    await upstream?.close();
    if (storageDir) await rm(storageDir, { recursive: true, force: true });
  });

  function errorOf(response: { json(): unknown }) {
    const body = response.json() as { error: { message: string; type: string; param: string | null; code: string | null } };
    assert.deepEqual(Object.keys(body), ['error']);
    assert.deepEqual(Object.keys(body.error).sort(), ['code', 'message', 'param', 'type']);
    return body.error;
  }

  function upstreamChatRequests() {
    return upstream.requests.filter((request) => request.method === 'POST' && CHAT_PATH.test(request.path));
  }

  /** The request lines (`msg: "request"`) of one request id. */
  function requestLinesOf(requestId: string): string[] {
    return logLines.filter((line) => line.includes(`"req_id":"${requestId}"`) && line.includes('"msg":"request"'));
  }

  it('refuses a route that declares a Fastify schema: input is validated with zod', async () => {
    const withSchema: RouteModule = {
      name: 'with-schema',
      register(instance) {
        instance.post('/schema-route', { schema: { body: { type: 'object' } } }, async () => ({}));
      },
    };
    const other = await buildApp(services, { routes: [withSchema] });
    try {
      await assert.rejects(async () => {
        await other.ready();
      }, /route schemas are not used in Portico/);
    } finally {
      await other.close().catch(() => undefined);
    }
  });

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
    const response = await app.inject({ method: 'POST', url: '/chat/completions', headers: auth, payload: { model: 'gpt-4o-mini', messages: hello } });
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

  it('answers JSON nested thousands of levels deep with 400, not a stack overflow when it is sent upstream', async () => {
    const depth = 10_000;
    const response = await app.inject({
      method: 'POST',
      url: '/v1/chat/completions',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: `{"model":"gpt-4o-mini","messages":${'['.repeat(depth)}${']'.repeat(depth)}}`,
    });
    assert.equal(response.statusCode, 400, response.body);
    assert.deepEqual(errorOf(response), { message: 'The JSON body is nested more than 128 levels deep.', type: 'invalid_request_error', param: null, code: 'invalid_json' });
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
    const sentBefore = upstreamChatRequests().length;
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-9-imaginary', messages: hello } });
    assert.equal(response.statusCode, 404);
    const error = errorOf(response);
    assert.equal(error.code, 'model_not_found');
    assert.equal(error.param, 'model');
    assert.match(error.message, /gpt-9-imaginary/);
    assert.equal(upstreamChatRequests().length, sentBefore, 'an unknown model is refused without an upstream call');
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
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'x-request-id': 'forward-me-1' }, payload: { model: 'gpt-4o-mini', messages: hello } });
    assert.equal(response.statusCode, 200);
    const sent = upstreamChatRequests().at(-1);
    assert.equal(sent?.headers['x-client-request-id'], 'forward-me-1');
    assert.equal(sent?.headers.authorization, `Bearer ${UPSTREAM_KEY}`);
  });

  it('aborts the upstream call when the client goes away before the answer', async () => {
    // Kept short: the simulator's wait still runs after the abort and holds the process that long.
    upstream.setLatency(3_000);
    try {
      const answered = app
        .inject({ method: 'POST', url: '/v1/chat/completions', headers: { ...auth, 'x-request-id': 'gone-1' }, payload: { model: 'gpt-4o-mini', messages: hello } })
        .then(
          () => 'answered',
          () => 'closed',
        );
      await until(() => upstreamChatRequests().some((request) => request.headers['x-client-request-id'] === 'gone-1'), 'the upstream call');
      const response = responses.get('gone-1');
      assert.ok(response, 'the tap saw the request');
      response.destroy();
      assert.equal(await answered, 'closed');
      // The route only ends (and logs this) once its upstream call was aborted: without the abort
      // it would still be waiting out the simulator's 3 s latency when this wait gives up.
      await until(() => logLines.some((line) => line.includes('"req_id":"gone-1"') && line.includes('request ended by the client')), 'the aborted upstream call', 2_000);
      const [line] = requestLinesOf('gone-1');
      assert.equal(JSON.parse(line).status, 499);
    } finally {
      upstream.setLatency(0);
    }
  });

  it('keeps an upstream status and message but never the upstream key', async () => {
    upstream.failNext({
      status: 401,
      match: { method: 'POST', path: CHAT_PATH },
      body: { error: { message: `Incorrect API key provided: ${UPSTREAM_KEY}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    });
    const response = await app.inject({ method: 'POST', url: '/v1/chat/completions', headers: auth, payload: { model: 'gpt-4o-mini', messages: hello } });
    assert.equal(response.statusCode, 401);
    assert.match(errorOf(response).message, /Incorrect API key provided/);
    assert.doesNotMatch(response.body, new RegExp(UPSTREAM_KEY));
  });

  it('hides an unexpected exception behind a generic 500 and logs it', async () => {
    const response = await app.inject({ method: 'GET', url: '/boom', headers: { ...auth, 'x-request-id': 'bug-1' } });
    assert.equal(response.statusCode, 500);
    const error = errorOf(response);
    assert.equal(error.type, 'server_error');
    assert.doesNotMatch(response.body, /srv\/portico|Cannot read|\.ts/);
    assert.ok(logLines.some((line) => line.includes('"req_id":"bug-1"') && line.includes('Cannot read properties')));
  });

  it('answers an error in JSON even when the handler had set a binary body type and length', async () => {
    const response = await app.inject({ method: 'GET', url: '/boom-after-headers', headers: auth });
    assert.equal(response.statusCode, 404);
    assert.match(String(response.headers['content-type']), /^application\/json/);
    assert.equal(Number(response.headers['content-length']), Buffer.byteLength(response.body));
    assert.equal(response.headers['content-disposition'], undefined);
    assert.equal(errorOf(response).message, 'No such File object: file-x');
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
    const response = await app.inject({ method: 'POST', url: '/key/generate', headers: auth, payload: { allowed_cache_controls: ["no-cache"] } });
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
    assert.deepEqual(visible.json(), { id: 'gpt-4o-mini', object: 'model', created: STARTED_AT, owned_by: 'portico' });
    const hidden = await app.inject({ method: 'GET', url: '/v1/models/other-model', headers: { authorization: `Bearer ${key}` } });
    assert.equal(hidden.statusCode, 404);
  });
});
