import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { UNDECIDED, quickJsonParse, useQuickJsonBodyParser } from './json-body-parser.ts';

describe('the JSON body parser', () => {
  it('parses an ordinary body alone, and defers anything that needs secure-json-parse', () => {
    assert.deepEqual(quickJsonParse('{"model":"m","messages":[{"role":"user","content":"hi"}]}'), { model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(quickJsonParse('3'), 3);
    for (const text of ['', '\uFEFF{}', '{"a":', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{}}}', '{"\\u005f_proto__":{}}', '{"a":"proto"}']) {
      assert.equal(quickJsonParse(text), UNDECIDED, text);
    }
  });

  it('answers exactly as Fastify\'s default parser does', async () => {
    const bodies = [
      '{"model":"m"}',
      '',
      'not json',
      '{"__proto__":{"polluted":true}}',
      '{"\\u005f_proto__":{"polluted":true}}',
      '{"constructor":{"prototype":{"polluted":true}}}',
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
});
