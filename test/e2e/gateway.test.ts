/**
 * A user's view of Portico, through the official `openai` SDK, on SQLite and on PostgreSQL:
 * chat completions (plain and streamed) through an OpenAI and an Azure OpenAI deployment,
 * embeddings, responses, the models list, virtual keys with allowlists, and the error envelopes.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { AZURE_SIMULATOR_API_KEY } from '../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY } from '../simulators/openai-simulator.ts';
import { AZURE_DEPLOYMENT, E2E_ENV, envelopeOf, gatewayConfig, startUpstreams, type Upstreams } from './fixtures.ts';

async function collectStream(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>): Promise<{ text: string; chunks: number }> {
  let text = '';
  let chunks = 0;
  for await (const chunk of stream) {
    chunks++;
    text += chunk.choices[0]?.delta?.content ?? '';
  }
  return { text, chunks };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`the gateway through the openai SDK [${dialect}]`, () => {
    let upstreams: Upstreams;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    before(async () => {
      upstreams = await startUpstreams();
      portico = await startPortico(gatewayConfig(upstreams), { dialect, env: E2E_ENV });
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await upstreams?.close();
    });

    it('answers a chat completion through an OpenAI deployment, forwarding the request id', async () => {
      const completion = await client.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hello through OpenAI' }] },
        { headers: { 'x-request-id': 'e2e-openai-plain' } },
      );
      assert.equal(completion.object, 'chat.completion');
      assert.match(completion.choices[0].message.content ?? '', /Hello through OpenAI/);
      const upstreamRequest = upstreams.openai.requests.findLast((request) => request.path === '/v1/chat/completions');
      assert.ok(upstreamRequest);
      assert.equal((upstreamRequest.json as { model: string }).model, 'gpt-4o-mini');
      assert.ok(Object.values(upstreamRequest.headers).includes('e2e-openai-plain'), 'the request id reaches the upstream');
    });

    it('streams a chat completion through an OpenAI deployment chunk by chunk', async () => {
      const stream = await client.chat.completions.create({
        model: 'gpt-4o-mini',
        messages: [{ role: 'user', content: 'Stream me through OpenAI' }],
        stream: true,
      });
      const { text, chunks } = await collectStream(stream);
      assert.match(text, /Stream me through OpenAI/);
      assert.ok(chunks > 2, `expected several chunks, got ${chunks}`);
    });

    it('a streamed answer is an event stream carrying the request id and ending with [DONE]', async () => {
      const response = await portico.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'e2e-raw-stream' },
        body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'raw' }] }),
      });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.equal(response.headers.get('x-request-id'), 'e2e-raw-stream');
      const text = await response.text();
      assert.match(text, /^data: \{/);
      assert.match(text, /data: \[DONE\]\n\n$/);
    });

    it('answers a chat completion through an Azure deployment, on Azure paths with the api-key header', async () => {
      const completion = await client.chat.completions.create({
        model: 'azure-gpt-4o',
        messages: [{ role: 'user', content: 'Hello through Azure' }],
      });
      assert.match(completion.choices[0].message.content ?? '', /Hello through Azure/);
      const upstreamRequest = upstreams.azure.requests.findLast((request) => request.path.endsWith('/chat/completions'));
      assert.ok(upstreamRequest);
      assert.equal(upstreamRequest.path, `/openai/deployments/${AZURE_DEPLOYMENT}/chat/completions`);
      assert.ok(upstreamRequest.headers['api-key'], 'Azure is called with the api-key header');
      assert.equal(upstreamRequest.query['api-version'], '2024-10-21');
    });

    it('streams a chat completion through an Azure deployment', async () => {
      const stream = await client.chat.completions.create({
        model: 'azure-gpt-4o',
        messages: [{ role: 'user', content: 'Stream me through Azure' }],
        stream: true,
      });
      const { text } = await collectStream(stream);
      assert.match(text, /Stream me through Azure/);
    });

    it('creates embeddings', async () => {
      const answer = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['first', 'second'] });
      assert.equal(answer.data.length, 2);
      assert.ok(answer.data[0].embedding.length > 0);
      assert.ok(answer.data[0].embedding.every((value) => typeof value === 'number'));
    });

    it('passes a responses request through, plain and streamed', async () => {
      const response = await client.responses.create({ model: 'gpt-4o-mini', input: 'Hello responses' });
      assert.equal(response.object, 'response');
      assert.match(response.output_text, /Hello responses/);
      const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'Stream responses', stream: true });
      const types: string[] = [];
      for await (const event of stream) types.push(event.type);
      assert.ok(types.includes('response.completed'), `events: ${types.join(', ')}`);
    });

    it('lists every model group for the master key', async () => {
      const ids = [];
      for await (const model of client.models.list()) ids.push(model.id);
      assert.deepEqual(ids.sort(), ['azure-gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
    });

    it('a virtual key limited to one model sees only it, uses it, and gets 403 on another', async () => {
      const minted = await portico.generateKey({ models: ['gpt-4o-mini'], user_id: 'ada', team_id: 'research', key_alias: 'ada-key', metadata: { purpose: 'e2e' } });
      assert.match(minted.key, /^sk-[A-Za-z0-9_-]{32,}$/);
      assert.deepEqual(minted.models, ['gpt-4o-mini']);
      assert.equal(minted.user_id, 'ada');
      assert.equal(minted.team_id, 'research');
      assert.equal(minted.key_alias, 'ada-key');
      assert.deepEqual(minted.metadata, { purpose: 'e2e' });
      assert.equal(minted.expires, null);
      assert.equal(typeof minted.token, 'string');

      const limited = portico.client(minted.key);
      const ids = [];
      for await (const model of limited.models.list()) ids.push(model.id);
      assert.deepEqual(ids, ['gpt-4o-mini']);

      const completion = await limited.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'allowed' }] });
      assert.match(completion.choices[0].message.content ?? '', /allowed/);

      await assert.rejects(
        limited.chat.completions.create({ model: 'azure-gpt-4o', messages: [{ role: 'user', content: 'not allowed' }] }),
        (error: unknown) => error instanceof OpenAI.PermissionDeniedError && error.status === 403 && /azure-gpt-4o/.test(error.message),
      );
    });

    it('answers a legacy completion through an Azure deployment, on its deployment path', async () => {
      const answer = await client.completions.create({ model: 'azure-gpt-4o', prompt: 'Complete through Azure', max_tokens: 50 });
      assert.equal(answer.object, 'text_completion');
      assert.equal(answer.choices[0].text, 'Complete through Azure');
      const sent = upstreams.azure.requests.findLast((request) => request.path.endsWith('/completions') && !request.path.endsWith('/chat/completions'));
      assert.ok(sent, 'the completion reached Azure');
      assert.equal(sent.path, `/openai/deployments/${AZURE_DEPLOYMENT}/completions`);
    });

    it("answers LiteLLM's /model/info per deployment, without secrets, only for the models a key may use", async () => {
      type Info = { data: Array<{ model_name: string; litellm_params: Record<string, unknown>; model_info: { id: string; litellm_provider: string } }> };
      const all = await portico.fetch('/model/info');
      assert.equal(all.status, 200);
      const text = await all.text();
      for (const secret of [OPENAI_SIMULATOR_API_KEY, AZURE_SIMULATOR_API_KEY, upstreams.openai.url]) assert.ok(!text.includes(secret), `no ${secret} in /model/info`);
      const info = JSON.parse(text) as Info;
      assert.deepEqual(info.data.map((entry) => entry.model_name).sort(), ['azure-gpt-4o', 'gpt-4o-mini', 'text-embedding-3-small']);
      const azure = info.data.find((entry) => entry.model_name === 'azure-gpt-4o')!;
      assert.equal(azure.litellm_params.model, `azure/${AZURE_DEPLOYMENT}`);
      assert.equal(azure.model_info.litellm_provider, 'azure');

      const one = (await (await portico.fetch(`/v1/model/info?litellm_model_id=${encodeURIComponent(azure.model_info.id)}`)).json()) as Info;
      assert.deepEqual(one.data.map((entry) => entry.model_info.id), [azure.model_info.id]);

      const limited = await portico.generateKey({ models: ['gpt-4o-mini'] });
      const seen = (await (await portico.fetch('/model/info', { apiKey: limited.key })).json()) as Info;
      assert.deepEqual(seen.data.map((entry) => entry.model_name), ['gpt-4o-mini']);
    });

    it('only the master key may mint or delete keys', async () => {
      const minted = await portico.generateKey({});
      for (const [path, body] of [['/key/generate', {}], ['/key/delete', { keys: [minted.key] }]] as const) {
        const response = await portico.fetch(path, {
          apiKey: minted.key,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(response.status, 403, path);
        assert.equal(envelopeOf(await response.json()).type, 'permission_error');
      }
    });

    it('a deleted key is refused with 401', async () => {
      const minted = await portico.generateKey({ models: ['gpt-4o-mini'] });
      const keyed = portico.client(minted.key);
      await keyed.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'before delete' }] });
      const response = await portico.fetch('/key/delete', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ keys: [minted.key] }),
      });
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { deleted_keys: [minted.key] });
      await assert.rejects(
        keyed.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after delete' }] }),
        (error: unknown) => error instanceof OpenAI.AuthenticationError && error.status === 401,
      );
    });

    it('a blocked key is refused with 401 until it is unblocked (/key/block, /key/unblock, master only)', async () => {
      const minted = await portico.generateKey({ key_alias: 'block-me', models: ['gpt-4o-mini'] });
      const keyed = portico.client(minted.key);
      const ask = () => keyed.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'blocked?' }] });
      await ask();
      const post = (path: string, body: unknown, apiKey?: string) =>
        portico.fetch(path, { ...(apiKey !== undefined && { apiKey }), method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

      assert.equal((await post('/key/block', { key: minted.key }, minted.key)).status, 403, 'a virtual key may not block keys');
      const blocked = await post('/key/block', { key: minted.key });
      assert.equal(blocked.status, 200);
      const info = (await blocked.json()) as { key: string; blocked: boolean; key_alias: string };
      assert.equal(info.blocked, true);
      assert.equal(info.key_alias, 'block-me');
      assert.ok(!JSON.stringify(info).includes(minted.key), 'the answer never contains the secret');
      await assert.rejects(ask(), (error: unknown) => error instanceof OpenAI.AuthenticationError && error.code === 'key_blocked');

      // By the key's id as well as its secret, as LiteLLM takes either.
      const unblocked = await post('/key/unblock', { key: info.key });
      assert.equal(unblocked.status, 200);
      assert.equal(((await unblocked.json()) as { blocked: boolean }).blocked, false);
      await ask();

      assert.equal((await post('/key/block', { key: 'sk-no-such-key' })).status, 404);
      const missing = await post('/key/unblock', {});
      assert.equal(missing.status, 400);
      assert.equal(envelopeOf(await missing.json()).param, 'key');
    });

    it('an expired key is refused with 401', async () => {
      const minted = await portico.generateKey({ duration: '1s' });
      assert.ok(typeof minted.expires === 'string' && Date.parse(minted.expires) <= Date.now() + 1_000);
      await sleep(1_100);
      const response = await portico.fetch('/v1/models', { apiKey: minted.key });
      assert.equal(response.status, 401);
      envelopeOf(await response.json());
    });

    it('key info answers the key itself without its secret', async () => {
      const minted = await portico.generateKey({ key_alias: 'info-me', models: ['gpt-4o-mini'] });
      const response = await portico.fetch(`/key/info?key=${encodeURIComponent(minted.key)}`, { apiKey: minted.key });
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.ok(!text.includes(minted.key), 'info never contains the secret');
      const info = JSON.parse(text);
      assert.equal(info.info.key_alias, 'info-me');
      assert.deepEqual(info.info.models, ['gpt-4o-mini']);
    });

    it('a bad key gets 401 in the OpenAI envelope', async () => {
      const response = await portico.fetch('/v1/chat/completions', {
        apiKey: 'sk-this-key-does-not-exist-000000000000',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
      });
      assert.equal(response.status, 401);
      const error = envelopeOf(await response.json());
      assert.equal(error.type, 'authentication_error');
      assert.equal(error.code, 'invalid_api_key');
      await assert.rejects(portico.client('sk-wrong-key-0000000000000000000000').models.list(), OpenAI.AuthenticationError);
    });

    it('malformed JSON gets 400 in the OpenAI envelope', async () => {
      const response = await portico.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"model": "gpt-4o-mini", "messages": [',
      });
      assert.equal(response.status, 400);
      assert.equal(envelopeOf(await response.json()).type, 'invalid_request_error');
    });

    it('logs one line per request with no key and no prompt', async () => {
      const minted = await portico.generateKey({});
      await portico.client(minted.key).chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'confidential prompt text' }] });
      const logs = JSON.stringify(portico.logs);
      for (const secret of [portico.masterKey as string, minted.key, 'confidential prompt text']) {
        assert.ok(!logs.includes(secret), `the logs contain ${secret}`);
      }
      const line = portico.logs.findLast((entry) => entry.msg === 'request' && entry.route === '/v1/chat/completions');
      assert.equal(line?.key_id, minted.token);
      assert.equal(line?.status, 200);
    });

    it('an unknown model gets 404 naming the model', async () => {
      await assert.rejects(
        client.chat.completions.create({ model: 'gpt-imaginary-9', messages: [{ role: 'user', content: 'hi' }] }),
        (error: unknown) =>
          error instanceof OpenAI.NotFoundError && /gpt-imaginary-9/.test(error.message) && error.code === 'model_not_found' && error.param === 'model',
      );
    });
  });
}
