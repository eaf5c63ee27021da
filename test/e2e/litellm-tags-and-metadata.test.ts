/**
 * What LiteLLM clients put in a request for the gateway, never for the model (`spec/gateway-request-fields.ts`),
 * through the `openai` SDK against the OpenAI simulator, which refuses a `metadata` OpenAI would
 * refuse: LiteLLM's `metadata` (tags, trace names, anything) and `tags` stay with Portico; an
 * OpenAI `metadata` (string values, chat with `store: true`, responses) goes on. Then LiteLLM's
 * tag-based routing (`router_settings.enable_tag_filtering`, `litellm_params.tags`): tags from the
 * body, `metadata.tags` or `x-litellm-tags` pick the deployments that carry them, `default` serves
 * the rest, and a request nothing may serve is a 400 in OpenAI's envelope.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';

describe("LiteLLM's metadata and tags stay with the gateway", () => {
  let openai: OpenAISimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    openai = await startOpenAISimulator();
    portico = await startPortico(`
model_list:
  - model_name: gpt-4o-mini
    litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
general_settings:
  master_key: sk-tags-metadata-master-0123456789
`);
  });
  after(async () => {
    await portico.close();
    await openai.close();
  });

  const received = () => openai.requests.at(-1)!.json as Record<string, unknown>;

  it('a chat with LiteLLM metadata (tags, trace fields) and tags is served, and neither reaches the provider', async () => {
    const client = portico.client();
    const answer = await client.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'tagged' }],
      metadata: { tags: ['team-a', 'prod'], generation_name: 'summary', trace_user_id: 'u-7', session: { id: 3 } } as never,
      // @ts-expect-error LiteLLM's request tags, sent as extra body by LiteLLM clients
      tags: ['free'],
    });
    assert.equal(answer.choices[0].message.content, 'tagged');
    assert.equal('metadata' in received(), false);
    assert.equal('tags' in received(), false);
    const streamed = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'streamed' }], metadata: { tags: ['x'] } as never });
    for await (const _ of streamed);
    assert.equal('metadata' in received(), false);
  });

  it("OpenAI's own metadata goes on: on a stored chat completion, and on responses", async () => {
    const client = portico.client();
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stored' }], store: true, metadata: { project: 'atlas' } });
    assert.deepEqual(received().metadata, { project: 'atlas' });
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'not stored' }], metadata: { project: 'atlas' } });
    assert.equal('metadata' in received(), false, 'without store, chat metadata is the gateway’s');
    await client.responses.create({ model: 'gpt-4o-mini', input: 'respond', metadata: { project: 'atlas' } });
    assert.deepEqual(received().metadata, { project: 'atlas' });
    await client.responses.create({ model: 'gpt-4o-mini', input: 'respond', metadata: { tags: ['a'] } as never });
    assert.equal('metadata' in received(), false);
    await client.embeddings.create({ model: 'gpt-4o-mini', input: 'embed', metadata: { tags: ['a'] } } as never);
    assert.equal('metadata' in received(), false);
  });
});

describe('tag-based routing (enable_tag_filtering)', () => {
  let portico: PorticoUnderTest;
  let strict: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(`
model_list:
  - {model_name: gpt-4, litellm_params: {model: mock/free, mock_response: from free, tags: [free]}}
  - {model_name: gpt-4, litellm_params: {model: mock/paid, mock_response: from paid, tags: [paid, priority]}}
  - {model_name: gpt-4, litellm_params: {model: mock/default, mock_response: from default, tags: [default]}}
router_settings:
  enable_tag_filtering: true
general_settings:
  master_key: sk-tag-routing-master-0123456789
`);
    strict = await startPortico(`
model_list:
  - {model_name: gpt-4, litellm_params: {model: mock/free, mock_response: from free, tags: [free]}}
  - {model_name: gpt-4, litellm_params: {model: mock/any, mock_response: from untagged}}
router_settings:
  enable_tag_filtering: true
general_settings:
  master_key: sk-tag-routing-strict-0123456789
`);
  });
  after(async () => {
    await Promise.all([portico.close(), strict.close()]);
  });

  async function answerOf(target: PorticoUnderTest, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}): Promise<string | null> {
    const answer = await target.client().chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }], ...extra } as never, { headers });
    return (answer as OpenAI.ChatCompletion).choices[0].message.content;
  }

  it("sends tagged requests to the deployments carrying a tag, from the body's tags, metadata.tags or x-litellm-tags", async () => {
    for (let round = 0; round < 5; round += 1) {
      assert.equal(await answerOf(portico, { tags: ['free'] }), 'from free');
      assert.equal(await answerOf(portico, { tags: 'priority' }), 'from paid');
      assert.equal(await answerOf(portico, { metadata: { tags: ['paid'] } }), 'from paid');
      assert.equal(await answerOf(portico, {}, { 'x-litellm-tags': 'other, free' }), 'from free');
    }
  });

  it('sends untagged requests, and those whose tags no deployment carries, to the default deployment', async () => {
    for (let round = 0; round < 5; round += 1) {
      assert.equal(await answerOf(portico), 'from default');
      assert.equal(await answerOf(portico, { tags: ['unknown'] }), 'from default');
    }
  });

  it('without a default deployment: untagged requests go to any, and tags nothing carries are a 400 in the envelope', async () => {
    const seen = new Set<string | null>();
    for (let round = 0; round < 20; round += 1) seen.add(await answerOf(strict));
    assert.deepEqual([...seen].sort(), ['from free', 'from untagged']);
    assert.equal(await answerOf(strict, { tags: ['free'] }), 'from free');
    const refused = await answerOf(strict, { tags: ['gold'] }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError);
    assert.equal((refused.error as { code: string }).code, 'no_deployment_for_tags');
    assert.match(refused.message, /no deployment of `gpt-4` carries the request's tags \(gold\)/);
  });

  it("adds a key's metadata.tags to its requests: routed by them, and in the spend row's request_tags", async () => {
    const { key } = await portico.generateKey({ metadata: { tags: ['paid', ' paid ', 7] } });
    const keyed = portico.client(key);
    for (let round = 0; round < 5; round += 1) {
      const answer = await keyed.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': `key-tags-${round}` } });
      assert.equal(answer.choices[0].message.content, 'from paid');
    }
    // The request's own tags come first; a deployment carrying either serves it.
    const both = await keyed.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }], tags: ['free'] } as never, { headers: { 'x-request-id': 'key-and-request-tags' } });
    assert.ok(['from free', 'from paid'].includes((both as OpenAI.ChatCompletion).choices[0].message.content!));
    await portico.services.spend!.ledger.flushAll();
    const rows = (await (await portico.fetch('/spend/logs?request_id=key-and-request-tags')).json()) as Array<{ request_tags: string[] }>;
    assert.deepEqual(rows[0].request_tags.slice(0, 2), ['free', 'paid']);
  });

  it('extra_spend_tag_headers: the headers named become spend tags (<header>: <value>), never routing tags', async () => {
    const tagged = await startPortico(`
model_list:
  - {model_name: m, litellm_params: {model: mock/m}}
  - {model_name: tagged, litellm_params: {model: mock/t, tags: [gold]}}
router_settings: {enable_tag_filtering: true}
litellm_settings:
  extra_spend_tag_headers: ["X-OpenWebUI-User-Email", "x-openwebui-chat-id"]
general_settings:
  master_key: sk-spend-tag-headers-master-0123
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`);
    try {
      assert.deepEqual(tagged.config.warnings, []);
      const headers = { 'x-openwebui-user-email': 'ada@example.com', 'X-OpenWebUI-Chat-Id': 'chat-42', 'x-request-id': 'spend-tag-headers' };
      // With tag filtering on, header tags taken for routing would find no deployment of `m` carrying them (a 400).
      await tagged.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { headers });
      await tagged.client().chat.completions.create({ model: 'tagged', messages: [{ role: 'user', content: 'hi' }], tags: ['gold'] } as never, { headers: { ...headers, 'x-request-id': 'both-tags' } });
      await tagged.client().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] }, { headers: { 'x-request-id': 'no-tag-headers' } });
      await tagged.services.spend!.ledger.flushAll();
      const rowOf = async (id: string) => ((await (await tagged.fetch(`/spend/logs?request_id=${id}`)).json()) as Array<{ request_tags: string[] | null }>)[0];
      assert.deepEqual((await rowOf('spend-tag-headers')).request_tags, ['X-OpenWebUI-User-Email: ada@example.com', 'x-openwebui-chat-id: chat-42']);
      assert.deepEqual((await rowOf('both-tags')).request_tags, ['gold', 'X-OpenWebUI-User-Email: ada@example.com', 'x-openwebui-chat-id: chat-42']);
      assert.ok(((await rowOf('no-tag-headers')).request_tags ?? []).length === 0);
      const byTag = (await (await tagged.fetch('/spend/tags')).json()) as Array<{ individual_request_tag: string }>;
      assert.ok(byTag.some((row) => row.individual_request_tag === 'X-OpenWebUI-User-Email: ada@example.com'));
    } finally {
      await tagged.close();
    }
  });

  it('with tag_filtering_match_any: false, a deployment must carry every tag of the request', async () => {
    const all = await startPortico(`
model_list:
  - {model_name: gpt-4, litellm_params: {model: mock/paid, mock_response: from paid, tags: [paid]}}
  - {model_name: gpt-4, litellm_params: {model: mock/paid-eu, mock_response: from paid-eu, tags: [paid, eu]}}
router_settings:
  enable_tag_filtering: true
  tag_filtering_match_any: false
general_settings:
  master_key: sk-tag-routing-all-0123456789
`);
    try {
      assert.deepEqual(all.config.warnings, []);
      for (let round = 0; round < 5; round += 1) assert.equal(await answerOf(all, { tags: ['paid', 'eu'] }), 'from paid-eu');
      const refused = await answerOf(all, { tags: ['eu', 'gold'] }).catch((error: unknown) => error);
      assert.ok(refused instanceof OpenAI.BadRequestError);
    } finally {
      await all.close();
    }
  });

  it('reads the settings without a warning', async () => {
    assert.deepEqual(portico.config.warnings, []);
    assert.equal(portico.config.router.tagFiltering, true);
    assert.deepEqual(portico.config.deployments.map((deployment) => deployment.tags), [['free'], ['paid', 'priority'], ['default']]);
  });
});
