/**
 * The `rpm_limit` / `tpm_limit` of a virtual key, of its user and of its team apply to the lines
 * of the emulated batches the key created, on the same counters as their live requests: the
 * engine paces the batch (leases no more lines while a subject is at its limit) and never fails a
 * line for it. Deterministic: the engine is driven one fill at a time (`runOnce`), everything is
 * asserted by counts, and the limiter's clock stands still in the middle of a minute: on the wall
 * clock, a test that crossed a minute's end read the key's 4 requests as 3.9998 (the sliding
 * window weighs the minute before by how much of it is left in the window).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemoryRateLimiter } from '../../src/routing/rate-limits/in-memory-rate-limiter.ts';
import { keyRpmKey, keyTpmKey } from '../../src/routing/rate-limits/key-budgets.ts';
import type { Principal } from '../../src/spec/principal.ts';
import { KeyStore } from '../../src/storage/key-store.ts';
import { TeamStore } from '../../src/storage/team-store.ts';
import { UserStore } from '../../src/storage/user-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, multipartBatchFile, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: paced-mock
    litellm_params:
      model: mock/paced
      batch_concurrency: 8
    model_info: { id: paced-mock }
`;
const MINUTE = 60_000;
/** Half a minute into a minute: every count of these tests lands in one window. */
const STANDING_CLOCK = () => 1_000 * MINUTE + MINUTE / 2;

forEachDatabase('key limits on batches', (ctx) => {
  let h: EngineHarness;
  let keys: KeyStore;
  let teams: TeamStore;
  let users: UserStore;
  before(async () => {
    keys = new KeyStore(ctx.db);
    teams = new TeamStore(ctx.db);
    users = new UserStore(ctx.db);
    h = await startEngineHarness(ctx.db, MODEL_LIST, { limiter: new InMemoryRateLimiter(STANDING_CLOCK), engine: { keyLimits: (ids) => keys.limitsOf(ids) } });
  });
  after(async () => h.close());

  async function keyedBatch(keyId: string, limits: { rpmLimit?: number; tpmLimit?: number }, lines: number, owners: { userId?: string; teamId?: string } = {}): Promise<string> {
    const userId = owners.userId ?? keyId;
    const teamId = owners.teamId ?? null;
    await keys.insert({ id: keyId, keyHash: `hash-${keyId}`, keyAlias: null, userId, teamId, models: [], metadata: {}, spend: 0, createdAt: 1, expiresAt: null, blocked: false, ...limits });
    const principal: Principal = Object.freeze({ keyId, isMaster: false, owner: teamId === null ? `user:${userId}` : `team:${teamId}`, allowedModels: null, userId, teamId, ...limits });
    const file = await h.managed.files.upload(principal, ...multipartBatchFile(chatLines(lines, 'paced-mock')));
    const id = (await h.managed.batches.create(principal, { input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' })).id;
    await waitUntil(async () => (await h.managed.batchStore.getById(id))?.status === 'in_progress', 20_000, 'the batch in progress');
    return id;
  }

  test("a key's rpm_limit paces its batch: the key's share of the minute runs, the rest waits, nothing fails", async () => {
    // rpm_limit 5, live_traffic_share 0.2: the key's batches may take 4 requests a minute.
    const id = await keyedBatch('key_rpm_paced', { rpmLimit: 5 }, 12);
    await h.engine.runOnce();
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, 4);
    assert.equal(counts.failed, 0);
    assert.equal(counts.pending, 8, 'the rest waits for the key to have room');
    // Counted where the key's live requests are counted: they share the one limit.
    assert.equal(await h.limiter.usage(keyRpmKey('key_rpm_paced'), MINUTE), 4);
    // Another key's batch on the same deployment is not held back.
    const free = await keyedBatch('key_unlimited', {}, 6);
    await h.engine.runOnce();
    assert.equal((await h.items.countByState(free)).succeeded, 6);
    assert.equal((await h.items.countByState(id)).succeeded, 4);
  });

  test("a key's tpm_limit stops new lines once its batch's answers used it up, and charges the tokens to the key", async () => {
    const id = await keyedBatch('key_tpm_paced', { tpmLimit: 5 }, 20);
    await h.engine.runOnce();
    const first = (await h.items.countByState(id)).succeeded;
    assert.ok(first > 0, 'lines start while the key has tokens left');
    const used = await h.limiter.usage(keyTpmKey('key_tpm_paced'), MINUTE);
    assert.ok(used >= 5, `the answers' tokens were charged to the key (${used})`);
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, first, 'no line started over the key\'s tokens');
    assert.equal(counts.failed, 0);
    assert.equal(counts.pending, 20 - first);
  });

  const budgetFields = { models: [], metadata: {}, spend: 0, createdAt: 1, updatedAt: 1 };

  test("a team's rpm_limit paces the batches of all its keys together: the team's share of the minute runs, the rest waits, nothing fails", async () => {
    // rpm_limit 5, live_traffic_share 0.2: the team's batches may take 4 requests a minute, whichever key made them.
    await teams.insert({ ...budgetFields, teamId: 'team_paced', teamAlias: null, members: [], blocked: false, rpmLimit: 5 });
    const first = await keyedBatch('key_team_a', {}, 6, { teamId: 'team_paced' });
    const second = await keyedBatch('key_team_b', {}, 6, { teamId: 'team_paced' });
    await h.engine.runOnce();
    await h.engine.runOnce();
    const a = await h.items.countByState(first);
    const b = await h.items.countByState(second);
    assert.equal(a.succeeded + b.succeeded, 4, `${a.succeeded} + ${b.succeeded} lines ran`);
    assert.equal(a.failed + b.failed, 0);
    assert.equal(a.pending + b.pending, 8, 'the rest waits for the team to have room');
    // Counted where the team's live requests are counted (`team:<id>:rpm`), not on the keys.
    assert.equal(await h.limiter.usage('team:team_paced:rpm', MINUTE), 4);
    assert.equal(await h.limiter.usage(keyRpmKey('key_team_a'), MINUTE), 0);
  });

  test("live requests of a team use up its minute for its batches: a team whose live traffic took 3 of its share of 4 runs 1 line", async () => {
    await teams.insert({ ...budgetFields, teamId: 'team_busy', teamAlias: null, members: [], blocked: false, rpmLimit: 5 });
    await h.limiter.record('team:team_busy:rpm', 3, MINUTE);
    const id = await keyedBatch('key_team_busy', {}, 5, { teamId: 'team_busy' });
    await h.engine.runOnce();
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, 1);
    assert.equal(counts.failed, 0);
    assert.equal(counts.pending, 4);
  });

  test("the tightest of key, user and team governs; what the looser ones lent is given back", async () => {
    // user rpm_limit 5 (share 4), key rpm_limit 50 (share 40), team rpm_limit 100 (share 80).
    await users.insert({ ...budgetFields, userId: 'user_tight', userEmail: null, userAlias: null, userRole: 'internal_user', teams: [], rpmLimit: 5 });
    await teams.insert({ ...budgetFields, teamId: 'team_loose', teamAlias: null, members: [], blocked: false, rpmLimit: 100 });
    const id = await keyedBatch('key_loose', { rpmLimit: 50 }, 10, { userId: 'user_tight', teamId: 'team_loose' });
    await h.engine.runOnce();
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, 4);
    assert.equal(counts.pending, 6);
    assert.equal(counts.failed, 0);
    // Every subject is charged the lines that ran, no more.
    assert.equal(await h.limiter.usage('user:user_tight:rpm', MINUTE), 4);
    assert.equal(await h.limiter.usage(keyRpmKey('key_loose'), MINUTE), 4);
    assert.equal(await h.limiter.usage('team:team_loose:rpm', MINUTE), 4);
  });

  test("a user's tpm_limit stops new lines once the batch's answers used it up, and the tokens are charged to the user", async () => {
    await users.insert({ ...budgetFields, userId: 'user_tokens', userEmail: null, userAlias: null, userRole: 'internal_user', teams: [], tpmLimit: 5 });
    const id = await keyedBatch('key_of_user_tokens', {}, 20, { userId: 'user_tokens' });
    await h.engine.runOnce();
    const first = (await h.items.countByState(id)).succeeded;
    assert.ok(first > 0, 'lines start while the user has tokens left');
    const used = await h.limiter.usage('user:user_tokens:tpm', MINUTE);
    assert.ok(used >= 5, `the answers' tokens were charged to the user (${used})`);
    assert.equal(await h.limiter.usage(keyTpmKey('key_of_user_tokens'), MINUTE), 0, 'the key has no tpm_limit: nothing counted on it');
    await h.engine.runOnce();
    const counts = await h.items.countByState(id);
    assert.equal(counts.succeeded, first, "no line started over the user's tokens");
    assert.equal(counts.failed, 0);
    assert.equal(counts.pending, 20 - first);
  });

  test('a key naming a team and a user that do not exist has only its own limits', async () => {
    const id = await keyedBatch('key_orphan', {}, 5, { userId: 'user_missing', teamId: 'team_missing' });
    await h.engine.runOnce();
    assert.equal((await h.items.countByState(id)).succeeded, 5);
    assert.deepEqual(await keys.limitsOf(['key_orphan']), new Map());
  });
});
