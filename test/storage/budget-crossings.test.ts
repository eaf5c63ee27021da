/**
 * Issue 12, budget events: spend added to a key, user or team that crosses its `soft_budget` or
 * `max_budget` writes `budget.soft_exceeded` / `budget.exceeded` to the webhook outbox in the
 * transaction that adds the spend: once per crossing, never for spend that was not stored,
 * exactly once when several instances add spend at once. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { WebhookEndpoint, WebhookSettings } from '../../src/config/types.ts';
import { crossedThresholds } from '../../src/storage/budget-crossings.ts';
import type { Database } from '../../src/storage/database.ts';
import { KeyStore } from '../../src/storage/key-store.ts';
import { SpendLogStore, type SpendLogRow } from '../../src/storage/spend-log-store.ts';
import { TeamStore } from '../../src/storage/team-store.ts';
import { UserStore } from '../../src/storage/user-store.ts';
import { WebhookStore } from '../../src/storage/webhook-store.ts';
import { WebhookOutbox } from '../../src/webhooks/webhook-outbox.ts';
import { forEachDatabase } from '../helpers/databases.ts';

const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`;

function settings(endpoints: Array<Partial<WebhookEndpoint> & { url: string }>): WebhookSettings {
  return {
    endpoints: endpoints.map((endpoint) => ({ secret: SECRET, events: ['budget.soft_exceeded', 'budget.exceeded'], teamId: null, ...endpoint })),
    retryFirstMs: 1000,
    retryMaxMs: 1000,
    giveUpAfterMs: 60_000,
    timeoutMs: 1000,
    pollIntervalMs: 1000,
  };
}

let rowNumber = 0;
function spendRow(subject: { keyId?: string; userId?: string; teamId?: string }, spend: number): SpendLogRow {
  rowNumber += 1;
  return {
    id: `row_${process.pid}_${rowNumber}_${Math.random().toString(36).slice(2)}`,
    requestId: `req_${rowNumber}`,
    callType: '/chat/completions',
    keyId: subject.keyId ?? null,
    userId: subject.userId ?? null,
    teamId: subject.teamId ?? null,
    modelGroup: 'm',
    deploymentId: null,
    provider: null,
    model: null,
    promptTokens: 1,
    completionTokens: 1,
    cachedTokens: 0,
    reasoningTokens: 0,
    totalTokens: 2,
    spend,
    status: 'success',
    latencyMs: 1,
    startedAt: 1_750_000_000,
    endedAt: 1_750_000_001,
    batchId: null,
    requestCount: 1,
  };
}

interface Delivered {
  endpoint: string;
  type: string;
  id: string;
  data: Record<string, unknown>;
}

async function deliveries(db: Database): Promise<Delivered[]> {
  const rows = await db.kysely.selectFrom('webhook_deliveries').select(['endpoint_url', 'event_type', 'payload']).where('event_type', 'like', 'budget.%').orderBy('created_at').orderBy('id').execute();
  return rows.map((row) => {
    const event = JSON.parse(row.payload) as { id: string; data: Record<string, unknown> };
    return { endpoint: row.endpoint_url, type: row.event_type, id: event.id, data: event.data };
  });
}

const budgetFields = { models: [], metadata: {}, spend: 0, createdAt: 1, updatedAt: 1 };

async function insertKey(db: Database, id: string, fields: { teamId?: string; userId?: string; softBudget?: number; maxBudget?: number; keyAlias?: string }): Promise<void> {
  await new KeyStore(db).insert({ id, keyHash: `hash-${id}`, keyAlias: fields.keyAlias ?? null, userId: fields.userId ?? null, teamId: fields.teamId ?? null, models: [], metadata: {}, spend: 0, createdAt: 1, expiresAt: null, blocked: false, ...(fields.softBudget !== undefined && { softBudget: fields.softBudget }), ...(fields.maxBudget !== undefined && { maxBudget: fields.maxBudget }) });
}

test('a budget is crossed by the addition that takes the spend from under it to at or over it, by no other', () => {
  const budgets = { softBudget: 1, maxBudget: 2 };
  assert.deepEqual(crossedThresholds(0.5, 0.5, budgets), []);
  assert.deepEqual(crossedThresholds(1, 0.5, budgets), ['soft_budget'], 'reaching the budget exactly crosses it');
  assert.deepEqual(crossedThresholds(1.5, 0.5, budgets), [], 'already over: no second crossing');
  assert.deepEqual(crossedThresholds(2.5, 2, budgets), ['soft_budget', 'max_budget'], 'one addition may cross both');
  assert.deepEqual(crossedThresholds(3, 0, budgets), [], 'nothing added, nothing crossed');
  assert.deepEqual(crossedThresholds(3, 1, { softBudget: null, maxBudget: null }), []);
  // Ten additions of 0.1 sum to 0.9999999999999999 in doubles: the eleventh crosses 1, once.
  let spend = 0;
  const crossed: number[] = [];
  for (let i = 1; i <= 20; i++) {
    spend += 0.1;
    if (crossedThresholds(spend, 0.1, { softBudget: null, maxBudget: 1 }).length > 0) crossed.push(i);
  }
  assert.equal(crossed.length, 1);
});

forEachDatabase('budget crossings', (ctx) => {
  let outbox: WebhookOutbox;
  let store: SpendLogStore;
  before(async () => {
    outbox = new WebhookOutbox(new WebhookStore(ctx.db), settings([{ url: 'https://all.example/hooks' }, { url: 'https://team.example/hooks', teamId: 'team_b' }, { url: 'https://batches.example/hooks', events: ['batch.completed'] }]));
    store = new SpendLogStore(ctx.db, { budgetEvents: outbox.budgetEvents! });
  });

  test("a key's spend crossing soft_budget, then max_budget, writes one event each, to the endpoints that want them", async () => {
    await new TeamStore(ctx.db).insert({ ...budgetFields, teamId: 'team_b', teamAlias: 'Team B', members: [], blocked: false });
    await insertKey(ctx.db, 'key_b1', { teamId: 'team_b', softBudget: 1, maxBudget: 2, keyAlias: 'ci' });
    await store.insertMany([spendRow({ keyId: 'key_b1', teamId: 'team_b' }, 0.6)]);
    assert.deepEqual(await deliveries(ctx.db), [], 'under both budgets');
    await store.insertMany([spendRow({ keyId: 'key_b1', teamId: 'team_b' }, 0.6)]);
    const soft = await deliveries(ctx.db);
    assert.deepEqual(soft.map((d) => `${d.type} ${d.endpoint}`).sort(), ['budget.soft_exceeded https://all.example/hooks', 'budget.soft_exceeded https://team.example/hooks']);
    assert.equal(soft[0].id, soft[1].id, 'one event, one row per endpoint');
    assert.deepEqual(soft[0].data, { id: 'key_b1', kind: 'key', key_alias: 'ci', user_id: null, team_id: 'team_b', spend: soft[0].data.spend, soft_budget: 1, max_budget: 2, budget_reset_at: null });
    assert.ok(Math.abs(Number(soft[0].data.spend) - 1.2) < 1e-9);
    await store.insertMany([spendRow({ keyId: 'key_b1', teamId: 'team_b' }, 0.5), spendRow({ keyId: 'key_b1', teamId: 'team_b' }, 0.5)]);
    await store.insertMany([spendRow({ keyId: 'key_b1', teamId: 'team_b' }, 0.5)]);
    const all = await deliveries(ctx.db);
    assert.deepEqual(all.filter((d) => d.endpoint === 'https://all.example/hooks').map((d) => d.type), ['budget.soft_exceeded', 'budget.exceeded']);
    const exceeded = all.find((d) => d.type === 'budget.exceeded')!;
    assert.ok(Math.abs(Number(exceeded.data.spend) - 2.2) < 1e-9, 'the flush of two rows crossed max_budget');
    assert.equal(exceeded.data.max_budget, 2);
  });

  test("a user's events reach only the endpoints without a team; a team's reach its own endpoint", async () => {
    await new UserStore(ctx.db).insert({ ...budgetFields, userId: 'user_c', userEmail: null, userAlias: 'Cee', userRole: 'internal_user', teams: ['team_b'], maxBudget: 1 });
    await new TeamStore(ctx.db).update('team_b', { maxBudget: 5 });
    const before = (await deliveries(ctx.db)).length;
    // team_b has 2.7 from the test above: 3 more crosses its 5, and user_c's 1.
    await store.insertMany([spendRow({ userId: 'user_c', teamId: 'team_b' }, 3)]);
    const fresh = (await deliveries(ctx.db)).slice(before);
    const user = fresh.filter((d) => d.data.kind === 'user');
    assert.deepEqual(user.map((d) => [d.type, d.endpoint]), [['budget.exceeded', 'https://all.example/hooks']]);
    assert.deepEqual(user[0].data, { id: 'user_c', kind: 'user', user_id: 'user_c', user_alias: 'Cee', spend: 3, soft_budget: null, max_budget: 1, budget_reset_at: null });
    const team = fresh.filter((d) => d.data.kind === 'team');
    assert.deepEqual(team.map((d) => d.endpoint).sort(), ['https://all.example/hooks', 'https://team.example/hooks']);
    assert.equal(team[0].data.team_alias, 'Team B');
  });

  test('a flush that fails after the event was written leaves neither spend nor event; its retry writes both, once', async () => {
    await insertKey(ctx.db, 'key_atomic', { maxBudget: 1 });
    let failing = true;
    const failingStore = new SpendLogStore(ctx.db, {
      budgetEvents: (crossings) => {
        const alongside = outbox.budgetsCrossed(crossings)!;
        return {
          write: async (trx) => {
            await alongside.write(trx);
            // As if the process died (or the database failed) after the event's row, before the commit.
            if (failing) throw new Error('crash before commit');
          },
        };
      },
    });
    const rows = [spendRow({ keyId: 'key_atomic' }, 1.5)];
    await assert.rejects(failingStore.insertMany(rows), /crash before commit/);
    const spendOf = async () => Number((await ctx.db.kysely.selectFrom('api_keys').select('spend').where('id', '=', 'key_atomic').executeTakeFirstOrThrow()).spend);
    assert.equal(await spendOf(), 0);
    assert.deepEqual((await deliveries(ctx.db)).filter((d) => d.data.id === 'key_atomic'), []);
    failing = false;
    await failingStore.insertMany(rows);
    await failingStore.insertMany(rows); // the same rows again (a retried flush whose commit landed): nothing added
    assert.equal(await spendOf(), 1.5);
    assert.deepEqual((await deliveries(ctx.db)).filter((d) => d.data.id === 'key_atomic' && d.endpoint === 'https://all.example/hooks').map((d) => d.type), ['budget.exceeded']);
  });

  test('two instances adding spend at once write exactly one event per crossing', async () => {
    await insertKey(ctx.db, 'key_race', { softBudget: 0.5, maxBudget: 1 });
    const other = await ctx.openAnother();
    const otherStore = new SpendLogStore(other, { budgetEvents: new WebhookOutbox(new WebhookStore(other), settings([{ url: 'https://all.example/hooks' }])).budgetEvents! });
    // 20 flushes of 0.1 each, half on each instance, all at once: spend goes 0 -> 2.
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : otherStore).insertMany([spendRow({ keyId: 'key_race' }, 0.1)])));
    const events = (await deliveries(ctx.db)).filter((d) => d.data.id === 'key_race' && d.endpoint === 'https://all.example/hooks');
    assert.deepEqual(events.map((d) => d.type).sort(), ['budget.exceeded', 'budget.soft_exceeded']);
    assert.ok(Math.abs(Number((await ctx.db.kysely.selectFrom('api_keys').select('spend').where('id', '=', 'key_race').executeTakeFirstOrThrow()).spend) - 2) < 1e-9);
  });

  test('after a budget period reset brings the spend back to 0, crossing again is a new event', async () => {
    await insertKey(ctx.db, 'key_period', { maxBudget: 1 });
    await ctx.db.kysely.updateTable('api_keys').set({ budget_duration: '30d', budget_reset_at: 100 }).where('id', '=', 'key_period').execute();
    await store.insertMany([spendRow({ keyId: 'key_period' }, 1)]);
    await store.insertMany([spendRow({ keyId: 'key_period' }, 1)]);
    assert.deepEqual(await new KeyStore(ctx.db).resetBudgets(() => 30 * 86_400, 200), ['key_period']);
    await store.insertMany([spendRow({ keyId: 'key_period' }, 0.5)]);
    await store.insertMany([spendRow({ keyId: 'key_period' }, 0.5)]);
    const events = (await deliveries(ctx.db)).filter((d) => d.data.id === 'key_period' && d.endpoint === 'https://all.example/hooks');
    assert.equal(events.length, 2);
    assert.notEqual(events[0].id, events[1].id, 'two events, two ids');
    assert.equal(events[0].data.budget_reset_at, new Date(100_000).toISOString());
    assert.equal(events[1].data.budget_reset_at, new Date((200 + 30 * 86_400) * 1000).toISOString(), "the second period's");
  });

  test("SQLite: flushes that cross no budget are written by the database's worker thread; one that crosses is rolled back there and written here, with its event", async () => {
    if (ctx.dialect !== 'sqlite') return;
    const worker = ctx.db.sqliteWorker();
    assert.ok(worker !== undefined, 'a SQLite file has a worker');
    const answers: unknown[] = [];
    const call = worker.call.bind(worker);
    worker.call = async <T>(name: string, input: unknown): Promise<T> => {
      const answer = await call<T>(name, input);
      answers.push(answer);
      return answer;
    };
    try {
      await insertKey(ctx.db, 'key_worker', { maxBudget: 1 });
      await store.insertMany([spendRow({ keyId: 'key_worker' }, 0.4)]);
      await store.insertMany([spendRow({ keyId: 'key_worker' }, 0.4)]);
      await store.insertMany([spendRow({ keyId: 'key_worker' }, 0.4)]);
      await store.insertMany([spendRow({ keyId: 'key_worker' }, 0.4)]);
    } finally {
      worker.call = call;
    }
    assert.deepEqual(answers, [null, null, 'crosses_a_budget', null], 'the worker wrote the 1st, 2nd and 4th flush');
    assert.ok(Math.abs(Number((await ctx.db.kysely.selectFrom('api_keys').select('spend').where('id', '=', 'key_worker').executeTakeFirstOrThrow()).spend) - 1.6) < 1e-9, 'every flush counted once');
    assert.deepEqual((await deliveries(ctx.db)).filter((d) => d.data.id === 'key_worker' && d.endpoint === 'https://all.example/hooks').map((d) => d.type), ['budget.exceeded']);
  });

  test('without an endpoint that wants budget events, nothing is asked of the outbox', () => {
    const quiet = new WebhookOutbox(new WebhookStore(ctx.db), settings([{ url: 'https://batches.example/hooks', events: ['batch.completed'] }]));
    assert.equal(quiet.budgetEvents, undefined);
  });
});
