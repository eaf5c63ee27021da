/**
 * Responses the gateway keeps itself (migration 0024): those answered through a provider's chat.
 * A response is written once, read by id (its owner checked by the caller), walked back through
 * the responses it continued, deleted by its owner, and swept after its retention.
 */
import type { Database } from './database.ts';
import { parseJsonText, toJsonText } from './row-mapping.ts';

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
    if (row === undefined) return undefined;
    return {
      id: row.id,
      owner: row.owner,
      previousResponseId: row.previous_response_id,
      response: parseJsonText(row.response, {}),
      inputItems: parseJsonText(row.input_items, []),
      createdAt: Number(row.created_at),
    };
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
