import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { errorToResponse } from './error-to-response.ts';
import { UNDECIDED, quickJsonParse, useQuickJsonBodyParser } from './json-body-parser.ts';

describe('the JSON body parser', () => {
  it('parses an ordinary body alone, and defers anything that needs secure-json-parse', () => {
    assert.deepEqual(quickJsonParse('{"model":"m","messages":[{"role":"user","content":"hi"}]}'), { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(quickJsonParse('3'), 3);
    for (const text of ['', '\uFEFF{}', '{"a":', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '{"\\u005f_proto__":{}}', '{"a":"proto"}']) {
      assert.equal(quickJsonParse(text), UNDECIDED, text);
    }
  });

  it('answers exactly as Fastify\'s default parser does, for every body it does not refuse', async () => {
    const bodies = [
      '{"model":"m"}',
      'not json',
      '{"constructor":"just a string"}',
      '\uFEFF{"bom":true}',
      '[1,2]',
    ];
    const build = async (quick: boolean) => {
      const app = Fastify();
      if (quick) useQuickJsonBodyParser(app);
      app.post('/', async (request) => ({ body: request.body }));
      await app.ready();
      return app;
    };
    const [quick, stock] = await Promise.all([build(true), build(false)]);
    try {
      for (const payload of bodies) {
        const inject = (app: typeof quick) => app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json; charset=utf-8' }, payload });
        const [ours, theirs] = await Promise.all([inject(quick), inject(stock)]);
        assert.equal(ours.statusCode, theirs.statusCode, payload);
        assert.equal(ours.body, theirs.body, payload);
      }
    } finally {
      await Promise.all([quick.close(), stock.close()]);
    }
  });

  it("takes an empty body as none, as OpenAI does (the Python SDK's bodiless POSTs and DELETEs say application/json)", async () => {
    const app = Fastify();
    useQuickJsonBodyParser(app);
    app.post('/', async (request) => ({ none: request.body === undefined }));
    app.delete('/', async (request) => ({ none: request.body === undefined }));
    await app.ready();
    try {
      for (const method of ['POST', 'DELETE'] as const) {
        const reply = await app.inject({ method, url: '/', headers: { 'content-type': 'application/json' }, payload: '' });
        assert.equal(reply.statusCode, 200, method);
        assert.deepEqual(reply.json(), { none: true });
      }
    } finally {
      await app.close();
    }
  });

  it('refuses a __proto__ or constructor key (however spelled) with a 400 that names the key, and pollutes nothing', async () => {
    const app = Fastify();
    useQuickJsonBodyParser(app);
    app.setErrorHandler((error, _request, reply) => {
      const response = errorToResponse(error);
      void reply.code(response.status).send(response.body);
    });
    app.post('/', async (request) => ({ body: request.body }));
    await app.ready();
    try {
      const cases: Array<[string, string]> = [
        ['{"__proto__":{"polluted":true}}', '__proto__'],
        ['{"\\u005f_proto__":{"polluted":true}}', '__proto__'],
        ['{"model":"m","x":{"constructor":{"prototype":{"polluted":true}}}}', 'constructor'],
      ];
      for (const [payload, key] of cases) {
        const reply = await app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload });
        assert.equal(reply.statusCode, 400, payload);
        assert.deepEqual(reply.json().error, { message: `The JSON body may not contain a '${key}' key.`, type: 'invalid_request_error', param: null, code: 'invalid_json' }, payload);
      }
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      const unparseable = await app.inject({ method: 'POST', url: '/', headers: { 'content-type': 'application/json' }, payload: '{"__proto__":' });
      assert.equal(unparseable.statusCode, 400);
      assert.match(unparseable.json().error.message, /^We could not parse the JSON body/, 'invalid JSON is still said as unparseable');
    } finally {
      await app.close();
    }
  });
});
