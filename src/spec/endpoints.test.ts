/** The endpoint table (`spec/endpoints.ts`): its entries, and the calls they make on a client. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BATCH_ENDPOINTS, ENDPOINTS, ROUTE_ENDPOINTS, endpointOf, unsupportedEndpoint } from './endpoints.ts';
import { CapabilityUnsupportedError } from './errors.ts';
import type { ProviderClient, UpstreamJsonResponse } from './provider.ts';

const answer = (label: string) => ({ status: 200, body: { label } }) as unknown as UpstreamJsonResponse;

/** A client offering chat only, and one offering everything; each answer names its method. */
function clientWith(methods: Partial<ProviderClient>): ProviderClient {
  return {
    deployment: { id: 'dep-1', modelGroup: 'group-a' },
    batchLineModel: 'm',
    chatCompletions: async () => answer('chatCompletions'),
    chatCompletionsStream: async () => ({ label: 'chatCompletionsStream' }),
    ...methods,
  } as unknown as ProviderClient;
}
const chatOnly = clientWith({});
const full = clientWith({
  embeddings: async () => answer('embeddings'),
  responses: async () => answer('responses'),
  responsesStream: async () => ({ label: 'responsesStream' }) as never,
  completions: async () => answer('completions'),
  completionsStream: async () => ({ label: 'completionsStream' }) as never,
  rerank: async () => answer('rerank'),
  moderations: async () => answer('moderations'),
  imageGenerations: async () => answer('images/generations'),
});

describe('endpoint table', () => {
  it('lists the batch endpoints in OpenAI order, the live routes, and their flags', () => {
    assert.deepEqual(BATCH_ENDPOINTS, ['/v1/responses', '/v1/chat/completions', '/v1/embeddings', '/v1/completions', '/v1/moderations', '/v1/images/generations']);
    assert.deepEqual(
      ROUTE_ENDPOINTS.map((endpoint) => [endpoint.path, endpoint.stream !== undefined, endpoint.rateLimited]),
      [
        ['/responses', true, true],
        ['/chat/completions', true, true],
        ['/embeddings', false, true],
        ['/completions', true, true],
        ['/moderations', false, true],
        ['/images/generations', false, true],
        ['/rerank', false, true],
      ],
    );
    assert.deepEqual(ENDPOINTS.filter((endpoint) => endpoint.extraPaths !== undefined).map((endpoint) => [endpoint.path, endpoint.extraPaths]), [['/rerank', ['/v2/rerank']]]);
    assert.equal(BATCH_ENDPOINTS.includes('/v1/rerank'), false, "OpenAI's Batch API has no rerank");
    for (const endpoint of ENDPOINTS) assert.equal(endpoint.url, `/v1${endpoint.path}`);
    assert.equal(new Set(ENDPOINTS.map((endpoint) => endpoint.url)).size, ENDPOINTS.length);
  });

  it('finds entries by their /v1 url only', () => {
    assert.equal(endpointOf('/v1/embeddings')?.path, '/embeddings');
    assert.equal(endpointOf('/embeddings'), undefined);
    assert.equal(endpointOf('/moderations'), undefined);
    assert.equal(endpointOf('/v1/images/edits'), undefined);
  });

  it('calls the client method of each entry, and answers undefined where the client lacks it', async () => {
    for (const url of ['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/completions', '/v1/rerank', '/v1/moderations', '/v1/images/generations']) {
      const label = url === '/v1/chat/completions' ? 'chatCompletions' : url.slice('/v1/'.length);
      assert.deepEqual((await endpointOf(url)!.call(full, {}, {}))?.body, { label });
    }
    assert.equal(endpointOf('/v1/embeddings')!.call(chatOnly, {}, {}), undefined);
    // A client without the Responses API answers it through its chat (`responses-bridge.ts`).
    const bridged = (await endpointOf('/v1/responses')!.call(chatOnly, { model: 'g', input: 'hi' }, {})) as { body: { object: string } };
    assert.equal(bridged.body.object, 'response');
    const bridgedStream = endpointOf('/v1/responses')!.stream!(chatOnly, { model: 'g', input: 'hi' }, {});
    assert.notEqual(bridgedStream, undefined);
    await bridgedStream;
    assert.equal(endpointOf('/v1/completions')!.call(chatOnly, {}, {}), undefined);
    assert.equal(endpointOf('/v1/completions')!.stream!(chatOnly, {}, {}), undefined);
    assert.equal(endpointOf('/v1/rerank')!.call(chatOnly, {}, {}), undefined);
    assert.equal(endpointOf('/v1/rerank')!.stream, undefined);
    assert.equal(endpointOf('/v1/moderations')!.call(chatOnly, {}, {}), undefined);
    assert.equal(endpointOf('/v1/images/generations')!.call(chatOnly, {}, {}), undefined);
    await assert.rejects(endpointOf('/v1/images/generations')!.call(full, { stream: true }, {})!, /Streamed image generation is not supported/);
    assert.deepEqual(await endpointOf('/v1/completions')!.stream!(full, {}, {}), { label: 'completionsStream' });
    assert.deepEqual(await endpointOf('/v1/responses')!.stream!(full, {}, {}), { label: 'responsesStream' });
    assert.deepEqual(await endpointOf('/v1/chat/completions')!.stream!(full, {}, {}), { label: 'chatCompletionsStream' });
  });

  it('validates the body of each live route', () => {
    const chat = endpointOf('/v1/chat/completions')!.body!;
    assert.equal(chat.safeParse({ model: 'm', messages: [] }).success, true);
    assert.equal(chat.safeParse({ model: 'm' }).success, false);
    assert.equal(endpointOf('/v1/embeddings')!.body!.safeParse({ model: 'm', input: 'x' }).success, true);
    assert.equal(endpointOf('/v1/responses')!.body!.safeParse({ model: '' }).success, false);
    const completions = endpointOf('/v1/completions')!.body!;
    assert.equal(completions.safeParse({ model: 'm', prompt: 'x' }).success, true);
    assert.equal(completions.safeParse({ model: 'm', prompt: [1, 2, 3] }).success, true);
    assert.equal(completions.safeParse({ model: 'm' }).success, false);
    const rerank = endpointOf('/v1/rerank')!.body!;
    assert.equal(rerank.safeParse({ model: 'm', query: 'q', documents: ['a', { text: 'b' }, { title: 't' }], top_n: 1 }).success, true);
    assert.equal(rerank.safeParse({ model: 'm', documents: ['a'] }).success, false, 'no query');
    assert.equal(rerank.safeParse({ model: 'm', query: 'q', documents: 'a' }).success, false, 'documents not a list');
    assert.equal(rerank.safeParse({ model: 'm', query: 'q', documents: [1] }).success, false, 'a document neither a string nor an object');
  });

  it('refuses an endpoint a deployment lacks with a 400 naming it', () => {
    assert.throws(
      () => unsupportedEndpoint(chatOnly, '/v1/embeddings', { param: 'url' }),
      (error: unknown) =>
        error instanceof CapabilityUnsupportedError &&
        error.httpStatus === 400 &&
        error.param === 'url' &&
        error.message === 'The deployment `dep-1` of model `group-a` does not support /v1/embeddings.',
    );
  });
});
