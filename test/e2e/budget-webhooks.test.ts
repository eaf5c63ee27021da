/**
 * Issue 12, budget webhooks: `budget.soft_exceeded` and `budget.exceeded` when a key's, user's or
 * team's spend crosses its `soft_budget` / `max_budget`, once per crossing (again after a budget
 * period reset), from live requests and from a batch's cost, in OpenAI's event envelope, signed
 * per Standard Webhooks and verified with both the `openai` SDK's `webhooks.unwrap` and the
 * `standardwebhooks` library; a team's endpoint gets its team's and its keys' events, not its
 * users'; two instances on one PostgreSQL crossing a team's budget together send one event. On
 * SQLite and PostgreSQL, through the `openai` SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { WebhookReceiver as Receiver, type ReceivedEvent } from '../helpers/webhook-receiver.ts';

const MASTER_KEY = 'sk-budget-hooks-master-0123456789';
const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`;
const TEAM_SECRET = `whsec_${Buffer.from('another secret, 32 bytes long...').toString('base64')}`;
const INPUT_PRICE = 0.001;
const OUTPUT_PRICE = 0.002;

function config(endpoints: Array<{ url: string; secret: string; team_id?: string }>): string {
  return `
model_list:
  - model_name: priced
    litellm_params: { model: mock/priced }
    model_info: { input_cost_per_token: ${INPUT_PRICE}, output_cost_per_token: ${OUTPUT_PRICE} }
general_settings:
  master_key: ${MASTER_KEY}
  user_api_key_cache_ttl: 0.1
portico_settings:
  batch: { poll_interval_ms: 100, refresh_after_seconds: 0 }
  spend_logs: { flush_interval_ms: 50 }
  webhooks:
${endpoints.map((e) => `    - { url: "${e.url}", secret: "${e.secret}"${e.team_id ? `, team_id: ${e.team_id}` : ''} }`).join('\n')}
  webhook_delivery: { retry_first_seconds: 0.05, retry_max_seconds: 0.2, poll_interval_ms: 50 }
`;
}

type BudgetData = { id: string; kind: string; spend: number; soft_budget: number | null; max_budget: number | null } & Record<string, unknown>;
type BudgetEvent = ReceivedEvent & { data: BudgetData };

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function budgetEvents(receiver: Receiver, subjectId: string, type?: string): BudgetEvent[] {
  return (receiver.uniqueEvents() as BudgetEvent[]).filter((event) => event.type.startsWith('budget.') && event.data.id === subjectId && (type === undefined || event.type === type));
}

/** Verifies the request that carried `event` with both libraries; answers what the SDK unwrapped. */
async function verified(receiver: Receiver, event: ReceivedEvent, secret: string) {
  const request = receiver.received.find((r) => r.headers['webhook-id'] === event.id)!;
  // The SDK's event types list OpenAI's own; it verifies and parses any event.
  const unwrapped = (await new OpenAI({ apiKey: 'unused', webhookSecret: secret }).webhooks.unwrap(request.body, request.headers as Record<string, string>)) as unknown as BudgetEvent;
  assert.deepEqual(new Webhook(secret).verify(request.body, request.headers as Record<string, string>), JSON.parse(request.body));
  return { unwrapped, body: request.body };
}

/** Chats with `client` (about 0.05 USD each) until its budget refuses it; answers how many were answered. */
async function spendUntilRefused(client: OpenAI): Promise<number> {
  for (let answered = 0; answered < 80; answered++) {
    try {
      await client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'a question long enough to cost something' }] });
    } catch (error) {
      assert.ok(error instanceof OpenAI.APIError && error.status === 400 && error.type === 'budget_exceeded', String(error));
      return answered;
    }
    // The ledger writes spend by group commit; the key is read again after its cache lifetime.
    await sleep(120);
  }
  assert.fail('never refused');
}

async function admin(portico: PorticoUnderTest, path: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await portico.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, unknown>;
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`budget webhooks [${dialect}]`, () => {
    let receiver: Receiver;
    let teamReceiver: Receiver;
    let batchTeamReceiver: Receiver;
    let portico: PorticoUnderTest;

    before(async () => {
      receiver = new Receiver();
      teamReceiver = new Receiver();
      batchTeamReceiver = new Receiver();
      await Promise.all([receiver.start(), teamReceiver.start(), batchTeamReceiver.start()]);
      portico = await startPortico(
        config([
          { url: receiver.url, secret: SECRET },
          { url: teamReceiver.url, secret: TEAM_SECRET, team_id: 'hooks-team' },
          { url: batchTeamReceiver.url, secret: TEAM_SECRET, team_id: 'batch-team' },
        ]),
        { dialect },
      );
    });
    after(async () => {
      await portico?.close();
      await Promise.all([receiver?.stop(), teamReceiver?.stop(), batchTeamReceiver?.stop()]);
    });

    test('a key spending through soft_budget, then max_budget, sends one budget.soft_exceeded then one budget.exceeded, verified by both libraries', async () => {
      await admin(portico, '/team/new', { team_id: 'hooks-team' });
      await admin(portico, '/user/new', { user_id: 'hooks-user', max_budget: 0.15, auto_create_key: false });
      const key = await portico.generateKey({ team_id: 'hooks-team', user_id: 'hooks-user', key_alias: 'hooks-key', soft_budget: 0.1, max_budget: 0.2 });
      const answered = await spendUntilRefused(portico.client(key.key));
      assert.ok(answered >= 3, `${answered} answers before the key's budget stopped it`);
      await until("the key's budget.exceeded arrives", () => budgetEvents(receiver, key.token, 'budget.exceeded').length > 0);
      // Whatever was still in flight when the key was refused is written by now, and sent no second event.
      await sleep(400);

      const soft = budgetEvents(receiver, key.token, 'budget.soft_exceeded');
      const exceeded = budgetEvents(receiver, key.token, 'budget.exceeded');
      assert.equal(soft.length, 1);
      assert.equal(exceeded.length, 1);
      assert.ok(soft[0].created_at <= exceeded[0].created_at);

      const { unwrapped, body } = await verified(receiver, exceeded[0], SECRET);
      assert.equal(unwrapped.type, 'budget.exceeded');
      assert.equal(unwrapped.object, 'event');
      assert.match(unwrapped.id, /^evt_[0-9a-f]{32}$/);
      const data = unwrapped.data;
      assert.deepEqual(data, { id: key.token, kind: 'key', key_alias: 'hooks-key', user_id: 'hooks-user', team_id: 'hooks-team', spend: data.spend, soft_budget: 0.1, max_budget: 0.2, budget_reset_at: null });
      assert.ok(data.spend >= 0.2, `spend ${data.spend}`);
      assert.ok(!body.includes(key.key), 'never the key secret');
      const softData = (await verified(receiver, soft[0], SECRET)).unwrapped.data;
      assert.ok(softData.spend >= 0.1 && softData.spend < 0.2 + 0.1, `soft spend ${softData.spend}`);

      // The user crossed its max_budget on the way (0.15): the endpoint without a team has it,
      // the team's endpoint does not (a user's budget spans its teams).
      await until("the user's event arrives", () => budgetEvents(receiver, 'hooks-user', 'budget.exceeded').length === 1);
      assert.equal(budgetEvents(receiver, 'hooks-user').length, 1);
      // The team's endpoint gets its key's two events, signed with its own secret.
      await until("the team's endpoint has the key's events", () => budgetEvents(teamReceiver, key.token).length === 2);
      await verified(teamReceiver, budgetEvents(teamReceiver, key.token, 'budget.exceeded')[0], TEAM_SECRET);
      assert.deepEqual(teamReceiver.events().filter((e) => e.data.id === 'hooks-user'), []);
      // Listed by the delivery API like the batch events.
      const listed = (await (await portico.fetch('/webhooks/deliveries?type=budget.soft_exceeded')).json()) as { data: Array<{ event: { data: { id: string } } }> };
      assert.ok(listed.data.some((d) => d.event.data.id === key.token));
    });

    test('after the budget period resets the spend, crossing max_budget again sends a new event', async () => {
      const key = await portico.generateKey({ max_budget: 0.1, budget_duration: '30d' });
      await spendUntilRefused(portico.client(key.key));
      await until('the first event arrives', () => budgetEvents(receiver, key.token, 'budget.exceeded').length === 1);

      // The period ends (as 30 days later): the spend goes back to 0 and the key works again.
      const database = portico.services.database.kysely;
      await database.updateTable('api_keys').set({ budget_reset_at: Math.floor(Date.now() / 1000) - 1 }).where('id', '=', key.token).execute();
      await portico.jobs.all.find((job) => job.name === 'key-budget-reset')!.runOnce();
      assert.equal(Number((await database.selectFrom('api_keys').select('spend').where('id', '=', key.token).executeTakeFirstOrThrow()).spend), 0);
      // The key cache serves the key read before the reset until it is read again.
      const chat = () => portico.client(key.key).chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'a question long enough to cost something' }] });
      await until('the key works again', () => chat().then(() => true, () => false));
      await spendUntilRefused(portico.client(key.key));
      await until('the second event arrives', () => budgetEvents(receiver, key.token, 'budget.exceeded').length === 2);
      await sleep(300);
      const events = budgetEvents(receiver, key.token, 'budget.exceeded');
      assert.equal(events.length, 2, 'one per crossing');
      assert.notEqual(events[0].id, events[1].id);
      // Each names its period's end; in whole seconds the new period can end in the same second as
      // the first (the key was made and reset within one), never before it.
      assert.ok(Date.parse(String(events[1].data.budget_reset_at)) >= Date.parse(String(events[0].data.budget_reset_at)), 'the second names the new period');
      for (const event of events) await verified(receiver, event, SECRET);
    });

    test("a batch whose cost takes its team past max_budget sends the team's budget.exceeded to the team's endpoint", async () => {
      // Lines with max_tokens 1 reserve one output token each; the mock answers with many more, so
      // the batch fits the budget when created and its actual cost crosses it.
      const messages = [{ role: 'user', content: 'x'.repeat(40) }];
      const lines = 3;
      const estimate = lines * (Math.ceil(JSON.stringify(messages).length / 4) * (INPUT_PRICE / 2) + 1 * (OUTPUT_PRICE / 2));
      const budget = Number((estimate * 1.05).toFixed(6));
      await admin(portico, '/team/new', { team_id: 'batch-team', max_budget: budget });
      const key = await portico.generateKey({ team_id: 'batch-team' });
      const client = portico.client(key.key);
      const jsonl = Array.from({ length: lines }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'priced', max_tokens: 1, messages } })).join('\n');
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
      let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await until('the batch completes', async () => (batch = await client.batches.retrieve(batch.id)).status === 'completed');

      await until("the team's event reaches the team's endpoint", () => budgetEvents(batchTeamReceiver, 'batch-team', 'budget.exceeded').length === 1);
      await sleep(300);
      const events = budgetEvents(batchTeamReceiver, 'batch-team');
      assert.equal(events.length, 1);
      const data = (await verified(batchTeamReceiver, events[0], TEAM_SECRET)).unwrapped.data;
      assert.deepEqual(data, { id: 'batch-team', kind: 'team', team_id: 'batch-team', team_alias: null, spend: data.spend, soft_budget: null, max_budget: budget, budget_reset_at: null });
      assert.ok(data.spend >= budget, `spend ${data.spend} over ${budget}`);
      const info = (await (await portico.fetch('/team/info?team_id=batch-team')).json()) as { team_info: { spend: number } };
      assert.equal(info.team_info.spend, data.spend, "the event's spend is the team's after the batch's cost");
      // The endpoint without a team has it too; the other team's endpoint does not.
      await until('the endpoint without a team has it', () => budgetEvents(receiver, 'batch-team').length === 1);
      assert.deepEqual(budgetEvents(teamReceiver, 'batch-team'), []);
    });
  });
}

describe('budget webhooks: two instances on one PostgreSQL', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(async () => database?.dispose());

  test("two instances spending a team's budget at once send one budget.exceeded", async () => {
    const receiver = new Receiver();
    await receiver.start();
    const yaml = config([{ url: receiver.url, secret: SECRET }]);
    const first = await startPortico(yaml, { databaseUrl: database.url });
    const second = await startPortico(yaml, { databaseUrl: database.url });
    try {
      await admin(first, '/team/new', { team_id: 'race-team', soft_budget: 0.2, max_budget: 0.4 });
      const keys = [await first.generateKey({ team_id: 'race-team' }), await first.generateKey({ team_id: 'race-team' })];
      // Each instance sends 8 requests at once, twice: their flushes add to the team's spend together.
      for (let round = 0; round < 2; round++) {
        await Promise.all(
          [first, second].flatMap((instance, i) =>
            Array.from({ length: 8 }, () =>
              instance
                .client(keys[i].key)
                .chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'a question long enough to cost something' }] })
                .catch(() => undefined),
            ),
          ),
        );
      }
      const spend = async () => ((await (await first.fetch('/team/info?team_id=race-team')).json()) as { team_info: { spend: number } }).team_info.spend;
      await until('the team is over its budget', async () => (await spend()) >= 0.4);
      await until('the event arrives', () => budgetEvents(receiver, 'race-team', 'budget.exceeded').length >= 1);
      await sleep(500);
      assert.equal(budgetEvents(receiver, 'race-team', 'budget.exceeded').length, 1);
      assert.equal(budgetEvents(receiver, 'race-team', 'budget.soft_exceeded').length, 1);
      const rows = await first.services.database.kysely.selectFrom('webhook_deliveries').select('event_id').where('event_type', 'like', 'budget.%').where('payload', 'like', '%race-team%').execute();
      assert.equal(rows.length, 2, 'one row per crossing in the outbox');
    } finally {
      await first.close();
      await second.close();
      await receiver.stop();
    }
  });
});
