/**
 * One lock order for users and teams (issue 12): whatever writes both in one transaction takes the
 * user's row before the team's, as the spend ledger does (key, user, team). A team delete or a
 * member change used to take the team first and then its members' users, so a ledger flush
 * holding a member's user and waiting for the team deadlocked with it, and PostgreSQL's victim
 * surfaced as a 500 from `/team/delete`. PostgreSQL only: SQLite has one writer at a time.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import type { Database } from '../../src/storage/database.ts';
import { TeamStore } from '../../src/storage/team-store.ts';
import { UserStore } from '../../src/storage/user-store.ts';
import { forEachDatabase } from '../helpers/databases.ts';

const budgetFields = { models: [], metadata: {}, spend: 0, createdAt: 1, updatedAt: 1 };

/** Waits until some other session of this database waits for a row lock. */
async function untilSomeoneWaitsForALock(db: Database): Promise<void> {
  for (let i = 0; i < 500; i++) {
    const { rows } = await sql<{ waiting: string }>`select count(*) as waiting from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`.execute(db.kysely);
    if (Number(rows[0].waiting) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('nobody waited for a lock');
}

forEachDatabase('users before teams', (ctx) => {
  /**
   * A transaction adding spend as the ledger does: the member's user, then (once `gate` opens)
   * the team. Meanwhile `other` runs; it must wait for the user before it takes the team.
   */
  async function againstALedgerFlush(teamId: string, userId: string, other: () => Promise<unknown>): Promise<void> {
    let userLocked!: () => void;
    const locked = new Promise<void>((resolve) => (userLocked = resolve));
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const flush = ctx.db.kysely.transaction().execute(async (trx) => {
      await trx.updateTable('users').set((eb) => ({ spend: eb('spend', '+', 1) })).where('user_id', '=', userId).execute();
      userLocked();
      await gate;
      await trx.updateTable('teams').set((eb) => ({ spend: eb('spend', '+', 1) })).where('team_id', '=', teamId).execute();
    });
    await locked;
    const running = other();
    await untilSomeoneWaitsForALock(ctx.db);
    openGate();
    // Both commit: with the team taken first, one of them was PostgreSQL's deadlock victim.
    const [flushed, done] = await Promise.allSettled([flush, running]);
    assert.equal(flushed.status, 'fulfilled', flushed.status === 'rejected' ? String(flushed.reason) : '');
    assert.equal(done.status, 'fulfilled', done.status === 'rejected' ? String(done.reason) : '');
  }

  test('a team delete waits for a ledger flush holding a member, instead of deadlocking with it', async () => {
    const users = new UserStore(ctx.db);
    const teams = new TeamStore(ctx.db);
    await users.insert({ ...budgetFields, userId: 'lock_u1', userEmail: null, userAlias: null, userRole: 'internal_user', teams: [] });
    await teams.insert({ ...budgetFields, teamId: 'lock_t1', teamAlias: null, members: [{ user_id: 'lock_u1', user_email: null, role: 'user' }], blocked: false });
    await againstALedgerFlush('lock_t1', 'lock_u1', () => teams.delete(['lock_t1']));
    assert.equal(await teams.find('lock_t1'), undefined);
    const user = await ctx.db.kysely.selectFrom('users').select(['teams', 'spend']).where('user_id', '=', 'lock_u1').executeTakeFirstOrThrow();
    assert.equal(Number(user.spend), 1);
    assert.deepEqual(JSON.parse(String(user.teams)), []);
  });

  test('a member removal waits for a ledger flush holding that member, instead of deadlocking with it', async () => {
    const users = new UserStore(ctx.db);
    const teams = new TeamStore(ctx.db);
    await users.insert({ ...budgetFields, userId: 'lock_u2', userEmail: null, userAlias: null, userRole: 'internal_user', teams: [] });
    await teams.insert({ ...budgetFields, teamId: 'lock_t2', teamAlias: null, members: [{ user_id: 'lock_u2', user_email: null, role: 'user' }], blocked: false });
    await againstALedgerFlush('lock_t2', 'lock_u2', () => teams.removeMembers('lock_t2', ['lock_u2']));
    const team = await teams.find('lock_t2');
    assert.deepEqual(team?.members, []);
    assert.equal(Number((await ctx.db.kysely.selectFrom('teams').select('spend').where('team_id', '=', 'lock_t2').executeTakeFirstOrThrow()).spend), 1);
  });
}, { dialects: ['postgres'] });
