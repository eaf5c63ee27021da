/**
 * LiteLLM's response cache (`litellm_settings.cache`, `cache_params`): a request asked again is
 * answered from the cache with no call upstream, in this process (`type: local`) or, shared by
 * every instance, in Redis; a request's `cache` controls steer it and never reach the provider;
 * streamed requests and errors are not cached.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { TEST_REDIS_URL, deleteRedisKeys, uniqueRedisPrefix } from '../scale-out/redis-helpers.ts';

function config(upstream: OpenAISimulator, cacheParams: string): string {
  return `
model_list:
  - model_name: chat
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
  - model_name: embed
    litellm_params: {model: openai/text-embedding-3-small, api_base: "${upstream.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
general_settings:
  master_key: sk-cache-master-0123456789
litellm_settings:
  cache: true
  cache_params: ${cacheParams}
`;
}

const chatCalls = (upstream: OpenAISimulator) => upstream.requests.filter((request) => request.path.endsWith('/chat/completions')).length;

describe('the response cache, in this process', () => {
  let upstream: OpenAISimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    upstream = await startOpenAISimulator();
    portico = await startPortico(config(upstream, '{type: local, ttl: 60}'));
  });
  after(async () => {
    await portico.close();
    await upstream.close();
  });

  it('the same request again is answered from the cache, unchanged, with no call upstream and no spend row', async () => {
    const client = portico.client();
    const ask = (content: string, extra: Record<string, unknown> = {}) => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content }], ...extra }).withResponse();
    const before = chatCalls(upstream);
    const one = await ask('cache me');
    const two = await ask('cache me');
    assert.equal(chatCalls(upstream), before + 1, 'one call upstream for two requests');
    assert.equal(one.response.headers.get('x-litellm-cache-key'), null);
    assert.match(two.response.headers.get('x-litellm-cache-key') ?? '', /^[0-9a-f]{64}$/);
    assert.deepEqual(two.data, one.data);
    // What does not change the answer is not in the key; what does is.
    await ask('cache me', { user: 'someone-else', metadata: { a: 'b' } });
    assert.equal(chatCalls(upstream), before + 1);
    await ask('cache me', { temperature: 0.3 });
    await ask('cache me too');
    assert.equal(chatCalls(upstream), before + 3);
  });

  it("a stored Response is cached per owner: another team's same request is asked upstream, and its answer's id is its own", async () => {
    const responsesCalls = () => upstream.requests.filter((request) => request.path.endsWith('/responses')).length;
    const cached = await startPortico(config(upstream, '{type: local, ttl: 60, supported_call_types: [responses]}'));
    try {
      const teamA = cached.client((await cached.generateKey({ team_id: 'cache-a' })).key);
      const teamB = cached.client((await cached.generateKey({ team_id: 'cache-b' })).key);
      const before = responsesCalls();
      const first = await teamA.responses.create({ model: 'chat', input: 'cache this response' });
      const again = await teamA.responses.create({ model: 'chat', input: 'cache this response' });
      assert.equal(responsesCalls(), before + 1, "the owner's second request is answered from the cache");
      assert.equal(again.id, first.id);
      const other = await teamB.responses.create({ model: 'chat', input: 'cache this response' });
      assert.equal(responsesCalls(), before + 2, "another team's is not");
      assert.notEqual(other.id, first.id);
      assert.equal((await teamB.responses.retrieve(other.id)).id, other.id, 'and the id it got is one it may use');
    } finally {
      await cached.close();
    }
  });

  it("a request's cache controls steer it and never reach the provider", async () => {
    const client = portico.client();
    const ask = (cache: Record<string, unknown>) => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'controls' }], cache } as never).withResponse();
    const before = chatCalls(upstream);
    await ask({ 'no-store': true });
    await ask({});
    assert.equal(chatCalls(upstream), before + 2, 'no-store: the first answer was not kept');
    const hit = await ask({});
    assert.ok(hit.response.headers.get('x-litellm-cache-key'));
    const fresh = await ask({ 'no-cache': true });
    assert.equal(fresh.response.headers.get('x-litellm-cache-key'), null);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const young = await ask({ 's-maxage': 1 });
    assert.equal(young.response.headers.get('x-litellm-cache-key'), null, 'the stored answer is older than s-maxage allows');
    assert.equal(chatCalls(upstream), before + 4);
    for (const request of upstream.requests.slice(-4)) assert.equal(Object.hasOwn(request.json as object, 'cache'), false, 'the controls stay in the gateway');
  });

  it('a streamed chat completion is cached as the completion it amounts to and played back as a stream; errors are not cached; embeddings are', async () => {
    const client = portico.client();
    const before = chatCalls(upstream);
    const streamed = async (includeUsage: boolean) => {
      const { data: stream, response } = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'streamed' }], stream: true, ...(includeUsage && { stream_options: { include_usage: true } }) }).withResponse();
      let text = '';
      let finish: string | null = null;
      let usage: unknown;
      for await (const chunk of stream) {
        for (const choice of chunk.choices) {
          text += choice.delta.content ?? '';
          finish = choice.finish_reason ?? finish;
        }
        usage = chunk.usage ?? usage;
      }
      return { text, finish, usage, cacheKey: response.headers.get('x-litellm-cache-key') };
    };
    const first = await streamed(true);
    // The entry is written as the stream's last event passes, before its response ends.
    const second = await streamed(true);
    assert.equal(chatCalls(upstream), before + 1, 'one call upstream for the two streams');
    assert.equal(first.cacheKey, null);
    assert.ok(second.cacheKey, 'played back from the cache');
    assert.deepEqual({ ...second, cacheKey: null }, { ...first, cacheKey: null }, 'the same text, finish reason and usage');
    assert.equal(first.text, 'streamed');
    assert.ok(first.usage, 'the usage chunk, asked for');
    const withoutUsage = await streamed(false);
    assert.ok(withoutUsage.cacheKey);
    assert.equal(withoutUsage.usage, undefined, 'no usage chunk when not asked for');
    const unstreamed = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'streamed' }] }).withResponse();
    assert.ok(unstreamed.response.headers.get('x-litellm-cache-key'), 'the same request unstreamed shares the entry');
    assert.equal(unstreamed.data.object, 'chat.completion');
    assert.equal(unstreamed.data.choices[0].message.content, 'streamed');
    const calls = chatCalls(upstream);
    for (let i = 0; i < 2; i++) await assert.rejects(client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'FAIL' }] }));
    assert.equal(chatCalls(upstream), calls + 2, 'an error is asked again');
    const embedCalls = () => upstream.requests.filter((request) => request.path.endsWith('/embeddings')).length;
    const embeds = embedCalls();
    const a = await client.embeddings.create({ model: 'embed', input: 'vector me' });
    const b = await client.embeddings.create({ model: 'embed', input: 'vector me' });
    assert.equal(embedCalls(), embeds + 1);
    assert.deepEqual(b.data[0].embedding, a.data[0].embedding);
  });
});

describe('the response cache in Redis, shared by two instances', () => {
  const prefix = uniqueRedisPrefix('response-cache');
  let upstream: OpenAISimulator;
  let one: PorticoUnderTest;
  let two: PorticoUnderTest;
  before(async () => {
    upstream = await startOpenAISimulator();
    const { hostname, port } = new URL(TEST_REDIS_URL);
    const yaml = config(upstream, `{type: redis, host: "${hostname}", port: "${port || 6379}", namespace: shared, ttl: 60}`);
    one = await startPortico(yaml, { redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
    two = await startPortico(yaml, { databaseUrl: one.databaseUrl, redisUrl: TEST_REDIS_URL, redisPrefix: prefix });
  });
  after(async () => {
    await one.close();
    await two.close();
    await upstream.close();
    await deleteRedisKeys(prefix);
  });

  it('an answer one instance stored is the answer the other gives, with no call upstream', async () => {
    const ask = (target: PorticoUnderTest) => target.client().chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'shared' }] }).withResponse();
    const before = chatCalls(upstream);
    const first = await ask(one);
    // The store is not awaited by the answer: give it a moment.
    let second = await ask(two);
    for (let i = 0; i < 20 && second.response.headers.get('x-litellm-cache-key') === null; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      second = await ask(two);
    }
    assert.ok(second.response.headers.get('x-litellm-cache-key'), 'served from the cache by the other instance');
    assert.deepEqual(second.data, first.data);
    const calls = chatCalls(upstream) - before;
    await ask(one);
    await ask(two);
    assert.equal(chatCalls(upstream) - before, calls, 'both instances answer from the cache from now on');
  });
});
