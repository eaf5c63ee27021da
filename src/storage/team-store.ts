/**
 * Teams (LiteLLM `/team/new`, migration 0014). A team's members are kept on the team
 * (`members_with_roles`) and, for each member, the team id on the user (`users.teams`): both are
 * changed together, in one transaction, and a member who has no user row gets one (as LiteLLM's
 * `/team/member_add` creates the user).
 */
import type { Selectable, Transaction } from 'kysely';
import type { Database, DatabaseSchema } from './database.ts';
import { budgetColumnsOf, budgetFieldsOf, budgetPatchColumns, resetDueBudgets, type BudgetFields, type BudgetFieldsPatch } from './budget-columns.ts';
import { parseJsonText, toJsonText, unixSeconds } from './row-mapping.ts';
import type { TeamsTable } from './schema.ts';

export type TeamRole = 'admin' | 'user';

export interface TeamMember {
  user_id: string;
  user_email: string | null;
  role: TeamRole;
}

export interface TeamRecord extends BudgetFields {
  teamId: string;
  teamAlias: string | null;
  members: TeamMember[];
  blocked: boolean;
}

export type TeamPatch = BudgetFieldsPatch & { teamAlias?: string | null; blocked?: boolean };

export class TeamStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Inserts the team and records it on its members' users; false when the id is taken. */
  async insert(team: TeamRecord): Promise<boolean> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('teams')
        .values({
          team_id: team.teamId,
          team_alias: team.teamAlias,
          members_with_roles: toJsonText(team.members),
          blocked: team.blocked ? 1 : 0,
          ...budgetColumnsOf(team),
        })
        .onConflict((oc) => oc.column('team_id').doNothing())
        .returning('team_id')
        .executeTakeFirst();
      if (inserted === undefined) return false;
      for (const member of team.members) await joinUser(trx, member, team.teamId);
      return true;
    });
  }

  async find(teamId: string): Promise<TeamRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('teams').selectAll().where('team_id', '=', teamId).executeTakeFirst();
    return row && toRecord(row);
  }

  async list(options: { limit?: number; offset?: number; userId?: string } = {}): Promise<TeamRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('teams')
      .selectAll()
      .orderBy('created_at', 'desc')
      .orderBy('team_id')
      .limit(options.limit ?? 1000)
      .offset(options.offset ?? 0)
      .execute();
    const teams = rows.map(toRecord);
    return options.userId === undefined ? teams : teams.filter((team) => team.members.some((member) => member.user_id === options.userId));
  }

  async update(teamId: string, patch: TeamPatch): Promise<TeamRecord | undefined> {
    const row = await this.#db.kysely
      .updateTable('teams')
      .set({
        ...budgetPatchColumns(patch),
        ...(patch.teamAlias !== undefined && { team_alias: patch.teamAlias }),
        ...(patch.blocked !== undefined && { blocked: patch.blocked ? 1 : 0 }),
        updated_at: unixSeconds(),
      })
      .where('team_id', '=', teamId)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /**
   * Adds members (an existing member's role and email are replaced); users that do not exist are
   * created. Answers the team after the change, or undefined when there is no such team.
   */
  async addMembers(teamId: string, members: readonly TeamMember[]): Promise<TeamRecord | undefined> {
    return this.#changeMembers(teamId, members.map((member) => member.user_id), async (trx, current) => {
      const next = current.filter((member) => !members.some((added) => added.user_id === member.user_id));
      next.push(...members);
      for (const member of members) await joinUser(trx, member, teamId);
      return next;
    });
  }

  /** Removes members by user id; answers the team after the change, or undefined when there is no such team. */
  async removeMembers(teamId: string, userIds: readonly string[]): Promise<TeamRecord | undefined> {
    return this.#changeMembers(teamId, userIds, async (trx, current) => {
      for (const userId of userIds) await leaveUser(trx, userId, teamId);
      return current.filter((member) => !userIds.includes(member.user_id));
    });
  }

  /** Deletes teams and takes them off their members; answers the ids that existed. */
  async delete(teamIds: readonly string[]): Promise<string[]> {
    if (teamIds.length === 0) return [];
    return this.#db.kysely.transaction().execute(async (trx) => {
      const members = await trx.selectFrom('teams').select('members_with_roles').where('team_id', 'in', [...teamIds]).execute();
      await this.#lockUsers(trx, members.flatMap((row) => parseJsonText<TeamMember[]>(row.members_with_roles, []).map((member) => member.user_id)));
      const rows = await trx.deleteFrom('teams').where('team_id', 'in', [...teamIds]).returning(['team_id', 'members_with_roles']).execute();
      for (const row of rows) {
        for (const member of parseJsonText<TeamMember[]>(row.members_with_roles, [])) await leaveUser(trx, member.user_id, row.team_id);
      }
      return rows.map((row) => row.team_id);
    });
  }

  /** Teams whose budget period ended: spend back to 0 (see `resetDueBudgets`). */
  async resetBudgets(periodSeconds: (duration: string) => number | undefined, now: number = unixSeconds()): Promise<string[]> {
    return resetDueBudgets(this.#db.kysely, 'teams', 'team_id', periodSeconds, now);
  }

  async #changeMembers(teamId: string, userIds: readonly string[], change: (trx: Transaction<DatabaseSchema>, current: TeamMember[]) => Promise<TeamMember[]>): Promise<TeamRecord | undefined> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      await this.#lockUsers(trx, userIds);
      let select = trx.selectFrom('teams').select('members_with_roles').where('team_id', '=', teamId);
      // Two member changes at once must not lose one (SQLite has one writer already).
      if (this.#db.dialect === 'postgres') select = select.forUpdate();
      const row = await select.executeTakeFirst();
      if (row === undefined) return undefined;
      const members = await change(trx, parseJsonText<TeamMember[]>(row.members_with_roles, []));
      const updated = await trx
        .updateTable('teams')
        .set({ members_with_roles: toJsonText(members), updated_at: unixSeconds() })
        .where('team_id', '=', teamId)
        .returningAll()
        .executeTakeFirstOrThrow();
      return toRecord(updated);
    });
  }

  /**
   * Locks (PostgreSQL) the users rows of `userIds`, in id order, before the team's row is taken:
   * whatever writes users and teams in one transaction takes the user first (the spend ledger adds
   * to a key, its user, then its team), so that two such transactions never wait on each other (a
   * team delete taking the team first, then its members, deadlocked with a ledger flush, and
   * PostgreSQL's deadlock victim answered 500). A member added after this read and before the
   * team is locked is still taken after it; PostgreSQL then resolves the rare wait by aborting one.
   */
  async #lockUsers(trx: Transaction<DatabaseSchema>, userIds: readonly string[]): Promise<void> {
    if (this.#db.dialect !== 'postgres' || userIds.length === 0) return;
    const ordered = [...new Set(userIds)].sort();
    await trx.selectFrom('users').select('user_id').where('user_id', 'in', ordered).orderBy('user_id').forUpdate().execute();
  }
}

/** Records `teamId` on the member's user, creating the user when there is none. */
async function joinUser(trx: Transaction<DatabaseSchema>, member: TeamMember, teamId: string): Promise<void> {
  const user = await trx.selectFrom('users').select('teams').where('user_id', '=', member.user_id).executeTakeFirst();
  const now = unixSeconds();
  if (user === undefined) {
    await trx
      .insertInto('users')
      .values({ user_id: member.user_id, user_email: member.user_email, teams: toJsonText([teamId]), created_at: now, updated_at: now })
      .execute();
    return;
  }
  const teams = parseJsonText<string[]>(user.teams, []);
  if (!teams.includes(teamId)) await trx.updateTable('users').set({ teams: toJsonText([...teams, teamId]), updated_at: now }).where('user_id', '=', member.user_id).execute();
}

async function leaveUser(trx: Transaction<DatabaseSchema>, userId: string, teamId: string): Promise<void> {
  const user = await trx.selectFrom('users').select('teams').where('user_id', '=', userId).executeTakeFirst();
  if (user === undefined) return;
  const teams = parseJsonText<string[]>(user.teams, []);
  if (teams.includes(teamId)) {
    await trx.updateTable('users').set({ teams: toJsonText(teams.filter((id) => id !== teamId)), updated_at: unixSeconds() }).where('user_id', '=', userId).execute();
  }
}

function toRecord(row: Selectable<TeamsTable>): TeamRecord {
  return {
    teamId: row.team_id,
    teamAlias: row.team_alias,
    members: parseJsonText<TeamMember[]>(row.members_with_roles, []),
    blocked: Number(row.blocked) === 1,
    ...budgetFieldsOf(row),
  };
}
