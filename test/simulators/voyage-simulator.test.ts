/**
 * The Voyage AI simulator answers Voyage's official TypeScript SDK (`voyageai`): embeddings (floats,
 * a chosen dimension, base64), rerank (top k, documents returned), and its errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VoyageAIClient, VoyageAIError } from 'voyageai';
import { startVoyageSimulator, VOYAGE_SIMULATOR_API_KEY, type VoyageSimulator } from './voyage-simulator.ts';

describe("Voyage AI simulator, through Voyage's SDK", () => {
  let sim: VoyageSimulator;
  let client: VoyageAIClient;
  before(async () => {
    sim = await startVoyageSimulator();
    client = new VoyageAIClient({ apiKey: VOYAGE_SIMULATOR_API_KEY, baseUrl: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  it('embeds, at a chosen dimension, and as base64', async () => {
    const floats = await client.embed({ input: ['one', 'two'], model: 'voyage-3', inputType: 'document' });
    assert.equal(floats.data!.length, 2);
    assert.equal(floats.data![0]!.embedding!.length, 1024);
    assert.ok(floats.usage!.totalTokens! > 0);
    const small = await client.embed({ input: 'three', model: 'voyage-3', outputDimension: 256 });
    assert.equal(small.data![0]!.embedding!.length, 256);
    assert.equal((sim.requests.at(-1)!.json as { output_dimension: number }).output_dimension, 256);
    await client.embed({ input: 'four', model: 'voyage-3', encodingFormat: 'base64' });
    assert.equal(typeof ((sim.requests.at(-1)!.json as { encoding_format: string }).encoding_format), 'string');
  });

  it('reranks, most relevant first, the top k with their documents', async () => {
    const ranked = await client.rerank({ query: 'capital of France', documents: ['Berlin is in Germany', 'Paris is the capital of France', 'Bananas'], model: 'rerank-2', topK: 2, returnDocuments: true });
    assert.equal(ranked.data!.length, 2);
    assert.equal(ranked.data![0]!.index, 1);
    assert.equal(ranked.data![0]!.document, 'Paris is the capital of France');
    assert.ok(ranked.data![0]!.relevanceScore! > ranked.data![1]!.relevanceScore!);
  });

  it('refuses a bad key and a field it does not know', async () => {
    const wrong = new VoyageAIClient({ apiKey: 'pa-wrong', baseUrl: sim.url, maxRetries: 0 });
    await assert.rejects(wrong.embed({ input: 'x', model: 'voyage-3' }), (error: unknown) => error instanceof VoyageAIError && error.statusCode === 401);
    const response = await fetch(`${sim.url}/embeddings`, { method: 'POST', headers: { authorization: `Bearer ${VOYAGE_SIMULATOR_API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ input: 'x', model: 'voyage-3', dimensions: 8 }) });
    assert.equal(response.status, 400);
    assert.match(((await response.json()) as { detail: string }).detail, /unrecognized fields: dimensions/);
  });
});
