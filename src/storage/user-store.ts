/**
 * Internal users (LiteLLM `/user/new`, migration 0014). A user's `teams` are written by the team
 * store with the team's members; deleting a user takes it off its teams in the same transaction.
 */
import type { Selectable } from 'kysely';
import type { Database } from './database.ts';
import { budgetColumnsOf, budgetFieldsOf, budgetPatchColumns, resetDueBudgets, type BudgetFields, type BudgetFieldsPatch } from './budget-columns.ts';
import { parseJsonText, toJsonText, unixSeconds } from './row-mapping.ts';
import type { UsersTable } from './schema.ts';
import type { TeamMember } from './team-store.ts';

/** LiteLLM's user roles. */
export const USER_ROLES = ['proxy_admin', 'proxy_admin_viewer', 'internal_user', 'internal_user_viewer'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export interface UserRecord extends BudgetFields {
  userId: string;
  userEmail: string | null;
  userAlias: string | null;
  userRole: UserRole;
  teams: string[];
}

export type UserPatch = BudgetFieldsPatch & { userEmail?: string | null; userAlias?: string | null; userRole?: UserRole };

export class UserStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** False when the id is taken. `teams` must exist; the user is added to their members. */
  async insert(user: UserRecord): Promise<boolean> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      const inserted = await trx
        .insertInto('users')
        .values({
          user_id: user.userId,
          user_email: user.userEmail,
          user_alias: user.userAlias,
          user_role: user.userRole,
          teams: toJsonText(user.teams),
          ...budgetColumnsOf(user),
        })
        .onConflict((oc) => oc.column('user_id').doNothing())
        .returning('user_id')
        .executeTakeFirst();
      if (inserted === undefined) return false;
      for (const teamId of user.teams) {
        const team = await trx.selectFrom('teams').select('members_with_roles').where('team_id', '=', teamId).executeTakeFirst();
        if (team === undefined) continue;
        const members = parseJsonText<TeamMember[]>(team.members_with_roles, []).filter((member) => member.user_id !== user.userId);
        members.push({ user_id: user.userId, user_email: user.userEmail, role: 'user' });
        await trx.updateTable('teams').set({ members_with_roles: toJsonText(members), updated_at: unixSeconds() }).where('team_id', '=', teamId).execute();
      }
      return true;
    });
  }

  async find(userId: string): Promise<UserRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && toRecord(row);
  }

  async update(userId: string, patch: UserPatch): Promise<UserRecord | undefined> {
    const row = await this.#db.kysely
      .updateTable('users')
      .set({
        ...budgetPatchColumns(patch),
        ...(patch.userEmail !== undefined && { user_email: patch.userEmail }),
        ...(patch.userAlias !== undefined && { user_alias: patch.userAlias }),
        ...(patch.userRole !== undefined && { user_role: patch.userRole }),
        updated_at: unixSeconds(),
      })
      .where('user_id', '=', userId)
      .returningAll()
      .executeTakeFirst();
    return row && toRecord(row);
  }

  /** Deletes users and takes them off their teams' members; answers the ids that existed. */
  async delete(userIds: readonly string[]): Promise<string[]> {
    if (userIds.length === 0) return [];
    return this.#db.kysely.transaction().execute(async (trx) => {
      const rows = await trx.deleteFrom('users').where('user_id', 'in', [...userIds]).returning(['user_id', 'teams']).execute();
      for (const row of rows) {
        for (const teamId of parseJsonText<string[]>(row.teams, [])) {
          const team = await trx.selectFrom('teams').select('members_with_roles').where('team_id', '=', teamId).executeTakeFirst();
          if (team === undefined) continue;
          const members = parseJsonText<TeamMember[]>(team.members_with_roles, []).filter((member) => member.user_id !== row.user_id);
          await trx.updateTable('teams').set({ members_with_roles: toJsonText(members), updated_at: unixSeconds() }).where('team_id', '=', teamId).execute();
        }
      }
      return rows.map((row) => row.user_id);
    });
  }

  /** Users whose budget period ended: spend back to 0 (see `resetDueBudgets`). */
  async resetBudgets(periodSeconds: (duration: string) => number | undefined, now: number = unixSeconds()): Promise<string[]> {
    return resetDueBudgets(this.#db.kysely, 'users', 'user_id', periodSeconds, now);
  }
}

function toRecord(row: Selectable<UsersTable>): UserRecord {
  return {
    userId: row.user_id,
    userEmail: row.user_email,
    userAlias: row.user_alias,
    userRole: (USER_ROLES as readonly string[]).includes(row.user_role) ? (row.user_role as UserRole) : 'internal_user',
    teams: parseJsonText<string[]>(row.teams, []),
    ...budgetFieldsOf(row),
  };
}
