/**
 * The Workers AI simulator answers Cloudflare's own SDK (`cloudflare`, `client.ai.run`): chat,
 * a tool call, JSON Mode, a stream, embeddings, and errors as the SDK's error classes. The SDK is
 * the client, so the simulator's wire format is the SDK's, not Portico's guess.
 *
 * Streams: `ai.run(..., {stream: true})` reads the answer whole and unwraps a JSON `result`, which
 * an event stream has not; the SDK hands the stream out with `.asResponse()`, which is how the
 * stream is read here (the events parsed by hand).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Cloudflare, { APIError, AuthenticationError, BadRequestError, NotFoundError, RateLimitError } from 'cloudflare';
import { CLOUDFLARE_SIMULATOR_ACCOUNT_ID, CLOUDFLARE_SIMULATOR_API_TOKEN, startCloudflareSimulator, type CloudflareSimulator } from './cloudflare-simulator.ts';

const MODEL = '@cf/meta/llama-3.1-8b-instruct';
const EMBEDDING_MODEL = '@cf/baai/bge-base-en-v1.5';
const account_id = CLOUDFLARE_SIMULATOR_ACCOUNT_ID;

type TextResult = { response?: unknown; tool_calls?: Array<{ name: string; arguments: Record<string, unknown> }>; usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } };

describe('Workers AI simulator, driven by the cloudflare SDK', () => {
  let sim: CloudflareSimulator;
  let client: Cloudflare;
  const clientWith = (apiToken: string) => new Cloudflare({ apiToken, apiKey: null, apiEmail: null, baseURL: `${sim.url}/client/v4`, maxRetries: 0 });
  before(async () => {
    sim = await startCloudflareSimulator();
    client = clientWith(CLOUDFLARE_SIMULATOR_API_TOKEN);
  });
  after(() => sim.close());

  it('ai.run on a text generation model answers the user text, with usage, on the Bearer token', async () => {
    const result = (await client.ai.run(MODEL, { account_id, messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Workers AI' }], max_tokens: 100 })) as TextResult;
    assert.equal(result.response, 'Hello Workers AI');
    assert.ok((result.usage?.prompt_tokens ?? 0) > 0 && (result.usage?.completion_tokens ?? 0) > 0);
    const sent = sim.requests.at(-1)!;
    assert.match(decodeURIComponent(sent.path), new RegExp(`/client/v4/accounts/${account_id}/ai/run/@cf/meta/llama-3\\.1-8b-instruct$`));
    assert.equal(sent.headers.authorization, `Bearer ${CLOUDFLARE_SIMULATOR_API_TOKEN}`);
  });

  it('a tool is called when asked, as [{name, arguments}] with arguments an object', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather in a city', parameters: { type: 'object', properties: { city: { type: 'string', description: 'City' } }, required: ['city'] } }];
    const result = (await client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: 'please use tool for Paris' }], tools })) as TextResult;
    assert.deepEqual(result.tool_calls, [{ name: 'get_weather', arguments: { city: 'please use tool for Paris' } }]);
  });

  it('JSON Mode answers an object that follows the schema', async () => {
    const json_schema = { type: 'object', properties: { name: { type: 'string' }, population: { type: 'integer' } }, required: ['name', 'population'] };
    const result = (await client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: 'Tell me about India.' }], response_format: { type: 'json_schema', json_schema } })) as TextResult;
    assert.deepEqual(result.response, { name: 'Tell me about India.', population: 1 });
  });

  it('a stream (read through .asResponse()) is data: {"response"} events, usage on the last, then [DONE]', async () => {
    const response = await client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: 'Stream this reply please' }], stream: true }).asResponse();
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const data = (await response.text()).split('\n\n').filter((frame) => frame.startsWith('data: ')).map((frame) => frame.slice('data: '.length));
    assert.equal(data.at(-1), '[DONE]');
    const events = data.slice(0, -1).map((payload) => JSON.parse(payload) as TextResult);
    assert.equal(events.map((event) => event.response).join(''), 'Stream this reply please');
    assert.ok(events.length > 2);
    assert.ok((events.at(-1)!.usage?.total_tokens ?? 0) > 0);
  });

  it('an embedding model answers {shape, data} for a batch of texts', async () => {
    const result = (await client.ai.run(EMBEDDING_MODEL, { account_id, text: ['one', 'two'] })) as { shape: number[]; data: number[][] };
    assert.deepEqual(result.shape, [2, 768]);
    assert.equal(result.data.length, 2);
    assert.equal(result.data[0].length, 768);
    assert.notDeepEqual(result.data[0], result.data[1]);
  });

  it("errors reach the SDK as its error classes, with Cloudflare's codes", async () => {
    await assert.rejects(clientWith('wrong-token').ai.run(MODEL, { account_id, prompt: 'hi' }), (error: unknown) => error instanceof AuthenticationError && error.errors[0]?.code === 10000);
    await assert.rejects(client.ai.run('@cf/meta/llama-9-instruct', { account_id, prompt: 'hi' }), (error: unknown) => error instanceof BadRequestError && error.errors[0]?.code === 5007);
    await assert.rejects(client.ai.run(MODEL, { account_id: 'ffffffffffffffffffffffffffffffff', prompt: 'hi' }), (error: unknown) => error instanceof NotFoundError && error.errors[0]?.code === 7003);
    await assert.rejects(client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] as never }] }), (error: unknown) => error instanceof BadRequestError && /Type mismatch of '\/messages\/0\/content'/.test(error.message));
    sim.failNext({ status: 429, headers: { 'retry-after': '2' } });
    await assert.rejects(client.ai.run(MODEL, { account_id, prompt: 'hi' }), (error: unknown) => error instanceof RateLimitError && error.errors[0]?.code === 3040 && error.headers?.get('retry-after') === '2');
    await assert.rejects(client.ai.run(MODEL, { account_id, messages: [{ role: 'user', content: 'FAIL:503' }] }), (error: unknown) => error instanceof APIError && error.status === 503);
  });
});
