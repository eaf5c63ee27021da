/**
 * Uploads and their parts (migration 0023, OpenAI's Uploads API). A part is added only while its
 * upload is pending (one statement: an upload cancelled or completed meanwhile takes no part);
 * an upload leaves `pending` once, by compare-and-set, whichever instance gets there first; the
 * parts of an upload no longer pending are what the file janitor removes.
 */
import type { Selectable } from 'kysely';
import type { Database } from './database.ts';
import { affectedRows } from './row-mapping.ts';
import type { UploadsTable } from './schema.ts';

export type UploadStatus = 'pending' | 'completed' | 'cancelled' | 'expired';

export interface UploadRecord {
  id: string;
  owner: string;
  filename: string;
  purpose: string;
  bytes: number;
  mimeType: string;
  status: UploadStatus;
  createdAt: number;
  expiresAt: number;
  fileExpiresAfter: number | null;
  fileId: string | null;
}

export interface UploadPartRecord {
  id: string;
  uploadId: string;
  blobKey: string;
  bytes: number;
  createdAt: number;
}

function toUploadRecord(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    owner: row.owner,
    filename: row.filename,
    purpose: row.purpose,
    bytes: Number(row.bytes),
    mimeType: row.mime_type,
    status: row.status as UploadStatus,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
    fileExpiresAfter: row.file_expires_after === null ? null : Number(row.file_expires_after),
    fileId: row.file_id,
  };
}

export class UploadStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async insert(upload: UploadRecord): Promise<void> {
    await this.#db.kysely
      .insertInto('uploads')
      .values({
        id: upload.id,
        owner: upload.owner,
        filename: upload.filename,
        purpose: upload.purpose,
        bytes: upload.bytes,
        mime_type: upload.mimeType,
        status: upload.status,
        created_at: upload.createdAt,
        expires_at: upload.expiresAt,
        file_expires_after: upload.fileExpiresAfter,
        file_id: upload.fileId,
      })
      .execute();
  }

  async find(id: string): Promise<UploadRecord | undefined> {
    const row = await this.#db.kysely.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toUploadRecord(row);
  }

  /** Records a stored part while its upload is pending and unexpired at `now`; false when it is not (the caller removes the blob). */
  async addPart(part: UploadPartRecord, now: number): Promise<boolean> {
    const result = await this.#db.kysely
      .insertInto('upload_parts')
      .columns(['id', 'upload_id', 'blob_key', 'bytes', 'created_at'])
      .expression((eb) =>
        eb
          .selectFrom('uploads')
          .select([eb.val(part.id).as('id'), eb.val(part.uploadId).as('upload_id'), eb.val(part.blobKey).as('blob_key'), eb.val(part.bytes).as('bytes'), eb.val(part.createdAt).as('created_at')])
          .where('id', '=', part.uploadId)
          .where('status', '=', 'pending')
          .where('expires_at', '>', now),
      )
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  /** The upload's parts, by id. */
  async partsOf(uploadId: string): Promise<UploadPartRecord[]> {
    const rows = await this.#db.kysely.selectFrom('upload_parts').selectAll().where('upload_id', '=', uploadId).execute();
    return rows.map((row) => ({ id: row.id, uploadId: row.upload_id, blobKey: row.blob_key, bytes: Number(row.bytes), createdAt: Number(row.created_at) }));
  }

  /** The upload's parts so far: how many, and their bytes. */
  async partTotals(uploadId: string): Promise<{ parts: number; bytes: number }> {
    const row = await this.#db.kysely
      .selectFrom('upload_parts')
      .select((eb) => [eb.fn.countAll<number>().as('parts'), eb.fn.sum<number>('bytes').as('bytes')])
      .where('upload_id', '=', uploadId)
      .executeTakeFirst();
    return { parts: Number(row?.parts ?? 0), bytes: Number(row?.bytes ?? 0) };
  }

  /** Moves a pending upload to `status` (with its file, once completed); false when it was no longer pending. */
  async finish(id: string, status: Exclude<UploadStatus, 'pending'>, fileId: string | null = null): Promise<boolean> {
    const result = await this.#db.kysely.updateTable('uploads').set({ status, file_id: fileId }).where('id', '=', id).where('status', '=', 'pending').executeTakeFirst();
    return affectedRows(result) === 1;
  }

  /** Pending uploads whose hour passed before `now` become `expired`; answers how many. */
  async expirePending(now: number): Promise<number> {
    const result = await this.#db.kysely.updateTable('uploads').set({ status: 'expired' }).where('status', '=', 'pending').where('expires_at', '<=', now).executeTakeFirst();
    return affectedRows(result);
  }

  /** Parts of uploads that are no longer pending (their bytes are no longer needed), at most `limit`. */
  async leftoverParts(limit: number): Promise<UploadPartRecord[]> {
    const rows = await this.#db.kysely
      .selectFrom('upload_parts')
      .innerJoin('uploads', 'uploads.id', 'upload_parts.upload_id')
      .selectAll('upload_parts')
      .where('uploads.status', '!=', 'pending')
      .limit(limit)
      .execute();
    return rows.map((row) => ({ id: row.id, uploadId: row.upload_id, blobKey: row.blob_key, bytes: Number(row.bytes), createdAt: Number(row.created_at) }));
  }

  async deletePart(id: string): Promise<void> {
    await this.#db.kysely.deleteFrom('upload_parts').where('id', '=', id).execute();
  }
}
