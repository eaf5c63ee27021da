/**
 * Models added through the API (migration 0022): one row per deployment, its `litellm_params`
 * sealed by `StoredModelCipher`. Instances notice changes by `fingerprint()` (row count and last
 * change), a query cheap enough to poll.
 */
import type { Selectable } from 'kysely';
import type { Database } from './database.ts';
import { affectedRows, parseJsonText, toJsonText } from './row-mapping.ts';
import type { StoredModelsTable } from './schema.ts';
import type { StoredModelCipher } from './stored-model-cipher.ts';

export interface StoredModelRecord {
  modelId: string;
  modelName: string;
  litellmParams: Record<string, unknown>;
  modelInfo: Record<string, unknown>;
  createdBy: string | null;
  /** Milliseconds. */
  createdAt: number;
  updatedAt: number;
}

/** A row whose params could not be opened (sealed under another key): named, never served. */
export interface UnreadableStoredModel {
  modelId: string;
  modelName: string;
  reason: string;
}

export class StoredModelStore {
  readonly #db: Database;
  readonly #cipher: StoredModelCipher;

  constructor(db: Database, cipher: StoredModelCipher) {
    this.#db = db;
    this.#cipher = cipher;
  }

  /** Inserts the model; undefined when its id is taken. */
  async insert(record: Omit<StoredModelRecord, 'createdAt' | 'updatedAt'>): Promise<StoredModelRecord | undefined> {
    const now = Date.now();
    const inserted = await this.#db.kysely
      .insertInto('stored_models')
      .values({
        model_id: record.modelId,
        model_name: record.modelName,
        litellm_params: this.#cipher.encrypt(toJsonText(record.litellmParams)),
        model_info: toJsonText(record.modelInfo),
        created_by: record.createdBy,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) => oc.column('model_id').doNothing())
      .returning('model_id')
      .executeTakeFirst();
    return inserted === undefined ? undefined : { ...record, createdAt: now, updatedAt: now };
  }

  async find(modelId: string): Promise<StoredModelRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('stored_models').selectAll().where('model_id', '=', modelId).executeTakeFirst();
    if (row === undefined) return undefined;
    const read = this.#read(row);
    if ('reason' in read) throw new Error(`stored model ${modelId}: ${read.reason}`);
    return read;
  }

  /** Every stored model, oldest first, and those that could not be opened. */
  async all(): Promise<{ models: StoredModelRecord[]; unreadable: UnreadableStoredModel[] }> {
    const rows = await this.#db.kysely.selectFrom('stored_models').selectAll().orderBy('created_at').orderBy('model_id').execute();
    const models: StoredModelRecord[] = [];
    const unreadable: UnreadableStoredModel[] = [];
    for (const row of rows) {
      const read = this.#read(row);
      if ('reason' in read) unreadable.push(read);
      else models.push(read);
    }
    return { models, unreadable };
  }

  /** Replaces the name, params and info; undefined when there is no such model. */
  async replace(modelId: string, next: Pick<StoredModelRecord, 'modelName' | 'litellmParams' | 'modelInfo'>): Promise<StoredModelRecord | undefined> {
    const result = await this.#db.kysely
      .updateTable('stored_models')
      .set({
        model_name: next.modelName,
        litellm_params: this.#cipher.encrypt(toJsonText(next.litellmParams)),
        model_info: toJsonText(next.modelInfo),
        updated_at: Date.now(),
      })
      .where('model_id', '=', modelId)
      .executeTakeFirst();
    return affectedRows(result) === 0 ? undefined : this.find(modelId);
  }

  /** Whether there was such a model. */
  async delete(modelId: string): Promise<boolean> {
    return affectedRows(await this.#db.kysely.deleteFrom('stored_models').where('model_id', '=', modelId).executeTakeFirst()) > 0;
  }

  /** Changes whenever a model is added, changed or deleted. */
  async fingerprint(): Promise<string> {
    const row = await this.#db.kysely
      .selectFrom('stored_models')
      .select((eb) => [eb.fn.countAll().as('count'), eb.fn.max('updated_at').as('last')])
      .executeTakeFirst();
    return `${Number(row?.count ?? 0)}:${Number(row?.last ?? 0)}`;
  }

  #read(row: Selectable<StoredModelsTable>): StoredModelRecord | UnreadableStoredModel {
    let params: Record<string, unknown>;
    try {
      params = parseJsonText(this.#cipher.decrypt(row.litellm_params), {});
    } catch (error) {
      return { modelId: row.model_id, modelName: row.model_name, reason: `its litellm_params cannot be decrypted (${(error as Error).message}): stored under another LITELLM_SALT_KEY or master key` };
    }
    return {
      modelId: row.model_id,
      modelName: row.model_name,
      litellmParams: params,
      modelInfo: parseJsonText(row.model_info, {}),
      createdBy: row.created_by,
      createdAt: Number(row.created_at),
      updatedAt: Number(row.updated_at),
    };
  }
}
