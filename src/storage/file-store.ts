/**
 * Gateway files and their provider copies.
 *
 * Lifecycle of a file row (`state`):
 *   active --markDeleting--> deleting --deleteFile--> deleted (tombstone)
 * Clients only ever see `active` files (`getActive`, `list`). A tombstone keeps the row because
 * batches reference files by foreign key (OpenAI keeps a batch's file ids after the files are
 * deleted) and because a deleted file id must still work as a list cursor (the SDK's
 * auto-pagination passes the last id it saw, which the client may have just deleted).
 *
 * Lifecycle of a copy (`state`): uploading -> active -> deleting -> (row removed). An uploading
 * copy is leased by its uploader (`leaseExpiresAt`, renewed as the upload runs): one whose lease
 * ran out was left by a request or instance that died and is settled (removed) by whoever finds
 * it. It turns active only while it is still uploading and its file is still active.
 */
import { sql, type Kysely, type Selectable, type Transaction, type Updateable } from 'kysely';
import type { OpenAIFileStatus } from '../spec/openai-objects.ts';
import { isTokenEstimate, type TokenEstimateParts } from '../spec/token-estimate.ts';
import type { Database } from './database.ts';
import { toPage, type Page } from './page.ts';
import { affectedRows, nowSeconds, parseJsonText, toNullableJsonText, unixSeconds } from './row-mapping.ts';
import type { DatabaseSchema, FileCopiesTable, FilesTable } from './schema.ts';

export type FileState = 'active' | 'deleting' | 'deleted';
export type FileCopyState = 'uploading' | 'active' | 'deleting';

export interface FileRecord {
  /** Gateway id, `file-...`. */
  id: string;
  owner: string;
  purpose: string;
  filename: string;
  bytes: number;
  createdAt: number;
  expiresAt: number | null;
  status: OpenAIFileStatus;
  statusDetails: string | null;
  /** sha256 of the bytes, hex. */
  checksum: string | null;
  /** Where the gateway holds the bytes (blob store key), if it does. */
  blobKey: string | null;
  lineCount: number | null;
  /** For batch input files: the endpoint every line targets. */
  batchEndpoint: string | null;
  /** Target model groups (upload with `target_model_names`) or the groups named in the lines. */
  modelGroups: string[] | null;
  /** For batch input files: the model groups the lines name (`body.model`); null on files stored before it was kept. */
  lineModels: string[] | null;
  /** For batch input files: the lines' token estimate, counted at upload; null on files stored before it was kept. */
  tokenEstimate: TokenEstimateParts | null;
  /** For batch output and error files: the batch they belong to. */
  batchId: string | null;
  state: FileState;
  deletedAt: number | null;
}

export interface NewFile {
  id: string;
  owner: string;
  purpose: string;
  filename: string;
  bytes: number;
  createdAt: number;
  status: OpenAIFileStatus;
  expiresAt?: number | null;
  statusDetails?: string | null;
  checksum?: string | null;
  blobKey?: string | null;
  lineCount?: number | null;
  batchEndpoint?: string | null;
  modelGroups?: string[] | null;
  lineModels?: string[] | null;
  tokenEstimate?: TokenEstimateParts | null;
  batchId?: string | null;
}

/** Fields of a file that may change after insert. */
export type FilePatch = Partial<
  Pick<FileRecord, 'bytes' | 'status' | 'statusDetails' | 'checksum' | 'blobKey' | 'lineCount' | 'modelGroups' | 'expiresAt'>
>;

export interface FileCopyRecord {
  id: string;
  fileId: string;
  deploymentId: string;
  /** The provider's id of the copy; null until the upload answered. */
  providerFileId: string | null;
  state: FileCopyState;
  attempts: number;
  lastError: string | null;
  /** Unix seconds (fractional) of the next delete retry. */
  nextAttemptAt: number | null;
  createdAt: number;
  /** While uploading: until when the uploader holds the copy (unix seconds, fractional). */
  leaseExpiresAt: number | null;
}

export interface NewFileCopy {
  id: string;
  fileId: string;
  deploymentId: string;
  state: FileCopyState;
  createdAt: number;
  providerFileId?: string | null;
  /** For an `uploading` copy: the uploader's lease, unix seconds (fractional). */
  leaseExpiresAt?: number | null;
}

export interface FileCopyPatch {
  state?: FileCopyState;
  providerFileId?: string | null;
  lastError?: string | null;
  nextAttemptAt?: number | null;
  /** Adds one to `attempts`. */
  incrementAttempts?: boolean;
}

export interface FileListOptions {
  /** Only this owner's files; omit for every owner (master key). */
  owner?: string;
  purpose?: string;
  /** By (created_at, id). Default `desc`, as OpenAI. */
  order?: 'asc' | 'desc';
  /** A file id: the page starts strictly after it in the chosen order. */
  after?: string;
  limit: number;
}

type Executor = Kysely<DatabaseSchema> | Transaction<DatabaseSchema>;

/** The most an owner's active files may add up to (`insertWithinLimit`); an absent bound is no bound. */
export interface OwnerLimit {
  maxFiles?: number;
  maxBytes?: number;
}

export type OwnerLimitOutcome = 'inserted' | 'over_files' | 'over_bytes';

/** First key of the PostgreSQL advisory locks that serialise one owner's quota-checked inserts. */
const OWNER_QUOTA_LOCK_SPACE = 7_215_048;

async function usageOf(db: Executor, owner: string): Promise<{ files: number; bytes: number }> {
  const row = await db
    .selectFrom('files')
    .select((eb) => [eb.fn.countAll<number>().as('files'), eb.fn.coalesce(eb.fn.sum<number>('bytes'), eb.lit(0)).as('bytes')])
    .where('owner', '=', owner)
    .where('state', '=', 'active')
    .executeTakeFirstOrThrow();
  return { files: Number(row.files), bytes: Number(row.bytes) };
}

export class FileStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  /** Inserts a file and its copies in one transaction. */
  async insert(file: NewFile, copies: readonly Omit<NewFileCopy, 'fileId'>[] = []): Promise<void> {
    await this.#db.kysely.transaction().execute(async (trx) => {
      await insertFileRow(trx, file);
      for (const copy of copies) await insertCopyRow(trx, { ...copy, fileId: file.id });
    });
  }

  /**
   * Inserts a file and its copies like `insert`, only while the owner's active files with this one
   * stay inside `limit`: the usage is counted and the rows written in one transaction that holds
   * the owner's quota lock (PostgreSQL: a transaction advisory lock on the owner; SQLite:
   * `BEGIN IMMEDIATE`), so uploads of one owner racing on any number of instances are recorded
   * one at a time and only those that fit are. Answers `inserted`, or which limit refused it.
   */
  async insertWithinLimit(file: NewFile, copies: readonly Omit<NewFileCopy, 'fileId'>[], limit: OwnerLimit): Promise<OwnerLimitOutcome> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      if (this.#db.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${OWNER_QUOTA_LOCK_SPACE}, hashtext(${file.owner}))`.execute(trx);
      const usage = await usageOf(trx, file.owner);
      if (limit.maxFiles !== undefined && usage.files + 1 > limit.maxFiles) return 'over_files';
      if (limit.maxBytes !== undefined && usage.bytes + file.bytes > limit.maxBytes) return 'over_bytes';
      await insertFileRow(trx, file);
      for (const copy of copies) await insertCopyRow(trx, { ...copy, fileId: file.id });
      return 'inserted';
    });
  }

  /** The row in any state, tombstones included; routes want `getActive`. */
  async getById(id: string): Promise<FileRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('files').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toFileRecord(row);
  }

  /** The file if a client may see it (state `active`); expiry is the caller's check. */
  async getActive(id: string): Promise<FileRecord | undefined> {
    const row = await this.#db.kysely
      .selectFrom('files')
      .selectAll()
      .where('id', '=', id)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return row && toFileRecord(row);
  }

  /**
   * Active files by (created_at, id), keyset-paginated. An `after` id that never existed gives an
   * empty page; a deleted one still works (tombstones keep their position).
   */
  async list(options: FileListOptions): Promise<Page<FileRecord>> {
    const order = options.order ?? 'desc';
    const db = this.#db.kysely;
    let query = db.selectFrom('files').selectAll().where('state', '=', 'active');
    if (options.owner !== undefined) query = query.where('owner', '=', options.owner);
    if (options.purpose !== undefined) query = query.where('purpose', '=', options.purpose);
    if (options.after !== undefined) {
      const cursor = await db.selectFrom('files').select(['id', 'created_at']).where('id', '=', options.after).executeTakeFirst();
      if (!cursor) return { rows: [], hasMore: false };
      const beyond = order === 'asc' ? '>' : '<';
      const createdAt = Number(cursor.created_at);
      query = query.where((eb) =>
        eb.or([eb('created_at', beyond, createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', beyond, cursor.id)])]),
      );
    }
    const rows = await query.orderBy('created_at', order).orderBy('id', order).limit(options.limit + 1).execute();
    return toPage(rows.map(toFileRecord), options.limit);
  }

  /** How many active files an owner holds, and their bytes (what the per-owner quotas count). */
  async usageOf(owner: string): Promise<{ files: number; bytes: number }> {
    return usageOf(this.#db.kysely, owner);
  }

  /** Applies `patch`; answers whether the file exists (and is not a tombstone). */
  async update(id: string, patch: FilePatch): Promise<boolean> {
    const values: Updateable<FilesTable> = {};
    if (patch.bytes !== undefined) values.bytes = patch.bytes;
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.statusDetails !== undefined) values.status_details = patch.statusDetails;
    if (patch.checksum !== undefined) values.checksum = patch.checksum;
    if (patch.blobKey !== undefined) values.blob_key = patch.blobKey;
    if (patch.lineCount !== undefined) values.line_count = patch.lineCount;
    if (patch.modelGroups !== undefined) values.model_groups = toNullableJsonText(patch.modelGroups);
    if (patch.expiresAt !== undefined) values.expires_at = patch.expiresAt;
    if (Object.keys(values).length === 0) {
      const existing = await this.getById(id);
      return existing !== undefined && existing.state !== 'deleted';
    }
    const result = await this.#db.kysely
      .updateTable('files')
      .set(values)
      .where('id', '=', id)
      .where('state', '<>', 'deleted')
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  async insertCopy(copy: NewFileCopy): Promise<void> {
    await insertCopyRow(this.#db.kysely, copy);
  }

  async copiesOf(fileId: string): Promise<FileCopyRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('file_copies')
      .selectAll()
      .where('file_id', '=', fileId)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toCopyRecord);
  }

  async findCopy(fileId: string, deploymentId: string): Promise<FileCopyRecord | undefined> {
    const row = await this.#db.kysely
      .selectFrom('file_copies')
      .selectAll()
      .where('file_id', '=', fileId)
      .where('deployment_id', '=', deploymentId)
      .executeTakeFirst();
    return row && toCopyRecord(row);
  }

  async findCopyByProviderFileId(deploymentId: string, providerFileId: string): Promise<FileCopyRecord | undefined> {
    const row = await this.#db.kysely
      .selectFrom('file_copies')
      .selectAll()
      .where('deployment_id', '=', deploymentId)
      .where('provider_file_id', '=', providerFileId)
      .executeTakeFirst();
    return row && toCopyRecord(row);
  }

  /**
   * Applies `patch` to a copy; with `expectedState`, only if the copy is still in that state
   * (an upload finishing after a delete began must not revive the copy). Answers whether it applied.
   */
  async updateCopy(copyId: string, patch: FileCopyPatch, expectedState?: FileCopyState): Promise<boolean> {
    let query = this.#db.kysely.updateTable('file_copies').where('id', '=', copyId);
    if (expectedState !== undefined) query = query.where('state', '=', expectedState);
    const result = await query
      .set((eb) => {
        const values: Updateable<FileCopiesTable> = {};
        if (patch.state !== undefined) values.state = patch.state;
        if (patch.providerFileId !== undefined) values.provider_file_id = patch.providerFileId;
        if (patch.lastError !== undefined) values.last_error = patch.lastError;
        if (patch.nextAttemptAt !== undefined) values.next_attempt_at = patch.nextAttemptAt;
        return patch.incrementAttempts ? { ...values, attempts: eb('attempts', '+', 1) } : values;
      })
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  async setCopyState(copyId: string, state: FileCopyState): Promise<boolean> {
    return this.updateCopy(copyId, { state });
  }

  /**
   * uploading -> active with the provider's id, only if the copy is still uploading (no delete
   * and no takeover since) and its file is still active, in one statement. Answers false
   * otherwise: the caller then owns a provider copy nobody references and must delete it.
   */
  async completeUpload(copyId: string, providerFileId: string): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('file_copies')
      .set({ state: 'active', provider_file_id: providerFileId, lease_expires_at: null })
      .where('id', '=', copyId)
      .where('state', '=', 'uploading')
      .where((eb) =>
        eb.exists(eb.selectFrom('files').select('files.id').whereRef('files.id', '=', 'file_copies.file_id').where('files.state', '=', 'active')),
      )
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /** Extends the lease of a copy still uploading; answers whether it is still uploading. */
  async renewUpload(copyId: string, leaseExpiresAt: number): Promise<boolean> {
    const result = await this.#db.kysely
      .updateTable('file_copies')
      .set({ lease_expires_at: leaseExpiresAt })
      .where('id', '=', copyId)
      .where('state', '=', 'uploading')
      .executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /**
   * Removes an `uploading` copy whose uploader's lease ran out (it crashed or was cut off), so
   * the next create uploads afresh. Answers whether this call removed it (of several instances
   * settling the same copy, one does).
   */
  async removeStaleUpload(copyId: string, now: number = nowSeconds()): Promise<boolean> {
    const result = await this.#db.kysely
      .deleteFrom('file_copies')
      .where('id', '=', copyId)
      .where('state', '=', 'uploading')
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Uploading copies whose uploader's lease ran out (for the file janitor). */
  async listStaleUploads(now: number = nowSeconds(), limit = 100): Promise<FileCopyRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('file_copies')
      .selectAll()
      .where('state', '=', 'uploading')
      .where((eb) => eb.or([eb('lease_expires_at', 'is', null), eb('lease_expires_at', '<=', now)]))
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toCopyRecord);
  }

  /** Removes one copy row (its provider copy is gone). */
  async deleteCopy(copyId: string): Promise<void> {
    await this.#db.kysely.deleteFrom('file_copies').where('id', '=', copyId).execute();
  }

  /**
   * active -> deleting, and every copy -> deleting with its first background retry at `retryAt`
   * (so a crash mid-delete is finished by the cleanup job). Answers false if the file was not
   * active: of two concurrent deletes, exactly one wins.
   */
  async markDeleting(fileId: string, retryAt: number): Promise<boolean> {
    return this.#db.kysely.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('files')
        .set({ state: 'deleting' })
        .where('id', '=', fileId)
        .where('state', '=', 'active')
        .executeTakeFirst();
      if (affectedRows(result) !== 1) return false;
      await trx
        .updateTable('file_copies')
        .set({ state: 'deleting', next_attempt_at: retryAt })
        .where('file_id', '=', fileId)
        .execute();
      return true;
    });
  }

  /**
   * Finishes a delete: removes the remaining copy rows and turns the file row into a tombstone
   * (state `deleted`, no blob key). Call once the provider copies and the blob are gone.
   */
  async deleteFile(fileId: string, deletedAt: number = unixSeconds()): Promise<void> {
    await this.#db.kysely.transaction().execute(async (trx) => {
      await trx.deleteFrom('file_copies').where('file_id', '=', fileId).execute();
      await trx
        .updateTable('files')
        .set({ state: 'deleted', deleted_at: deletedAt, blob_key: null })
        .where('id', '=', fileId)
        .where('state', '<>', 'deleted')
        .execute();
    });
  }

  /** Copies whose delete failed and are due for another try, oldest first. */
  async listCopiesDueForDeleteRetry(now: number = nowSeconds(), limit = 100): Promise<FileCopyRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('file_copies')
      .selectAll()
      .where('state', '=', 'deleting')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toCopyRecord);
  }

  /** Active files whose `expires_at` has passed. */
  async listExpired(now: number = unixSeconds(), limit = 100): Promise<FileRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('files')
      .selectAll()
      .where('state', '=', 'active')
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toFileRecord);
  }

  /** Files whose delete began but has not finished (for the cleanup job). */
  async listDeleting(limit = 100): Promise<FileRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('files')
      .selectAll()
      .where('state', '=', 'deleting')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toFileRecord);
  }

  /** Which of `blobKeys` a file row references (any state: a file being deleted still owns its bytes). */
  async blobKeysInUse(blobKeys: readonly string[]): Promise<Set<string>> {
    if (blobKeys.length === 0) return new Set();
    const rows = await this.#db.kysely.selectFrom('files').select('blob_key').where('blob_key', 'in', [...blobKeys]).execute();
    return new Set(rows.map((row) => row.blob_key).filter((key): key is string => key !== null));
  }

  /** Hard-deletes tombstones older than `deletedBefore` that no batch references; answers how many. */
  async purgeTombstones(deletedBefore: number, limit = 1000): Promise<number> {
    const db = this.#db.kysely;
    const ids = await db
      .selectFrom('files')
      .select('id')
      .where('state', '=', 'deleted')
      .where('deleted_at', '<', deletedBefore)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('batches')
              .select('batches.id')
              .where((inner) =>
                inner.or([
                  inner('batches.input_file_id', '=', inner.ref('files.id')),
                  inner('batches.output_file_id', '=', inner.ref('files.id')),
                  inner('batches.error_file_id', '=', inner.ref('files.id')),
                ]),
              ),
          ),
        ),
      )
      .limit(limit)
      .execute();
    if (ids.length === 0) return 0;
    const result = await db
      .deleteFrom('files')
      .where('id', 'in', ids.map((r) => r.id))
      .where('state', '=', 'deleted')
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

export async function insertFileRow(db: Executor, file: NewFile): Promise<void> {
  await db
    .insertInto('files')
    .values({
      id: file.id,
      owner: file.owner,
      purpose: file.purpose,
      filename: file.filename,
      bytes: file.bytes,
      created_at: file.createdAt,
      expires_at: file.expiresAt ?? null,
      status: file.status,
      status_details: file.statusDetails ?? null,
      checksum: file.checksum ?? null,
      blob_key: file.blobKey ?? null,
      line_count: file.lineCount ?? null,
      batch_endpoint: file.batchEndpoint ?? null,
      model_groups: toNullableJsonText(file.modelGroups),
      line_models: toNullableJsonText(file.lineModels),
      token_estimate: toNullableJsonText(file.tokenEstimate),
      batch_id: file.batchId ?? null,
      state: 'active',
      deleted_at: null,
    })
    .execute();
}

export async function insertCopyRow(db: Executor, copy: NewFileCopy): Promise<void> {
  await db
    .insertInto('file_copies')
    .values({
      id: copy.id,
      file_id: copy.fileId,
      deployment_id: copy.deploymentId,
      provider_file_id: copy.providerFileId ?? null,
      state: copy.state,
      attempts: 0,
      last_error: null,
      next_attempt_at: null,
      created_at: copy.createdAt,
      lease_expires_at: copy.leaseExpiresAt ?? null,
    })
    .execute();
}

export function toFileRecord(row: Selectable<FilesTable>): FileRecord {
  return {
    id: row.id,
    owner: row.owner,
    purpose: row.purpose,
    filename: row.filename,
    bytes: Number(row.bytes),
    createdAt: Number(row.created_at),
    expiresAt: nullableNumber(row.expires_at),
    status: row.status as OpenAIFileStatus,
    statusDetails: row.status_details,
    checksum: row.checksum,
    blobKey: row.blob_key,
    lineCount: nullableNumber(row.line_count),
    batchEndpoint: row.batch_endpoint,
    modelGroups: parseJsonText<string[] | null>(row.model_groups, null),
    lineModels: parseJsonText<string[] | null>(row.line_models, null),
    tokenEstimate: storedTokenEstimate(row.token_estimate),
    batchId: row.batch_id,
    state: row.state as FileState,
    deletedAt: nullableNumber(row.deleted_at),
  };
}

function toCopyRecord(row: Selectable<FileCopiesTable>): FileCopyRecord {
  return {
    id: row.id,
    fileId: row.file_id,
    deploymentId: row.deployment_id,
    providerFileId: row.provider_file_id,
    state: row.state as FileCopyState,
    attempts: Number(row.attempts),
    lastError: row.last_error,
    nextAttemptAt: nullableNumber(row.next_attempt_at),
    createdAt: Number(row.created_at),
    leaseExpiresAt: nullableNumber(row.lease_expires_at),
  };
}

function nullableNumber(value: number | null): number | null {
  return value === null ? null : Number(value);
}

function storedTokenEstimate(text: string | null): TokenEstimateParts | null {
  const value = parseJsonText<unknown>(text, null);
  return isTokenEstimate(value) ? value : null;
}
