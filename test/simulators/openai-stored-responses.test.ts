/**
 * The OpenAI simulator's stored responses (openai/stored-responses.ts), proven with the official
 * `openai` SDK as its client: create, retrieve (plain and as events), input items, continue with
 * `previous_response_id`, delete, and a background response cancelled; what the API refuses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from './openai-simulator.ts';

async function statusOf(promise: Promise<unknown>): Promise<{ status: number | undefined; code: string | null | undefined }> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return { status: error.status, code: error.code };
  }
  assert.fail('expected an error');
}

describe('OpenAI simulator: stored responses through the openai SDK', () => {
  let sim: OpenAISimulator;
  let client: OpenAI;
  before(async () => {
    sim = await startOpenAISimulator();
    client = new OpenAI({ apiKey: OPENAI_SIMULATOR_API_KEY, baseURL: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  it('stores a response, answers it again, lists its input and continues it', async () => {
    const created = await client.responses.create({ model: 'gpt-4o', input: 'Store this' });
    assert.deepEqual(sim.storedResponseIds(), [created.id]);
    const retrieved = await client.responses.retrieve(created.id);
    assert.equal(retrieved.output_text, created.output_text);
    const items = await client.responses.inputItems.list(created.id, { order: 'asc', limit: 5 });
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0]!.type, 'message');
    const next = await client.responses.create({ model: 'gpt-4o', input: [{ role: 'user', content: 'More' }], previous_response_id: created.id });
    assert.equal(next.previous_response_id, created.id);
    const events: string[] = [];
    for await (const event of await client.responses.retrieve(next.id, { stream: true, starting_after: 1 })) events.push(event.type);
    assert.equal(events[0], 'response.output_item.added', 'after sequence number 1');
    assert.equal(events.at(-1), 'response.completed');
  });

  it("`store: false` keeps nothing; unknown ids are 404, an unknown previous response a 400; delete removes", async () => {
    const unstored = await client.responses.create({ model: 'gpt-4o', input: 'Forget this', store: false });
    assert.equal((await statusOf(client.responses.retrieve(unstored.id))).status, 404);
    assert.deepEqual(await statusOf(client.responses.create({ model: 'gpt-4o', input: 'x', previous_response_id: unstored.id })), { status: 400, code: 'previous_response_not_found' });
    const kept = await client.responses.create({ model: 'gpt-4o', input: 'Delete this' });
    await client.responses.delete(kept.id);
    assert.equal(sim.storedResponseIds().includes(kept.id), false);
    assert.equal((await statusOf(client.responses.delete(kept.id))).status, 404);
  });

  it('a background response is queued, then answered; cancelled while queued; a finished or foreground one cannot be', async () => {
    const queued = await client.responses.create({ model: 'gpt-4o', input: 'Later', background: true });
    assert.equal(queued.status, 'queued');
    assert.equal((await client.responses.retrieve(queued.id)).status, 'queued');
    assert.equal((await client.responses.retrieve(queued.id)).status, 'completed');
    assert.equal((await statusOf(client.responses.cancel(queued.id))).status, 400);
    const other = await client.responses.create({ model: 'gpt-4o', input: 'Stop', background: true });
    assert.equal((await client.responses.cancel(other.id)).status, 'cancelled');
    const foreground = await client.responses.create({ model: 'gpt-4o', input: 'Now' });
    assert.equal((await statusOf(client.responses.cancel(foreground.id))).status, 400);
  });
});
