/**
 * LiteLLM's customers (`/customer/*`, migration 0021): end users with a block switch and a budget
 * of their own. Their spend is summed from the spend ledger by whoever needs it
 * (`server/end-user-limits.ts`), not kept here.
 */
import type { Selectable } from 'kysely';
import type { Database } from './database.ts';
import { affectedRows, parseJsonText, toJsonText, unixSeconds } from './row-mapping.ts';
import type { EndUsersTable } from './schema.ts';

export interface EndUserRecord {
  userId: string;
  alias: string | null;
  blocked: boolean;
  maxBudget: number | null;
  /** LiteLLM's duration (`30d`): the budget is for each such period since `createdAt`; null: all time. */
  budgetDuration: string | null;
  metadata: Record<string, unknown>;
  /** Unix seconds. */
  createdAt: number;
}

export type EndUserPatch = Partial<Pick<EndUserRecord, 'alias' | 'blocked' | 'maxBudget' | 'budgetDuration' | 'metadata'>>;

export class EndUserStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Inserts the customer; false when the id is taken. */
  async insert(record: Omit<EndUserRecord, 'createdAt'>): Promise<EndUserRecord | undefined> {
    const now = unixSeconds();
    const inserted = await this.#db.kysely
      .insertInto('end_users')
      .values({
        user_id: record.userId,
        alias: record.alias,
        blocked: record.blocked ? 1 : 0,
        max_budget: record.maxBudget,
        budget_duration: record.budgetDuration,
        metadata: toJsonText(record.metadata),
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('user_id').doNothing())
      .returning('user_id')
      .executeTakeFirst();
    return inserted === undefined ? undefined : { ...record, createdAt: now };
  }

  /** Whether there is any customer at all. */
  async any(): Promise<boolean> {
    return (await this.#db.kysely.selectFrom('end_users').select('user_id').limit(1).executeTakeFirst()) !== undefined;
  }

  async find(userId: string): Promise<EndUserRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('end_users').selectAll().where('user_id', '=', userId).executeTakeFirst();
    return row && toRecord(row);
  }

  async findMany(userIds: readonly string[]): Promise<EndUserRecord[]> {
    if (userIds.length === 0) return [];
    const rows = await this.#db.kysely.selectFrom('end_users').selectAll().where('user_id', 'in', [...userIds]).execute();
    return rows.map(toRecord);
  }

  /** A page of customers in id order (`after`: the last id of the previous page). */
  async list(page: { after?: string; limit: number }): Promise<EndUserRecord[]> {
    let query = this.#db.kysely.selectFrom('end_users').selectAll().orderBy('user_id').limit(page.limit);
    if (page.after !== undefined) query = query.where('user_id', '>', page.after);
    return (await query.execute()).map(toRecord);
  }

  /** Changes the given fields; undefined when there is no such customer. */
  async update(userId: string, patch: EndUserPatch): Promise<EndUserRecord | undefined> {
    const result = await this.#db.kysely
      .updateTable('end_users')
      .set({
        ...(patch.alias !== undefined && { alias: patch.alias }),
        ...(patch.blocked !== undefined && { blocked: patch.blocked ? 1 : 0 }),
        ...(patch.maxBudget !== undefined && { max_budget: patch.maxBudget }),
        ...(patch.budgetDuration !== undefined && { budget_duration: patch.budgetDuration }),
        ...(patch.metadata !== undefined && { metadata: toJsonText(patch.metadata) }),
        updated_at: unixSeconds(),
      })
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return affectedRows(result) === 0 ? undefined : this.find(userId);
  }

  /** Blocks or unblocks each id, creating a customer for an id that has none (as LiteLLM's `/customer/block` upserts). */
  async setBlocked(userIds: readonly string[], blocked: boolean): Promise<EndUserRecord[]> {
    const now = unixSeconds();
    await this.#db.kysely.transaction().execute(async (trx) => {
      for (const userId of new Set(userIds)) {
        await trx
          .insertInto('end_users')
          .values({ user_id: userId, alias: null, blocked: blocked ? 1 : 0, max_budget: null, budget_duration: null, created_at: now, updated_at: now })
          .onConflict((oc) => oc.column('user_id').doUpdateSet({ blocked: blocked ? 1 : 0, updated_at: now }))
          .execute();
      }
    });
    return this.findMany([...new Set(userIds)]);
  }

  /** Deletes the ids that exist; answers how many. */
  async delete(userIds: readonly string[]): Promise<number> {
    if (userIds.length === 0) return 0;
    return affectedRows(await this.#db.kysely.deleteFrom('end_users').where('user_id', 'in', [...userIds]).executeTakeFirst());
  }
}

function toRecord(row: Selectable<EndUsersTable>): EndUserRecord {
  return {
    userId: row.user_id,
    alias: row.alias,
    blocked: Number(row.blocked) === 1,
    maxBudget: row.max_budget === null ? null : Number(row.max_budget),
    budgetDuration: row.budget_duration,
    metadata: parseJsonText<Record<string, unknown>>(row.metadata, {}),
    createdAt: Number(row.created_at),
  };
}
