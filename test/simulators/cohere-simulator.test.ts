/**
 * The Cohere simulator answers Cohere's own SDK (`cohere-ai`, `CohereClientV2`): a chat, a stream
 * the SDK parses event by event, a tool call and its result sent back, float embeddings, a rerank,
 * and Cohere's refusals (a wrong key, a rate limit, an unknown model, an unknown field, a missing
 * `input_type`) as the SDK's error classes. The SDK is the client, so the simulator's wire format
 * is the SDK's, not Portico's guess.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cohere, CohereClientV2 } from 'cohere-ai';
import { COHERE_SIMULATOR_API_KEY, startCohereSimulator, type CohereSimulator } from './cohere-simulator.ts';

const MODEL = 'command-a-03-2025';
const WEATHER_TOOL: Cohere.ToolV2 = {
  type: 'function',
  function: { name: 'get_weather', description: 'The weather in a city.', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

describe('Cohere simulator, driven by the cohere-ai SDK', () => {
  let sim: CohereSimulator;
  let client: CohereClientV2;
  before(async () => {
    sim = await startCohereSimulator({ models: [MODEL, 'command-a-reasoning-08-2025'] });
    client = new CohereClientV2({ token: COHERE_SIMULATOR_API_KEY, environment: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  it('a chat answers the user text, with billed and counted usage, and the bearer key on the wire', async () => {
    const response = await client.chat({ model: MODEL, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Cohere' }] });
    assert.equal(response.finishReason, 'COMPLETE');
    assert.deepEqual(response.message.content, [{ type: 'text', text: 'Hello Cohere' }]);
    assert.ok((response.usage?.billedUnits?.inputTokens ?? 0) > 0);
    assert.ok((response.usage?.tokens?.inputTokens ?? 0) > (response.usage?.billedUnits?.inputTokens ?? 0), 'tokens count what Cohere adds, billed units do not');
    const sent = sim.requests.at(-1)!;
    assert.equal(sent.path, '/v2/chat');
    assert.equal(sent.headers.authorization, `Bearer ${COHERE_SIMULATOR_API_KEY}`);
  });

  it('a stream is parsed by the SDK event by event and assembles to the same text, ending with message-end', async () => {
    const stream = await client.chatStream({ model: MODEL, messages: [{ role: 'user', content: 'Stream this please' }] });
    const types: string[] = [];
    let text = '';
    let finish: string | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content-delta') text += event.delta?.message?.content?.text ?? '';
      if (event.type === 'message-end') finish = event.delta?.finishReason;
    }
    assert.equal(text, 'Stream this please');
    assert.equal(types[0], 'message-start');
    assert.equal(types.at(-1), 'message-end');
    assert.ok(types.includes('content-start') && types.includes('content-end'));
    assert.equal(finish, 'COMPLETE');
  });

  it('a tool call, streamed and plain, and its result sent back answer the tool result', async () => {
    const question: Cohere.ChatMessageV2 = { role: 'user', content: 'Please use tool for Paris' };
    const first = await client.chat({ model: MODEL, tools: [WEATHER_TOOL], messages: [question] });
    assert.equal(first.finishReason, 'TOOL_CALL');
    const call = first.message.toolCalls![0];
    assert.equal(call.function?.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function?.arguments ?? ''), { city: 'Please use tool for Paris' });
    assert.match(first.message.toolPlan ?? '', /get_weather/);

    const next = await client.chat({
      model: MODEL,
      tools: [WEATHER_TOOL],
      messages: [question, { role: 'assistant', toolCalls: first.message.toolCalls, toolPlan: first.message.toolPlan }, { role: 'tool', toolCallId: call.id, content: 'Sunny, 21 C' }],
    });
    assert.equal(next.finishReason, 'COMPLETE');
    assert.deepEqual(next.message.content, [{ type: 'text', text: 'Sunny, 21 C' }]);

    const stream = await client.chatStream({ model: MODEL, tools: [WEATHER_TOOL], messages: [question] });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    assert.ok(['tool-plan-delta', 'tool-call-start', 'tool-call-delta', 'tool-call-end'].every((type) => types.includes(type)));

    await assert.rejects(
      client.chat({ model: MODEL, tools: [WEATHER_TOOL], messages: [question, { role: 'tool', toolCallId: 'unknown-call', content: 'x' }] }),
      (error: unknown) => error instanceof Cohere.BadRequestError && /does not match any previous tool call/.test(JSON.stringify(error.body)),
    );
  });

  it('a reasoning model thinks first unless thinking is disabled', async () => {
    const thought = await client.chat({ model: 'command-a-reasoning-08-2025', messages: [{ role: 'user', content: 'Why?' }] });
    assert.deepEqual(thought.message.content?.map((part) => part.type), ['thinking', 'text']);
    const plain = await client.chat({ model: 'command-a-reasoning-08-2025', thinking: { type: 'disabled' }, messages: [{ role: 'user', content: 'Why?' }] });
    assert.deepEqual(plain.message.content?.map((part) => part.type), ['text']);
  });

  it('embed answers one float vector per text with billed tokens; v3 models need an input_type', async () => {
    const response = await client.embed({ model: 'embed-english-v3.0', texts: ['a', 'b'], inputType: 'search_document', embeddingTypes: ['float'] });
    assert.equal(response.embeddings.float?.length, 2);
    assert.equal(response.embeddings.float?.[0].length, 1024);
    assert.ok((response.meta?.billedUnits?.inputTokens ?? 0) > 0);
    const v4 = await client.embed({ model: 'embed-v4.0', texts: ['a'], inputType: 'search_query', embeddingTypes: ['float'], outputDimension: 256 });
    assert.equal(v4.embeddings.float?.[0].length, 256);

    const untyped = await fetch(`${sim.url}/v2/embed`, {
      method: 'POST',
      headers: { authorization: `Bearer ${COHERE_SIMULATOR_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'embed-english-v3.0', texts: ['a'] }),
    });
    assert.equal(untyped.status, 400);
    assert.match(((await untyped.json()) as { message: string }).message, /valid input_type must be provided/);
  });

  it('rerank orders the documents by how many query words each has, keeps top_n, and bills one search unit per 100 documents', async () => {
    const documents = ['Paris is in France.', 'The capital of France is Paris.', 'Berlin is in Germany.', 'Bananas are yellow.'];
    const response = await client.rerank({ model: 'rerank-v3.5', query: 'What is the capital of France?', documents });
    assert.deepEqual(response.results.map((result) => result.index), [1, 0, 2, 3]);
    for (const [index, result] of response.results.entries()) {
      assert.ok(result.relevanceScore >= 0 && result.relevanceScore <= 1);
      if (index > 0) assert.ok(result.relevanceScore <= response.results[index - 1].relevanceScore);
    }
    assert.equal(typeof response.id, 'string');
    assert.equal(response.meta?.billedUnits?.searchUnits, 1);
    assert.equal(sim.requests.at(-1)!.path, '/v2/rerank');

    const top = await client.rerank({ model: 'rerank-english-v3.0', query: 'capital of France', documents, topN: 2, maxTokensPerDoc: 512 });
    assert.deepEqual(top.results.map((result) => result.index), [1, 0]);
    assert.deepEqual(sim.requests.at(-1)!.json, { model: 'rerank-english-v3.0', query: 'capital of France', documents, top_n: 2, max_tokens_per_doc: 512 });

    const many = await client.rerank({ model: 'rerank-v3.5', query: 'q', documents: Array.from({ length: 250 }, (_, i) => `document ${i}`) });
    assert.equal(many.meta?.billedUnits?.searchUnits, 3);
  });

  it('rerank refuses as Cohere does: no documents, an unknown field (422), a model that is not a reranker, a FAIL query', async () => {
    await assert.rejects(client.rerank({ model: 'rerank-v3.5', query: 'q', documents: [] }), (error: unknown) => {
      assert.ok(error instanceof Cohere.BadRequestError);
      assert.equal((error.body as { message: string }).message, 'invalid request: list of documents must not be empty');
      return true;
    });
    const post = (body: Record<string, unknown>) =>
      fetch(`${sim.url}/v2/rerank`, { method: 'POST', headers: { authorization: `Bearer ${COHERE_SIMULATOR_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const topK = await post({ model: 'rerank-v3.5', query: 'q', documents: ['a'], top_k: 1 });
    assert.equal(topK.status, 422);
    assert.match(((await topK.json()) as { message: string }).message, /unknown field: parameter 'top_k' is not a valid field.*reference\/rerank/);
    // LiteLLM's default `return_documents: true` is taken, and answered without documents.
    const returned = await post({ model: 'rerank-v3.5', query: 'q', documents: ['a'], return_documents: true });
    assert.equal(returned.status, 200);
    assert.deepEqual(((await returned.json()) as { results: unknown[] }).results, [{ index: 0, relevance_score: 0 }]);
    await assert.rejects(client.rerank({ model: 'command-a-03-2025', query: 'q', documents: ['a'] }), (error: unknown) => error instanceof Cohere.NotFoundError);
    await assert.rejects(client.rerank({ model: 'rerank-v3.5', query: 'FAIL:429', documents: ['a'] }), (error: unknown) => error instanceof Cohere.TooManyRequestsError);
  });

  it("errors arrive as the SDK's classes with Cohere's body: wrong key, rate limit, unknown model, unknown field", async () => {
    const wrongKey = new CohereClientV2({ token: 'wrong-key', environment: sim.url, maxRetries: 0 });
    await assert.rejects(wrongKey.chat({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof Cohere.UnauthorizedError);
      assert.equal((error.body as { message: string }).message, 'invalid api token');
      return true;
    });
    await assert.rejects(client.chat({ model: MODEL, messages: [{ role: 'user', content: 'FAIL:429' }] }), (error: unknown) => {
      assert.ok(error instanceof Cohere.TooManyRequestsError);
      assert.match((error.body as { message: string }).message, /Trial key/);
      assert.equal(typeof (error.body as { id: string }).id, 'string');
      return true;
    });
    await assert.rejects(client.chat({ model: 'command-nope', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof Cohere.NotFoundError);
      assert.match((error.body as { message: string }).message, /model 'command-nope' not found/);
      return true;
    });
    const strictTool = { ...WEATHER_TOOL, function: { ...WEATHER_TOOL.function!, strict: true } } as Cohere.ToolV2;
    await assert.rejects(client.chat({ model: MODEL, tools: [strictTool], messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
      assert.ok(error instanceof Cohere.BadRequestError);
      assert.match((error.body as { message: string }).message, /unknown field: parameter 'strict' is not a valid field/);
      return true;
    });
  });
});
