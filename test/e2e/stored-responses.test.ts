/**
 * The Responses API's stored responses through Portico, as the official `openai` SDK uses them:
 * `responses.create` answers with the gateway's id (never the upstream's), and `retrieve`,
 * `inputItems.list`, `delete`, `cancel` and `previous_response_id` with that id reach the upstream
 * account that stores the response, however the model group balances its deployments; another
 * tenant's key, an upstream's raw id and an edited id are "not found".
 *
 * Through a provider without a Responses API (Anthropic, answered through its chat), the gateway
 * keeps the responses itself: continuing one sends the conversation so far, and the follow-up
 * routes read what it kept.
 *
 * Upstreams: two OpenAI accounts (two simulators, each its own store) behind one model group
 * `gpt-4o` (simple shuffle: without pinning, half the follow-ups would reach the other account and
 * fail), `gpt-4o-mini` on the first account only, and an Azure OpenAI resource.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { AZURE_SIMULATOR_API_KEY, startAzureSimulator, type AzureSimulator } from '../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { E2E_MASTER_KEY } from './fixtures.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';

const ENV = { ...process.env, SR_OPENAI_KEY: OPENAI_SIMULATOR_API_KEY, SR_AZURE_KEY: AZURE_SIMULATOR_API_KEY };

function configOf(first: OpenAISimulator, second: OpenAISimulator, azure: AzureSimulator): string {
  return `
model_list:
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: ${first.url}, api_key: os.environ/SR_OPENAI_KEY }
  - model_name: gpt-4o
    litellm_params: { model: openai/gpt-4o, api_base: ${second.url}, api_key: os.environ/SR_OPENAI_KEY }
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: ${first.url}, api_key: os.environ/SR_OPENAI_KEY }
  - model_name: azure-gpt-4o
    litellm_params: { model: azure/gpt-4o-prod, api_base: ${azure.url}, api_key: os.environ/SR_AZURE_KEY, api_version: "2025-04-01-preview" }
general_settings:
  master_key: ${E2E_MASTER_KEY}
router_settings:
  num_retries: 0
`;
}

async function rejection(promise: Promise<unknown>): Promise<InstanceType<typeof OpenAI.APIError>> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof OpenAI.APIError, String(error));
    return error;
  }
  assert.fail('expected the call to fail');
}

/** The error's own message, as the gateway wrote it (the SDK's `message` starts with the status). */
function messageOf(error: InstanceType<typeof OpenAI.APIError>): string {
  return (error.error as { message?: string } | undefined)?.message ?? '';
}

describe('stored responses through the gateway (openai SDK)', () => {
  let first: OpenAISimulator;
  let second: OpenAISimulator;
  let azure: AzureSimulator;
  let portico: PorticoUnderTest;
  let teamA: OpenAI;
  let teamB: OpenAI;

  before(async () => {
    [first, second, azure] = await Promise.all([startOpenAISimulator(), startOpenAISimulator(), startAzureSimulator({ deployments: ['gpt-4o-prod'] })]);
    portico = await startPortico(configOf(first, second, azure), { env: ENV });
    teamA = portico.client((await portico.generateKey({ team_id: 'team-a' })).key);
    teamB = portico.client((await portico.generateKey({ team_id: 'team-b' })).key);
  });
  after(async () => {
    await portico?.close();
    await Promise.all([first?.close(), second?.close(), azure?.close()]);
  });

  const upstreamIds = () => [...first.storedResponseIds(), ...second.storedResponseIds()];

  it("answers with the gateway's id, which retrieve, input items and every follow-up use on the account that stores it", async () => {
    const created = await teamA.responses.create({ model: 'gpt-4o', input: 'Remember the word heron.' });
    assert.match(created.id, /^resp_[A-Za-z0-9_-]+$/);
    assert.equal(upstreamIds().includes(created.id), false, "the upstream's own id is not shown");
    assert.equal(upstreamIds().length, 1);

    const retrieved = await teamA.responses.retrieve(created.id);
    assert.equal(retrieved.id, created.id);
    assert.match(retrieved.output_text, /heron/);

    const items = await teamA.responses.inputItems.list(created.id);
    assert.equal(items.data.length, 1);
    assert.deepEqual((items.data[0] as { content: { text: string }[] }).content.map((part) => part.text), ['Remember the word heron.']);

    // Eight follow-ups in a chain: each continues the last, so each must reach the one account that has it.
    let previous = created;
    for (let turn = 0; turn < 8; turn++) {
      const next = await teamA.responses.create({ model: 'gpt-4o', input: `Turn ${turn}`, previous_response_id: previous.id });
      assert.equal(next.previous_response_id, previous.id, 'the continued response is named by the id the client knows');
      assert.notEqual(next.id, previous.id);
      previous = next;
    }
    const stores = [first.storedResponseIds().length, second.storedResponseIds().length];
    assert.deepEqual(stores.toSorted(), [0, 9], `every turn on the first turn's account, got ${stores}`);
  });

  it('a follow-up through another model of the same account is sent there; from another account it is a 400 that says where the response is', async () => {
    // Where each lands is the balancer's choice: created until one is on each account.
    const onFirst = await createOn(teamA, first, 'gpt-4o');
    const onSecond = await createOn(teamA, second, 'gpt-4o');
    const viaMini = await teamA.responses.create({ model: 'gpt-4o-mini', input: 'Same account', previous_response_id: onFirst });
    assert.equal(viaMini.previous_response_id, onFirst);
    const refused = await rejection(teamA.responses.create({ model: 'gpt-4o-mini', input: 'Other account', previous_response_id: onSecond }));
    assert.equal(refused.status, 400);
    assert.equal(refused.code, 'previous_response_not_found');
    assert.equal(refused.param, 'previous_response_id');
    assert.match(refused.message, /stored by a deployment of model `gpt-4o`/);
  });

  it("another tenant's key, the master key, a raw upstream id and an edited id", async () => {
    const created = await teamA.responses.create({ model: 'gpt-4o', input: 'Team A only' });
    for (const call of [() => teamB.responses.retrieve(created.id), () => teamB.responses.delete(created.id), () => teamB.responses.inputItems.list(created.id), () => teamB.responses.cancel(created.id)]) {
      const error = await rejection(call());
      assert.equal(error.status, 404);
      assert.equal(messageOf(error), `Response with id '${created.id}' not found.`);
    }
    const continued = await rejection(teamB.responses.create({ model: 'gpt-4o', input: 'steal', previous_response_id: created.id }));
    assert.equal(continued.status, 400);
    assert.equal(continued.code, 'previous_response_not_found');

    // The master key administers every tenant's responses, under the tenant's id.
    const master = await portico.client().responses.retrieve(created.id);
    assert.equal(master.id, created.id);

    const raw = upstreamIds().at(-1)!;
    assert.equal((await rejection(teamA.responses.retrieve(raw))).status, 404, "an upstream's raw id is not ours");
    assert.equal((await rejection(teamA.responses.create({ model: 'gpt-4o', input: 'x', previous_response_id: raw }))).code, 'previous_response_not_found');
    const edited = created.id.slice(0, -3) + (created.id.endsWith('AAA') ? 'BBB' : 'AAA');
    assert.equal((await rejection(teamA.responses.retrieve(edited))).status, 404);
    assert.equal((await rejection(teamA.responses.retrieve('resp_' + 'x'.repeat(400)))).status, 404);
    assert.equal((await rejection(teamA.responses.retrieve('resp_' + 'x'.repeat(2000)))).status, 414, 'past any id the gateway makes: the URL is refused');
  });

  it('a streamed create carries the same id in every response event, and the id works afterwards', async () => {
    const stream = await teamA.responses.create({ model: 'gpt-4o', input: 'Stream and keep', stream: true });
    const ids = new Set<string>();
    let text = '';
    for await (const event of stream) {
      if ('response' in event) ids.add(event.response.id);
      if (event.type === 'response.output_text.delta') text += event.delta;
    }
    assert.match(text, /Stream and keep/);
    assert.equal(ids.size, 1, `one id across created/in_progress/completed: ${[...ids]}`);
    const [id] = ids;
    assert.equal(upstreamIds().includes(id!), false);
    assert.equal((await teamA.responses.retrieve(id!)).id, id);
    // Retrieval as a stream (a background response's events) carries it too.
    const replay = await teamA.responses.retrieve(id!, { stream: true });
    const replayed = new Set<string>();
    for await (const event of replay) if ('response' in event) replayed.add(event.response.id);
    assert.deepEqual([...replayed], [id]);
  });

  it('delete removes the stored response upstream; background responses can be cancelled', async () => {
    const created = await teamA.responses.create({ model: 'gpt-4o', input: 'Delete me' });
    const stored = upstreamIds().length;
    await teamA.responses.delete(created.id);
    assert.equal(upstreamIds().length, stored - 1);
    const gone = await rejection(teamA.responses.retrieve(created.id));
    assert.equal(gone.status, 404);
    assert.equal(messageOf(gone), `Response with id '${created.id}' not found.`, "the upstream's 404 names the client's id");

    const queued = await teamA.responses.create({ model: 'gpt-4o', input: 'In the background', background: true });
    assert.equal(queued.status, 'queued');
    const cancelled = await teamA.responses.cancel(queued.id);
    assert.equal(cancelled.id, queued.id);
    assert.equal(cancelled.status, 'cancelled');
    const again = await rejection(teamA.responses.cancel(queued.id));
    assert.equal(again.status, 400, "the upstream's answer to cancelling a finished response");
  });

  it('on Azure OpenAI: create, retrieve and continue on the resource', async () => {
    const created = await teamA.responses.create({ model: 'azure-gpt-4o', input: 'Azure heron' });
    assert.equal(azure.requests.some((request) => request.path === '/openai/responses'), true);
    const retrieved = await teamA.responses.retrieve(created.id);
    assert.match(retrieved.output_text, /Azure heron/);
    const retrieval = azure.requests.findLast((request) => request.method === 'GET' && request.path.startsWith('/openai/responses/'));
    assert.equal(retrieval?.query['api-version'], '2025-04-01-preview');
    const next = await teamA.responses.create({ model: 'azure-gpt-4o', input: 'again', previous_response_id: created.id });
    assert.equal(next.previous_response_id, created.id);
  });

  it('a bridged deployment or an unknown id: previous_response_id is refused before any upstream call', async () => {
    const calls = first.requests.length + second.requests.length;
    const unknown = await rejection(teamA.responses.create({ model: 'gpt-4o', input: 'x', previous_response_id: 'resp_nothing' }));
    assert.equal(unknown.status, 400);
    assert.equal(messageOf(unknown), "Previous response with id 'resp_nothing' not found.");
    assert.equal(first.requests.length + second.requests.length, calls);
  });
});

/** A response of `model` stored on `account`: created until the balancer puts one there. */
async function createOn(client: OpenAI, account: OpenAISimulator, model: string): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const before = account.storedResponseIds().length;
    const response = await client.responses.create({ model, input: `placing ${i}` });
    if (account.storedResponseIds().length > before) return response.id;
  }
  assert.fail('the balancer never chose the account');
}

describe('responses the gateway keeps: answered through a provider\'s chat (Anthropic)', () => {
  let anthropic: AnthropicSimulator;
  let portico: PorticoUnderTest;
  let teamA: OpenAI;
  let teamB: OpenAI;

  before(async () => {
    anthropic = await startAnthropicSimulator();
    portico = await startPortico(`
model_list:
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}}
general_settings:
  master_key: ${E2E_MASTER_KEY}
`);
    teamA = portico.client((await portico.generateKey({ team_id: 'bridge-a' })).key);
    teamB = portico.client((await portico.generateKey({ team_id: 'bridge-b' })).key);
  });
  after(async () => {
    await portico?.close();
    await anthropic?.close();
  });

  const lastMessages = () => (anthropic.requests.at(-1)!.json as { messages: Array<{ role: string; content: unknown }> }).messages;
  const texts = (messages: Array<{ role: string; content: unknown }>) =>
    messages.map((message) => `${message.role}: ${typeof message.content === 'string' ? message.content : (message.content as Array<{ text?: string }>).map((part) => part.text ?? '').join('')}`);

  it('keeps each response; continuing one sends the conversation so far; retrieve and input items read what was kept', async () => {
    const first = await teamA.responses.create({ model: 'claude', instructions: 'Be brief.', input: 'My name is Ada.' });
    assert.match(first.id, /^resp_[0-9a-f]{24}$/);
    assert.equal((first as { store?: boolean }).store, true);
    const second = await teamA.responses.create({ model: 'claude', input: [{ role: 'user', content: 'What is my name?' }], previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.deepEqual(texts(lastMessages()), [`user: My name is Ada.`, `assistant: ${first.output_text}`, 'user: What is my name?'], 'the first turn and its answer, then the new input');
    const third = await teamA.responses.create({ model: 'claude', input: 'And again?', previous_response_id: second.id });
    assert.deepEqual(texts(lastMessages()).length, 5, 'three turns: two answered, one new');

    const retrieved = await teamA.responses.retrieve(third.id);
    assert.deepEqual([retrieved.id, retrieved.output_text, retrieved.previous_response_id], [third.id, third.output_text, second.id]);
    const items = await teamA.responses.inputItems.list(second.id);
    assert.equal(items.data.length, 1);
    assert.match(items.data[0]!.id!, /^msg_/);
    const master = await portico.client().responses.retrieve(first.id);
    assert.equal(master.output_text, first.output_text, 'the master key reads every tenant\'s');
  });

  it('a streamed response is kept by the time its last event arrives', async () => {
    const stream = await teamA.responses.create({ model: 'claude', input: 'Stream and keep me', stream: true });
    let id = '';
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    const next = await teamA.responses.create({ model: 'claude', input: 'Continue', previous_response_id: id });
    assert.equal(next.previous_response_id, id);
    assert.equal(texts(lastMessages())[0], 'user: Stream and keep me');
  });

  it("another tenant, store: false, delete and cancel", async () => {
    const kept = await teamA.responses.create({ model: 'claude', input: 'Private' });
    assert.equal((await rejection(teamB.responses.retrieve(kept.id))).status, 404);
    assert.equal((await rejection(teamB.responses.inputItems.list(kept.id))).status, 404);
    assert.equal((await rejection(teamB.responses.delete(kept.id))).status, 404);
    assert.equal((await rejection(teamB.responses.create({ model: 'claude', input: 'x', previous_response_id: kept.id }))).code, 'previous_response_not_found');
    const cancel = await rejection(teamA.responses.cancel(kept.id));
    assert.deepEqual([cancel.status, messageOf(cancel)], [400, 'Only responses created with background=true can be cancelled.']);

    const unkept = await teamA.responses.create({ model: 'claude', input: 'Forget me', store: false });
    assert.equal((unkept as { store?: boolean }).store, false);
    assert.equal((await rejection(teamA.responses.retrieve(unkept.id))).status, 404);

    await teamA.responses.delete(kept.id);
    assert.equal((await rejection(teamA.responses.retrieve(kept.id))).status, 404);
    assert.equal((await rejection(teamA.responses.create({ model: 'claude', input: 'x', previous_response_id: kept.id }))).code, 'previous_response_not_found');
    const rows = await portico.services.database.kysely.selectFrom('stored_responses').select('id').where('id', 'in', [kept.id, unkept.id]).execute();
    assert.deepEqual(rows, []);
  });

  it('when the database cannot keep a response, the answer still comes, saying store: false, and the model is asked once', async () => {
    // Last in this suite: the table goes.
    await portico.services.database.kysely.schema.dropTable('stored_responses').execute();
    const calls = anthropic.requests.length;
    const answered = await teamA.responses.create({ model: 'claude', input: 'Nowhere to keep this' });
    assert.equal(answered.output_text, 'Nowhere to keep this');
    assert.equal((answered as { store?: boolean }).store, false);
    assert.equal(anthropic.requests.length, calls + 1, 'a failed store is not a failed attempt: no retry, no second answer');
    assert.ok(portico.logs.some((line) => String(line.msg).includes('could not be stored')));
  });
});

describe('responses the gateway keeps: the mock provider (the example config)', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(`
model_list:
  - {model_name: gpt-4o-mini, litellm_params: {model: mock/gpt-4o-mini}}
general_settings:
  master_key: ${E2E_MASTER_KEY}
`);
  });
  after(() => portico?.close());

  it('a mock Response is kept and can be continued, retrieved and streamed', async () => {
    const client = portico.client();
    const first = await client.responses.create({ model: 'gpt-4o-mini', input: 'My name is Ada.' });
    assert.equal((first as { store?: boolean }).store, true);
    const second = await client.responses.create({ model: 'gpt-4o-mini', input: 'What is my name?', previous_response_id: first.id });
    assert.equal(second.previous_response_id, first.id);
    assert.equal((await client.responses.retrieve(second.id)).output_text, second.output_text);
    const stream = await client.responses.create({ model: 'gpt-4o-mini', input: 'Streamed', stream: true, previous_response_id: second.id });
    let id = '';
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    assert.equal((await client.responses.retrieve(id)).previous_response_id, second.id);
  });
});
