import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Database } from '../../src/storage/database.ts';
import { BatchStore, type BatchRecord } from '../../src/storage/batch-store.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { KeyStore } from '../../src/storage/key-store.ts';
import { forEachDatabase, type TestDatabaseContext } from '../helpers/databases.ts';
import { newBatch, newFile, uniqueId } from './fixtures.ts';
import { AuthenticationError } from '../../src/spec/errors.ts';
import { nowSeconds } from '../../src/storage/row-mapping.ts';

/** Several independent instances (PostgreSQL: one pool each), to race against each other. */
async function instances(ctx: TestDatabaseContext, count: number): Promise<Database[]> {
  const others = await Promise.all(Array.from({ length: count - 1 }, () => ctx.openAnother({ migrate: false })));
  return [ctx.db, ...others];
}

async function insertBatch(db: Database, overrides: Parameters<typeof newBatch>[1] = {}): Promise<BatchRecord> {
  const input = newFile({ owner: overrides.owner ?? 'user:alice' });
  await new FileStore(db).insert(input);
  const batch = newBatch(input.id, overrides);
  await new BatchStore(db).insert(batch);
  const stored = await new BatchStore(db).getById(batch.id);
  assert.ok(stored);
  return stored;
}

/** A virtual key row (a batch is inserted only while its key exists); answers its id and hash. */
async function insertKey(db: Database): Promise<{ id: string; hash: string }> {
  const key = { id: uniqueId('key_'), hash: uniqueId('hash_') };
  await new KeyStore(db).insert({ id: key.id, keyHash: key.hash, keyAlias: null, userId: null, teamId: null, models: [], metadata: {}, spend: 0, createdAt: 1, expiresAt: null, blocked: false });
  return key;
}

forEachDatabase('batch store', (ctx) => {
  test('a batch reads back as inserted, JSON fields parsed and the rest defaulted', async () => {
    const batch = await insertBatch(ctx.db, {
      keyId: (await insertKey(ctx.db)).id,
      deploymentId: 'dep-a',
      providerBatchId: 'batch_upstream',
      metadata: { project: 'x' },
      errors: [{ code: 'invalid', message: 'bad', param: null, line: 3 }],
      usage: {
        input_tokens: 10,
        input_tokens_details: { cached_tokens: 2 },
        output_tokens: 5,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 15,
      },
      requestTotal: 4,
      expiresAt: 1_750_086_400,
      nextSyncAt: 1_750_000_005.5,
    });
    assert.deepEqual(batch.metadata, { project: 'x' });
    assert.deepEqual(batch.errors, [{ code: 'invalid', message: 'bad', param: null, line: 3 }]);
    assert.equal(batch.usage?.total_tokens, 15);
    assert.equal(batch.nextSyncAt, 1_750_000_005.5);
    assert.deepEqual(
      [batch.requestTotal, batch.requestCompleted, batch.requestFailed, batch.syncFailures, batch.outputFileId, batch.cost],
      [4, 0, 0, 0, null, null],
    );
    assert.equal(await new BatchStore(ctx.db).getById('batch_missing'), undefined);
  });

  test('listing pages newest first with has_more, filtered by owner and model group', async () => {
    const batches = new BatchStore(ctx.db);
    const owner = uniqueId('team:');
    const ids: { id: string; createdAt: number }[] = [];
    for (let i = 0; i < 11; i++) {
      const b = await insertBatch(ctx.db, { owner, createdAt: 1_750_000_000 + Math.floor(i / 3), modelGroup: i % 2 ? 'odd' : 'even' });
      ids.push(b);
    }
    await insertBatch(ctx.db, { owner: uniqueId('team:') });
    const expected = [...ids].sort((a, b) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : -1)).map((b) => b.id);

    const seen: string[] = [];
    let after: string | undefined;
    const hasMores: boolean[] = [];
    do {
      const page = await batches.list({ owner, after, limit: 4 });
      seen.push(...page.rows.map((r) => r.id));
      hasMores.push(page.hasMore);
      after = page.hasMore ? page.rows[page.rows.length - 1].id : undefined;
    } while (after);
    assert.deepEqual(seen, expected);
    assert.deepEqual(hasMores, [true, true, false]);

    const odd = await batches.list({ owner, limit: 100, modelGroups: ['odd'] });
    assert.equal(odd.rows.length, 5);
    assert.ok(odd.rows.every((b) => b.modelGroup === 'odd'));
    assert.equal((await batches.list({ owner, limit: 100, modelGroups: ['odd', 'even'] })).rows.length, 11);
    assert.deepEqual(await batches.list({ owner, limit: 100, modelGroups: [] }), { rows: [], hasMore: false });
    assert.deepEqual(await batches.list({ owner, limit: 5, after: 'batch_unknown' }), { rows: [], hasMore: false });
  });

  test('an update guarded by the expected status applies once among racing callers', async () => {
    const batch = await insertBatch(ctx.db, { status: 'in_progress' });
    const pools = await instances(ctx, 4);
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        new BatchStore(pools[i % pools.length]).update(
          batch.id,
          { status: 'finalizing', finalizingAt: 1_750_000_100 + i },
          { expectedStatus: 'in_progress' },
        ),
      ),
    );
    assert.equal(outcomes.filter(Boolean).length, 1);
    const after = await new BatchStore(ctx.db).getById(batch.id);
    assert.equal(after?.status, 'finalizing');
    assert.equal(
      await new BatchStore(ctx.db).update(batch.id, { status: 'completed' }, { expectedStatus: ['validating', 'in_progress'] }),
      false,
    );
    assert.equal(await new BatchStore(ctx.db).update(batch.id, { status: 'completed' }, { leaseOwner: 'nobody' }), false);
  });

  test('result files are registered exactly once under 20 concurrent callers', async () => {
    const batch = await insertBatch(ctx.db, { owner: 'team:results', status: 'completed' });
    const pools = await instances(ctx, 4);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        new BatchStore(pools[i % pools.length]).registerResultFiles(batch.id, {
          output: {
            file: { id: uniqueId('file-'), filename: 'batch_output.jsonl', bytes: 100 + i, createdAt: 1_750_000_200, status: 'processed' },
            copies: [{ id: uniqueId('fcp_'), deploymentId: 'dep-a', providerFileId: 'file-upstream-output', state: 'active', createdAt: 1 }],
          },
          error: {
            file: { id: uniqueId('file-'), filename: 'batch_error.jsonl', bytes: 0, createdAt: 1_750_000_200, status: 'processed' },
          },
        }),
      ),
    );
    assert.equal(outcomes.filter((o) => o.registeredOutput).length, 1);
    assert.equal(outcomes.filter((o) => o.registeredError).length, 1);
    const winner = outcomes.find((o) => o.registeredOutput);
    assert.ok(winner?.outputFileId && winner.errorFileId);
    for (const o of outcomes) {
      assert.equal(o.outputFileId, winner.outputFileId, 'losers read the winner ids');
      assert.equal(o.errorFileId, winner.errorFileId);
    }
    const linked = await ctx.db.kysely.selectFrom('files').selectAll().where('batch_id', '=', batch.id).execute();
    assert.equal(linked.length, 2);
    assert.ok(linked.every((f) => f.owner === 'team:results' && f.purpose === 'batch_output'));
    const stored = await new BatchStore(ctx.db).getById(batch.id);
    assert.deepEqual([stored?.outputFileId, stored?.errorFileId], [winner.outputFileId, winner.errorFileId]);
    assert.equal((await new FileStore(ctx.db).copiesOf(winner.outputFileId)).length, 1);
  });

  test('an error file can be registered after the output file, each once', async () => {
    const batches = new BatchStore(ctx.db);
    const batch = await insertBatch(ctx.db);
    const file = () => ({ id: uniqueId('file-'), filename: 'f.jsonl', bytes: 1, createdAt: 1, status: 'processed' as const });
    const first = await batches.registerResultFiles(batch.id, { output: { file: file() } });
    assert.equal(first.errorFileId, null);
    const second = await batches.registerResultFiles(batch.id, { output: { file: file() }, error: { file: file() } });
    assert.deepEqual([second.registeredOutput, second.registeredError], [false, true]);
    assert.equal(second.outputFileId, first.outputFileId);
    await assert.rejects(batches.registerResultFiles('batch_missing', { output: { file: file() } }), /No batch/);
  });

  test('cost is recorded and added to the key spend exactly once under concurrency', async () => {
    const keys = new KeyStore(ctx.db);
    const keyId = uniqueId('key_');
    await keys.insert({
      id: keyId,
      keyHash: uniqueId('hash_'),
      keyAlias: null,
      userId: null,
      teamId: null,
      models: [],
      metadata: {},
      spend: 1,
      createdAt: 1,
      expiresAt: null,
      blocked: false,
    });
    const batch = await insertBatch(ctx.db, { keyId, status: 'completed' });
    const pools = await instances(ctx, 4);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => new BatchStore(pools[i % pools.length]).recordCostOnce(batch.id, 0.25, keyId, 1_750_000_300)),
    );
    assert.equal(outcomes.filter(Boolean).length, 1);
    assert.equal((await keys.findById(keyId))?.spend, 1.25);
    const stored = await new BatchStore(ctx.db).getById(batch.id);
    assert.deepEqual([stored?.cost, stored?.costRecordedAt], [0.25, 1_750_000_300]);
  });

  test('due batches are leased to one poller at a time, never two', async () => {
    const now = 2_000_000_000;
    const due = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const b = await insertBatch(ctx.db, { status: i % 2 ? 'in_progress' : 'validating', nextSyncAt: now - 100 + i });
      due.add(b.id);
    }
    await insertBatch(ctx.db, { status: 'in_progress', nextSyncAt: now + 60 }); // not yet due
    await insertBatch(ctx.db, { status: 'completed', nextSyncAt: now - 100 }); // terminal
    await insertBatch(ctx.db, { status: 'in_progress' }); // never scheduled

    // Batches of earlier tests in this database that are due too.
    const alsoDue = await ctx.db.kysely
      .selectFrom('batches')
      .select('id')
      .where('status', 'not in', ['completed', 'failed', 'expired', 'cancelled'])
      .where('next_sync_at', '<=', now)
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .execute();
    const expected = new Set([...due, ...alsoDue.map((r) => r.id)]);

    const pools = await instances(ctx, 6);
    const leased: string[] = [];
    await Promise.all(
      pools.map(async (pool, n) => {
        const store = new BatchStore(pool);
        for (;;) {
          const got = await store.leaseDueBatches(`poller-${n}`, 4, 30_000, now);
          if (got.length === 0) return;
          for (const b of got) {
            assert.equal(b.leaseOwner, `poller-${n}`);
            assert.equal(b.leaseExpiresAt, now + 30);
          }
          leased.push(...got.map((b) => b.id));
        }
      }),
    );
    assert.equal(leased.length, new Set(leased).size, 'no batch handed out twice');
    assert.deepEqual(new Set(leased), expected);
  });

  test('an expired lease can be taken over; a released lease reschedules the batch', async () => {
    const batches = new BatchStore(ctx.db);
    const t = 2_100_000_000;
    const batch = await insertBatch(ctx.db, { status: 'in_progress', nextSyncAt: t - 1 });
    const mine = (await batches.leaseDueBatches('a', 100, 1_500, t)).filter((b) => b.id === batch.id);
    assert.equal(mine.length, 1);
    assert.ok(!(await batches.leaseDueBatches('b', 100, 1_500, t + 1)).some((b) => b.id === batch.id), 'lease still held');
    assert.ok(await batches.renewLease(batch.id, 'a', 1_500, t + 1));
    assert.ok(!(await batches.leaseDueBatches('b', 100, 1_500, t + 2)).some((b) => b.id === batch.id), 'renewed lease held');
    const taken = await batches.leaseDueBatches('b', 100, 1_500, t + 3);
    assert.ok(taken.some((b) => b.id === batch.id), 'expired lease taken over');

    assert.equal(await batches.releaseLease(batch.id, 'a', { nextSyncAt: t + 10 }), false, 'a no longer holds it');
    assert.ok(await batches.releaseLease(batch.id, 'b', { nextSyncAt: t + 10, syncFailures: 2, lastSyncedAt: t + 3 }));
    const released = await batches.getById(batch.id);
    assert.deepEqual(
      [released?.leaseOwner, released?.leaseExpiresAt, released?.nextSyncAt, released?.syncFailures],
      [null, null, t + 10, 2],
    );
    assert.ok(!(await batches.leaseDueBatches('c', 100, 1_500, t + 9)).some((b) => b.id === batch.id));
    assert.ok((await batches.leaseDueBatches('c', 100, 1_500, t + 10)).some((b) => b.id === batch.id));
  });

  test('non-terminal batches are listed for the engine, by execution', async () => {
    const batches = new BatchStore(ctx.db);
    const running = await insertBatch(ctx.db, { execution: 'emulated', status: 'in_progress' });
    const done = await insertBatch(ctx.db, { execution: 'emulated', status: 'completed' });
    const ids = (await batches.listNonTerminal({ execution: 'emulated', limit: 10_000 })).map((b) => b.id);
    assert.ok(ids.includes(running.id));
    assert.ok(!ids.includes(done.id));
  });
});

forEachDatabase('batch store: create intents (issue 9, crash windows in batch creation)', (ctx) => {
  test('an intent is hidden from lists, confirmed only while its input file is active, and a deleted file starts none', async () => {
    const batches = new BatchStore(ctx.db);
    const files = new FileStore(ctx.db);
    const owner = uniqueId('team:');
    const input = newFile({ owner });
    await files.insert(input);
    const intent = newBatch(input.id, { owner, deploymentId: 'dep-a' });
    await batches.insertIntent(intent, 'creator', 15_000);
    assert.equal((await batches.getById(intent.id))?.creating, true);
    assert.deepEqual((await batches.list({ owner, limit: 10 })).rows, [], 'a batch being created is not listed');
    assert.equal(await batches.settleIntent(intent.id, 'someone-else', { providerBatchId: 'b1' }, { requireActiveInput: true }), false, 'only its creator confirms it');

    await files.markDeleting(input.id, 0);
    assert.equal(await batches.settleIntent(intent.id, 'creator', { providerBatchId: 'b1' }, { requireActiveInput: true }), false, 'its input was deleted meanwhile');
    assert.equal(await batches.dropIntent(intent.id, 'creator'), true);
    await assert.rejects(batches.insertIntent(newBatch(input.id, { owner }), 'creator', 15_000), /No such File object/, 'a deleted file starts no batch');
    assert.equal((await batches.list({ owner, limit: 10 })).rows.length, 0);
  });

  test('a batch created as its key is deleted: a deletion first starts none (401), one in between leaves it cancelling and due', async () => {
    const batches = new BatchStore(ctx.db);
    const keys = new KeyStore(ctx.db);
    const owner = uniqueId('team:');
    const input = newFile({ owner });
    await new FileStore(ctx.db).insert(input);

    // The deletion commits before the create writes its intent (the key cache still let it in).
    const gone = await insertKey(ctx.db);
    assert.deepEqual(await keys.deleteByHashes([gone.hash]), [gone.id]);
    await assert.rejects(batches.insertIntent(newBatch(input.id, { owner, keyId: gone.id }), 'creator', 15_000), (error: unknown) => {
      assert.ok(error instanceof AuthenticationError);
      return true;
    });
    assert.equal((await batches.list({ owner, limit: 10 })).rows.length, 0);

    // The deletion commits between the intent and its confirmation by the provider's answer.
    const key = await insertKey(ctx.db);
    const intent = newBatch(input.id, { owner, keyId: key.id, deploymentId: 'dep-a' });
    await batches.insertIntent(intent, 'creator', 15_000);
    await keys.deleteByHashes([key.hash]);
    const started = { providerBatchId: 'b1', status: 'in_progress' as const, nextSyncAt: nowSeconds() + 600 };
    assert.equal(await batches.settleIntent(intent.id, 'creator', started, { requireActiveInput: true }), true);
    const settled = await batches.getById(intent.id);
    assert.deepEqual([settled?.creating, settled?.status, settled?.providerBatchId], [false, 'cancelling', 'b1']);
    assert.ok(settled!.cancellingAt !== null);
    assert.ok(settled!.nextSyncAt !== null && settled!.nextSyncAt <= nowSeconds(), 'due now, for the poller to cancel it');
  });

  test('an intent whose creator died is taken by exactly one of several instances', async () => {
    const owner = uniqueId('team:');
    const input = newFile({ owner });
    await new FileStore(ctx.db).insert(input);
    const intent = newBatch(input.id, { owner, deploymentId: 'dep-a' });
    await new BatchStore(ctx.db).insertIntent(intent, 'dead-instance', 15_000, 1_000);
    const pools = await instances(ctx, 4);
    const stuck = await new BatchStore(ctx.db).listStuckIntents();
    assert.ok(stuck.some((b) => b.id === intent.id));
    const wins = await Promise.all(Array.from({ length: 12 }, (_, i) => new BatchStore(pools[i % pools.length]).takeIntent(intent.id, `reconciler-${i}`, 15_000)));
    assert.equal(wins.filter(Boolean).length, 1);
    const winner = `reconciler-${wins.indexOf(true)}`;
    assert.equal(await new BatchStore(ctx.db).settleIntent(intent.id, winner, { status: 'failed', failedAt: 1 }, { requireActiveInput: false }), true);
    const settled = await new BatchStore(ctx.db).getById(intent.id);
    assert.deepEqual([settled?.creating, settled?.status, settled?.leaseOwner], [false, 'failed', null]);
  });
});
