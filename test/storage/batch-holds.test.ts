/**
 * Batch holds (migration 0015, `storage/batch-hold-store.ts`) on both databases: a batch's
 * reservation is placed with its row and refused over a key's, user's or team's budget (spend +
 * reserved + this one); its deployment's enqueued tokens refuse or queue it; recording its cost
 * releases the reservation exactly once however many instances race; instances creating at once
 * never reserve past a budget; a waiting batch is started oldest first once there is room.
 */
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import type { Database } from '../../src/storage/database.ts';
import { BatchStore } from '../../src/storage/batch-store.ts';
import type { HoldRequest } from '../../src/storage/batch-hold-store.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { KeyStore } from '../../src/storage/key-store.ts';
import { BudgetExceededError, InvalidRequestError } from '../../src/spec/errors.ts';
import { forEachDatabase, type TestDatabaseContext } from '../helpers/databases.ts';
import { newBatch, newFile, uniqueId } from './fixtures.ts';

async function instances(ctx: TestDatabaseContext, count: number): Promise<Database[]> {
  const others = await Promise.all(Array.from({ length: count - 1 }, () => ctx.openAnother({ migrate: false })));
  return [ctx.db, ...others];
}

async function insertSubjects(db: Database, budgets: { key?: number; user?: number; team?: number }): Promise<{ keyId: string; userId: string; teamId: string }> {
  const ids = { keyId: uniqueId('key_'), userId: uniqueId('user_'), teamId: uniqueId('team_') };
  await db.kysely.insertInto('users').values({ user_id: ids.userId, max_budget: budgets.user ?? null, created_at: 1, updated_at: 1 } as never).execute();
  await db.kysely.insertInto('teams').values({ team_id: ids.teamId, max_budget: budgets.team ?? null, created_at: 1, updated_at: 1 } as never).execute();
  await new KeyStore(db).insert({ id: ids.keyId, keyHash: uniqueId('hash_'), keyAlias: null, userId: ids.userId, teamId: ids.teamId, models: [], metadata: {}, spend: 0, createdAt: 1, expiresAt: null, blocked: false });
  if (budgets.key !== undefined) await db.kysely.updateTable('api_keys').set({ max_budget: budgets.key }).where('id', '=', ids.keyId).execute();
  return ids;
}

async function reserved(db: Database, ids: { keyId: string; userId: string; teamId: string }): Promise<number[]> {
  const key = await db.kysely.selectFrom('api_keys').select(['reserved_spend', 'spend']).where('id', '=', ids.keyId).executeTakeFirstOrThrow();
  const user = await db.kysely.selectFrom('users').select(['reserved_spend', 'spend']).where('user_id', '=', ids.userId).executeTakeFirstOrThrow();
  const team = await db.kysely.selectFrom('teams').select(['reserved_spend', 'spend']).where('team_id', '=', ids.teamId).executeTakeFirstOrThrow();
  return [key, user, team].map((row) => Number(row.reserved_spend));
}

function holdFor(batchId: string, ids: { keyId: string; userId: string; teamId: string }, overrides: Partial<HoldRequest> = {}): HoldRequest {
  return {
    batchId,
    keyId: ids.keyId,
    userId: ids.userId,
    teamId: ids.teamId,
    deploymentId: 'dep-a',
    deploymentLabel: 'gpt-4o-mini',
    reservedCost: 0.25,
    inputTokens: 100,
    outputTokens: 100,
    whenQuotaExceeded: 'refuse',
    ...overrides,
  };
}

/** A batch intent with its hold; answers the state of the hold. */
async function createWithHold(db: Database, owner: string, keyId: string, hold: (batchId: string) => HoldRequest) {
  const input = newFile({ owner });
  await new FileStore(db).insert(input);
  const batch = newBatch(input.id, { owner, keyId, expiresAt: 4_000_000_000 });
  const state = await new BatchStore(db).insertIntent(batch, 'creator', 15_000, undefined, hold(batch.id));
  return { batchId: batch.id, state };
}

forEachDatabase('batch holds', (ctx) => {
  test('a hold adds to the reserved spend of key, user and team; recording the cost releases it once and charges the actual cost', async () => {
    const ids = await insertSubjects(ctx.db, {});
    const { batchId, state } = await createWithHold(ctx.db, 'user:x', ids.keyId, (id) => holdFor(id, ids));
    assert.equal(state, 'held');
    assert.deepEqual(await reserved(ctx.db, ids), [0.25, 0.25, 0.25]);
    await ctx.db.kysely.updateTable('batches').set({ creating: 0, status: 'completed' }).where('id', '=', batchId).execute();
    const pools = await instances(ctx, 3);
    const ledger = { id: `spend_${batchId}`, requestId: batchId, callType: 'batch', modelGroup: 'gpt-4o-mini', deploymentId: 'dep-a', provider: null, model: null, promptTokens: 1, completionTokens: 1, cachedTokens: 0, reasoningTokens: 0, totalTokens: 2, status: 'success', latencyMs: 0, startedAt: 1, endedAt: 2, requestCount: 1 } as const;
    const outcomes = await Promise.all(Array.from({ length: 12 }, (_, i) => new BatchStore(pools[i % pools.length]).recordCostOnce(batchId, 0.1, ids.keyId, 1_750_000_100, ledger)));
    assert.equal(outcomes.filter(Boolean).length, 1);
    assert.deepEqual(await reserved(ctx.db, ids), [0, 0, 0]);
    const spends = await Promise.all([
      ctx.db.kysely.selectFrom('api_keys').select('spend').where('id', '=', ids.keyId).executeTakeFirstOrThrow(),
      ctx.db.kysely.selectFrom('users').select('spend').where('user_id', '=', ids.userId).executeTakeFirstOrThrow(),
      ctx.db.kysely.selectFrom('teams').select('spend').where('team_id', '=', ids.teamId).executeTakeFirstOrThrow(),
    ]);
    assert.deepEqual(spends.map((row) => Number(row.spend)), [0.1, 0.1, 0.1]);
    assert.equal(await ctx.db.kysely.selectFrom('batch_holds').select('batch_id').where('batch_id', '=', batchId).executeTakeFirst(), undefined);
  });

  for (const kind of ['key', 'user', 'team'] as const) {
    test(`a reservation past the ${kind}'s max_budget is refused, and writes neither batch nor hold`, async () => {
      const ids = await insertSubjects(ctx.db, { [kind]: 0.4 });
      await createWithHold(ctx.db, 'user:x', ids.keyId, (id) => holdFor(id, ids));
      const before = await reserved(ctx.db, ids);
      let refusedId = '';
      await assert.rejects(
        createWithHold(ctx.db, 'user:x', ids.keyId, (id) => {
          refusedId = id;
          return holdFor(id, ids);
        }),
        (error: unknown) => error instanceof BudgetExceededError && error.type === 'budget_exceeded' && /Reserved by running batches: 0\.25/.test(error.message),
      );
      assert.deepEqual(await reserved(ctx.db, ids), before);
      assert.equal(await new BatchStore(ctx.db).getById(refusedId), undefined);
    });
  }

  test('a dropped intent gives its reservation back', async () => {
    const ids = await insertSubjects(ctx.db, {});
    const { batchId } = await createWithHold(ctx.db, 'user:x', ids.keyId, (id) => holdFor(id, ids));
    assert.equal(await new BatchStore(ctx.db).dropIntent(batchId, 'creator'), true);
    assert.deepEqual(await reserved(ctx.db, ids), [0, 0, 0]);
  });

  test('instances creating at once never reserve past a budget: of eight creates that each fit alone, four pass a budget of four', async () => {
    const ids = await insertSubjects(ctx.db, { team: 1.0 });
    const pools = await instances(ctx, 4);
    const outcomes = await Promise.allSettled(pools.flatMap((db) => [db, db]).map((db) => createWithHold(db, 'user:y', ids.keyId, (id) => holdFor(id, ids))));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 4);
    for (const outcome of outcomes) if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof BudgetExceededError, String(outcome.reason));
    assert.deepEqual(await reserved(ctx.db, ids), [1, 1, 1]);
  });

  test("a deployment's enqueued tokens refuse a batch that does not fit, or queue it; the oldest waiting batch starts first once there is room", async () => {
    const ids = await insertSubjects(ctx.db, {});
    const deploymentId = uniqueId('dep-');
    const quota = (policy: 'refuse' | 'wait', tokens = 600) => (id: string) => holdFor(id, ids, { deploymentId, inputTokens: tokens, maxEnqueuedTokens: 1000, whenQuotaExceeded: policy, reservedCost: 0 });
    const first = await createWithHold(ctx.db, 'user:z', ids.keyId, quota('refuse'));
    assert.equal(first.state, 'held');
    await assert.rejects(createWithHold(ctx.db, 'user:z', ids.keyId, quota('refuse')), (error: unknown) => error instanceof InvalidRequestError && error.code === 'token_limit_exceeded' && /Limit: 1,000 enqueued tokens/.test(error.message));
    await assert.rejects(createWithHold(ctx.db, 'user:z', ids.keyId, quota('wait', 1001)), (error: unknown) => error instanceof InvalidRequestError && error.code === 'token_limit_exceeded', 'larger than the whole quota: refused even when waiting');
    const second = await createWithHold(ctx.db, 'user:z', ids.keyId, quota('wait'));
    const third = await createWithHold(ctx.db, 'user:z', ids.keyId, quota('wait', 100));
    assert.deepEqual([second.state, third.state], ['waiting', 'waiting'], 'the small one queues behind the older one although it would fit');
    const batches = new BatchStore(ctx.db);
    const waiting = await batches.getById(second.batchId);
    assert.deepEqual([waiting?.waitingForQuota, waiting?.creating, waiting?.status, waiting?.nextSyncAt], [true, false, 'validating', 4_000_000_000]);
    assert.deepEqual(await batches.deploymentsWithWaitingBatches().then((d) => d.includes(deploymentId)), true);
    assert.deepEqual(await batches.startWaitingBatches(deploymentId, 1000, 'starter', 15_000), [], 'no room yet');
    // The first batch ends: its hold goes with its cost.
    await ctx.db.kysely.updateTable('batches').set({ creating: 0, status: 'completed' }).where('id', '=', first.batchId).execute();
    await batches.recordCostOnce(first.batchId, 0, ids.keyId);
    const started = await batches.startWaitingBatches(deploymentId, 1000, 'starter', 15_000);
    assert.deepEqual(started.map((b) => b.id), [second.batchId, third.batchId]);
    assert.deepEqual([started[0].creating, started[0].waitingForQuota, started[0].leaseOwner], [true, false, 'starter']);
    const holds = await ctx.db.kysely.selectFrom('batch_holds').select(['state']).where('deployment_id', '=', deploymentId).execute();
    assert.deepEqual(holds.map((h) => h.state), ['held', 'held']);
  });

  test('batches queued in the same millisecond start in the order they were created, not in the order of their random ids', async () => {
    const ids = await insertSubjects(ctx.db, {});
    const deploymentId = uniqueId('dep-');
    const quota = (tokens: number) => (id: string) => holdFor(id, ids, { deploymentId, inputTokens: tokens, maxEnqueuedTokens: 1000, whenQuotaExceeded: 'wait', reservedCost: 0 });
    mock.timers.enable({ apis: ['Date'], now: 1_796_000_000_000 });
    let first: Awaited<ReturnType<typeof createWithHold>>;
    const queued: string[] = [];
    try {
      first = await createWithHold(ctx.db, 'user:q', ids.keyId, quota(600));
      // Large and small alternating: any overtaking by id order would start a small one early.
      for (const tokens of [600, 100, 600, 100, 100, 600, 100]) queued.push((await createWithHold(ctx.db, 'user:q', ids.keyId, quota(tokens))).batchId);
    } finally {
      mock.timers.reset();
    }
    const batches = new BatchStore(ctx.db);
    assert.deepEqual(await batches.startWaitingBatches(deploymentId, 1000, 'starter', 15_000), [], 'the oldest waiting (600) does not fit beside the held 600');
    await ctx.db.kysely.updateTable('batches').set({ creating: 0, status: 'completed' }).where('id', '=', first.batchId).execute();
    await batches.recordCostOnce(first.batchId, 0, ids.keyId);
    const started = await batches.startWaitingBatches(deploymentId, 1000, 'starter', 15_000);
    assert.deepEqual(started.map((b) => b.id), queued.slice(0, 2), 'the first 600 and 100 start; the next 600 does not fit, and nothing behind it overtakes');
  });

  test("a released hold is told once, with its deployment, after its transaction commits; enqueued tokens are summed per deployment, held and waiting", async () => {
    const ids = await insertSubjects(ctx.db, {});
    const deploymentId = uniqueId('dep-');
    const other = uniqueId('dep-');
    const quota = (tokens: number, on = deploymentId) => (id: string) => holdFor(id, ids, { deploymentId: on, inputTokens: tokens, maxEnqueuedTokens: 1000, whenQuotaExceeded: 'wait', reservedCost: 0 });
    const held = await createWithHold(ctx.db, 'user:w', ids.keyId, quota(700));
    const waiting = await createWithHold(ctx.db, 'user:w', ids.keyId, quota(500));
    await createWithHold(ctx.db, 'user:w', ids.keyId, quota(200, other));
    const batches = new BatchStore(ctx.db);
    assert.deepEqual(Object.fromEntries(await batches.enqueuedTokensOf([deploymentId, other, uniqueId('dep-')])), { [deploymentId]: { held: 700, waiting: 500 }, [other]: { held: 200, waiting: 0 } });

    const told: string[] = [];
    batches.onHoldReleased((id) => {
      told.push(id);
      throw new Error('a failing listener changes nothing');
    });
    await ctx.db.kysely.updateTable('batches').set({ creating: 0, status: 'completed' }).where('id', '=', held.batchId).execute();
    // Cost recorded, then the terminal status stored: one release, told once.
    assert.equal(await batches.recordCostOnce(held.batchId, 0, ids.keyId), true);
    assert.equal(await batches.storeTerminal(held.batchId, { status: 'completed' }, {}), false, 'already terminal');
    assert.deepEqual(told, [deploymentId]);
    assert.equal(await batches.recordCostOnce(held.batchId, 0, ids.keyId), false);
    assert.deepEqual(told, [deploymentId], 'nothing released, nothing told');
    // A waiting batch cancelled releases its hold too (the next in line may start).
    await ctx.db.kysely.updateTable('batches').set({ status: 'cancelling' }).where('id', '=', waiting.batchId).execute();
    assert.equal(await batches.storeTerminal(waiting.batchId, { status: 'cancelled' }, {}), true);
    assert.deepEqual(told, [deploymentId, deploymentId]);
    // A transaction that rolls back after releasing tells nothing.
    const last = await createWithHold(ctx.db, 'user:w', ids.keyId, quota(100));
    const failing = { write: async () => { throw new Error('rolled back'); } };
    await ctx.db.kysely.updateTable('batches').set({ creating: 0 }).where('id', '=', last.batchId).execute();
    await assert.rejects(batches.storeTerminal(last.batchId, { status: 'failed' }, {}, failing), /rolled back/);
    assert.deepEqual(told, [deploymentId, deploymentId]);
    assert.notEqual(await ctx.db.kysely.selectFrom('batch_holds').select('batch_id').where('batch_id', '=', last.batchId).executeTakeFirst(), undefined, 'the hold is still there');
  });
});
