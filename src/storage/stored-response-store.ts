/**
 * Responses the gateway keeps itself (migration 0024): those answered through a provider's chat.
 * A response is written once, read by id (its owner checked by the caller), walked back through
 * the responses it continued, deleted by its owner, and swept after its retention.
 */
import { sql, type Selectable } from 'kysely';
import type { Database } from './database.ts';
import { parseJsonText, toJsonText } from './row-mapping.ts';
import type { StoredResponsesTable } from './schema.ts';

export interface StoredResponseRecord {
  id: string;
  owner: string;
  previousResponseId: string | null;
  response: Record<string, unknown>;
  inputItems: Record<string, unknown>[];
  createdAt: number;
}

export class StoredResponseStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insert(record: StoredResponseRecord): Promise<void> {
    await this.#db.kysely
      .insertInto('stored_responses')
      .values({
        id: record.id,
        owner: record.owner,
        previous_response_id: record.previousResponseId,
        response: toJsonText(record.response),
        input_items: toJsonText(record.inputItems),
        created_at: record.createdAt,
      })
      .execute();
  }

  async find(id: string): Promise<StoredResponseRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('stored_responses').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  /**
   * `id` and the responses it continued, newest first, at most `limit`, in one query (a recursive
   * walk of `previous_response_id`, which both databases run): a chain ends at a response that is
   * gone.
   */
  async chainOf(id: string, limit: number): Promise<StoredResponseRecord[]> {
    const result = await sql<Selectable<StoredResponsesTable>>`
      with recursive chain(id, depth) as (
        select id, 0 from stored_responses where id = ${id}
        union all
        select s.previous_response_id, c.depth + 1 from chain c join stored_responses s on s.id = c.id
        where s.previous_response_id is not null and c.depth + 1 < ${limit}
      )
      select r.* from chain c join stored_responses r on r.id = c.id order by c.depth`.execute(this.#db.kysely);
    return result.rows.map(toRecord);
  }

  /** Deletes the response; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const result = await this.#db.kysely.deleteFrom('stored_responses').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Deletes up to `limit` responses created before `before` (unix seconds); answers how many. */
  async deleteOlderThan(before: number, limit: number): Promise<number> {
    const ids = await this.#db.kysely.selectFrom('stored_responses').select('id').where('created_at', '<', before).limit(limit).execute();
    if (ids.length === 0) return 0;
    const result = await this.#db.kysely.deleteFrom('stored_responses').where('id', 'in', ids.map((row) => row.id)).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toRecord(row: Selectable<StoredResponsesTable>): StoredResponseRecord {
  return {
    id: row.id,
    owner: row.owner,
    previousResponseId: row.previous_response_id,
    response: parseJsonText(row.response, {}),
    inputItems: parseJsonText(row.input_items, []),
    createdAt: Number(row.created_at),
  };
}
