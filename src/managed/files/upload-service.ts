/**
 * OpenAI's Uploads API (`/v1/uploads`): how the SDKs send a file too large for one request
 * (`client.uploads.upload_file_chunked` in Python): an Upload declares the file (name, purpose,
 * size, type), parts of up to 64 MB are added in any order, from any instance, and `complete`
 * names their order; the gateway then reads the parts in that order into one file, checked,
 * stored and placed exactly as a `POST /v1/files` upload is (`FileService.createFromStream`), and
 * the parts' bytes go. An upload not completed within the hour expires (the file janitor removes
 * its parts, and those of cancelled and completed ones).
 *
 * Reference: https://platform.openai.com/docs/api-reference/uploads, and the `/uploads` paths of
 * the OpenAI OpenAPI description.
 */
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Readable, Transform } from 'node:stream';
import type { FilesSettings } from '../../config/types.ts';
import { InvalidRequestError, NotFoundError, PayloadTooLargeError } from '../../spec/errors.ts';
import { FILE_UPLOAD_PURPOSES, type OpenAIFile } from '../../spec/openai-objects.ts';
import { canAccess, type Principal } from '../../spec/principal.ts';
import type { CallOptions } from '../../spec/provider.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { unixSeconds } from '../../storage/row-mapping.ts';
import type { UploadRecord, UploadStore } from '../../storage/upload-store.ts';
import { isUploadId, newUploadId, newUploadPartId } from '../ids.ts';
import type { FileService } from './file-service.ts';
import { readMultipartUpload } from './multipart-upload.ts';

/** How long an upload takes parts (OpenAI's: an hour). */
const UPLOAD_LIFETIME_SECONDS = 3600;
/** OpenAI's limits: a part, and a whole upload. */
const MAX_PART_BYTES = 64 * 1024 * 1024;
const MAX_UPLOAD_BYTES = 8 * 1024 * 1024 * 1024;
/**
 * Parts one upload may have (S3's multipart limit): without one, a client could send a file of
 * hundreds of megabytes as one-byte parts, a row each.
 */
export const MAX_UPLOAD_PARTS = 10_000;
const MIN_FILE_EXPIRY_SECONDS = 3600;
const MAX_FILE_EXPIRY_SECONDS = 2_592_000;
const MAX_FILENAME_CHARS = 512;

/** OpenAI's Upload object. */
export interface OpenAIUpload {
  id: string;
  object: 'upload';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: UploadRecord['status'];
  expires_at: number;
  /** The file it became, once completed. */
  file: OpenAIFile | null;
}

/** OpenAI's Upload Part object. */
export interface OpenAIUploadPart {
  id: string;
  object: 'upload.part';
  created_at: number;
  upload_id: string;
}

export interface UploadServiceDeps {
  readonly uploads: UploadStore;
  readonly blobs: BlobStore;
  readonly files: FileService;
  readonly settings: Pick<FilesSettings, 'maxBatchFileBytes'>;
}

function uploadNotFound(id: string): NotFoundError {
  return new NotFoundError(`No such upload: ${id.slice(0, 100)}`, { param: 'upload_id' });
}

function viewOf(upload: UploadRecord, file: OpenAIFile | null = null): OpenAIUpload {
  return {
    id: upload.id,
    object: 'upload',
    bytes: upload.bytes,
    created_at: upload.createdAt,
    filename: upload.filename,
    purpose: upload.purpose,
    status: upload.status,
    expires_at: upload.expiresAt,
    file,
  };
}

function required(body: Record<string, unknown>, name: string): unknown {
  const value = body[name];
  if (value === undefined || value === null) throw new InvalidRequestError(`Missing required parameter: '${name}'.`, { param: name, code: 'missing_required_parameter' });
  return value;
}

function invalid(param: string, message: string): InvalidRequestError {
  return new InvalidRequestError(message, { param, code: 'invalid_value' });
}

/** `expires_after` of the file the upload becomes: `{anchor: 'created_at', seconds}`. */
function fileExpiry(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  const { anchor, seconds } = (typeof value === 'object' && !Array.isArray(value) ? value : {}) as { anchor?: unknown; seconds?: unknown };
  if (anchor !== 'created_at') throw invalid('expires_after.anchor', "Invalid value for 'expires_after.anchor': expected 'created_at'.");
  if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < MIN_FILE_EXPIRY_SECONDS || seconds > MAX_FILE_EXPIRY_SECONDS) {
    throw invalid('expires_after.seconds', `Invalid value for 'expires_after.seconds': expected an integer between ${MIN_FILE_EXPIRY_SECONDS} and ${MAX_FILE_EXPIRY_SECONDS}.`);
  }
  return seconds;
}

export class UploadService {
  readonly #deps: UploadServiceDeps;

  constructor(deps: UploadServiceDeps) {
    this.#deps = deps;
  }

  /** `POST /v1/uploads`: the upload, pending, taking parts for an hour. */
  async create(principal: Principal, input: unknown): Promise<OpenAIUpload> {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new InvalidRequestError('The request body must be a JSON object.', { code: 'invalid_type' });
    const body = input as Record<string, unknown>;
    const filename = required(body, 'filename');
    const purpose = required(body, 'purpose');
    const bytes = required(body, 'bytes');
    const mimeType = required(body, 'mime_type');
    if (typeof filename !== 'string' || filename.trim() === '' || filename.length > MAX_FILENAME_CHARS) throw invalid('filename', `Invalid value for 'filename': expected a name of 1 to ${MAX_FILENAME_CHARS} characters.`);
    if (typeof purpose !== 'string' || !(FILE_UPLOAD_PURPOSES as readonly string[]).includes(purpose)) {
      throw invalid('purpose', `'${String(purpose).slice(0, 64)}' is not one of [${FILE_UPLOAD_PURPOSES.map((p) => `'${p}'`).join(', ')}] - 'purpose'`);
    }
    if (typeof mimeType !== 'string' || mimeType.trim() === '' || mimeType.length > 255) throw invalid('mime_type', "Invalid value for 'mime_type': expected a MIME type such as 'application/jsonl'.");
    if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 1 || bytes > MAX_UPLOAD_BYTES) throw invalid('bytes', `Invalid value for 'bytes': expected an integer from 1 to ${MAX_UPLOAD_BYTES} (8 GB).`);
    const fileExpiresAfter = fileExpiry(body.expires_after);
    // Refused now rather than after an hour of parts: what the file may be, here.
    const allowance = await this.#deps.files.allowance(principal);
    if (bytes > allowance.maxBytes) {
      throw new InvalidRequestError(
        allowance.quotaBound
          ? `The upload of ${bytes} bytes is more than is left of this owner's file storage quota (${allowance.maxBytes} bytes).`
          : `The upload of ${bytes} bytes is larger than the gateway's file size limit of ${allowance.maxBytes} bytes (portico_settings.files.max_file_bytes).`,
        { param: 'bytes', code: 'file_too_large' },
      );
    }
    if (purpose === 'batch') {
      if (bytes > this.#deps.settings.maxBatchFileBytes) throw new InvalidRequestError(`File is too large. Batch input files may be at most ${this.#deps.settings.maxBatchFileBytes} bytes.`, { param: 'bytes', code: 'file_too_large' });
      if (!filename.toLowerCase().endsWith('.jsonl')) throw new InvalidRequestError('Invalid file format for Batch API. Must be .jsonl', { param: 'filename' });
    }
    const createdAt = unixSeconds();
    const upload: UploadRecord = {
      id: newUploadId(),
      owner: principal.owner,
      filename,
      purpose,
      bytes,
      mimeType,
      status: 'pending',
      createdAt,
      expiresAt: createdAt + UPLOAD_LIFETIME_SECONDS,
      fileExpiresAfter,
      fileId: null,
    };
    await this.#deps.uploads.insert(upload);
    return viewOf(upload);
  }

  /** `POST /v1/uploads/{id}/parts`: one part (`data`, up to 64 MB), stored as it arrives. */
  async addPart(principal: Principal, id: string, headers: IncomingHttpHeaders, body: Readable): Promise<OpenAIUploadPart> {
    const upload = await this.#pending(principal, id);
    const { blobs, uploads, files } = this.#deps;
    return files.withUploadSlot(principal, async () => {
      // A part beyond what the upload declared is refused as it streams, not after.
      const sofar = await uploads.partTotals(upload.id);
      const room = upload.bytes - sofar.bytes;
      if (room <= 0) throw new InvalidRequestError(`The upload ${upload.id} already has its ${upload.bytes} bytes; complete it.`, { param: 'data' });
      if (sofar.parts >= MAX_UPLOAD_PARTS) throw new InvalidRequestError(`An upload may have at most ${MAX_UPLOAD_PARTS} parts; send larger parts (up to ${MAX_PART_BYTES} bytes each).`, { param: 'data', code: 'too_many_parts' });
      const received = await readMultipartUpload(headers, body, (part) => blobs.put(part.stream, { maxBytes: Math.min(MAX_PART_BYTES, room) }), (blob) => blobs.delete(blob.key), {
        expects: "a 'data' part",
        fileField: 'data',
      }).catch((error: unknown) => {
        throw error instanceof PayloadTooLargeError
          ? new InvalidRequestError(`A part may be at most ${MAX_PART_BYTES} bytes, and the parts of an upload at most the ${upload.bytes} bytes it declared.`, { param: 'data', code: 'file_too_large' })
          : error;
      });
      const part = { id: newUploadPartId(), uploadId: upload.id, blobKey: received.stored.key, bytes: received.stored.bytes, createdAt: Date.now() / 1000 };
      if (!(await uploads.addPart(part, unixSeconds()))) {
        await blobs.delete(part.blobKey).catch(() => undefined);
        throw this.#notPendingError((await uploads.find(upload.id)) ?? upload);
      }
      return { id: part.id, object: 'upload.part', created_at: Math.floor(part.createdAt), upload_id: upload.id };
    });
  }

  /**
   * `POST /v1/uploads/{id}/complete`: the parts in `part_ids` order become the file (their sizes
   * must add up to the declared `bytes`; `md5`, when given, must be the file's); the upload is
   * `completed` with its `file`.
   */
  async complete(principal: Principal, id: string, input: unknown, call: CallOptions = {}): Promise<OpenAIUpload> {
    const upload = await this.#pending(principal, id);
    const body = (input !== null && typeof input === 'object' && !Array.isArray(input) ? input : {}) as Record<string, unknown>;
    const partIds = required(body, 'part_ids');
    if (!Array.isArray(partIds) || partIds.length === 0 || partIds.length > MAX_UPLOAD_PARTS || partIds.some((part) => typeof part !== 'string')) {
      throw invalid('part_ids', `Invalid value for 'part_ids': expected a list of the upload's part ids (at most ${MAX_UPLOAD_PARTS}).`);
    }
    const md5 = body.md5;
    if (md5 !== undefined && md5 !== null && (typeof md5 !== 'string' || !/^[0-9a-fA-F]{32}$/.test(md5))) throw invalid('md5', "Invalid value for 'md5': expected 32 hexadecimal digits.");
    if (new Set(partIds).size !== partIds.length) throw invalid('part_ids', "Invalid value for 'part_ids': a part is named more than once.");
    const { uploads, blobs, files } = this.#deps;
    const stored = new Map((await uploads.partsOf(upload.id)).map((part) => [part.id, part]));
    const ordered = (partIds as string[]).map((partId) => {
      const part = stored.get(partId);
      if (part === undefined) throw invalid('part_ids', `Invalid value for 'part_ids': ${partId.slice(0, 64)} is not a part of the upload ${upload.id}.`);
      return part;
    });
    const total = ordered.reduce((sum, part) => sum + part.bytes, 0);
    if (total !== upload.bytes) {
      throw new InvalidRequestError(`The number of bytes uploaded (${total}) does not match the expected number of bytes (${upload.bytes}).`, { param: 'part_ids', code: 'invalid_value' });
    }
    const hash = createHash('md5');
    const source = Readable.from(
      (async function* () {
        for (const part of ordered) yield* await blobs.get(part.blobKey);
      })(),
      { objectMode: false },
    ).pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
        flush(callback) {
          const digest = hash.digest('hex');
          callback(typeof md5 === 'string' && digest !== md5.toLowerCase() ? invalid('md5', 'The md5 of the uploaded bytes is not the one given: a part is missing, changed or out of order.') : null);
        },
      }),
    );
    const file = await files.withUploadSlot(principal, () => files.createFromStream(principal, { filename: upload.filename, purpose: upload.purpose, expiresAfterSeconds: upload.fileExpiresAfter }, source, call));
    if (!(await uploads.finish(upload.id, 'completed', file.id))) {
      // Cancelled, expired or completed elsewhere meanwhile: this file is not the upload's.
      await files.delete(principal, file.id).catch(() => undefined);
      throw this.#notPendingError((await uploads.find(upload.id)) ?? upload);
    }
    return viewOf({ ...upload, status: 'completed', fileId: file.id }, file);
  }

  /** `POST /v1/uploads/{id}/cancel`: no more parts; the parts' bytes go (the janitor removes them). */
  async cancel(principal: Principal, id: string): Promise<OpenAIUpload> {
    const upload = await this.#pending(principal, id);
    if (!(await this.#deps.uploads.finish(upload.id, 'cancelled'))) throw this.#notPendingError((await this.#deps.uploads.find(upload.id)) ?? upload);
    return viewOf({ ...upload, status: 'cancelled' });
  }

  /** The caller's upload while it takes parts; 404 as a missing one for anyone else's. */
  async #pending(principal: Principal, id: string): Promise<UploadRecord> {
    if (!isUploadId(id)) throw uploadNotFound(id);
    const upload = await this.#deps.uploads.find(id);
    if (upload === undefined || !canAccess(principal, upload.owner)) throw uploadNotFound(id);
    const expired = upload.status === 'pending' && upload.expiresAt <= unixSeconds();
    if (upload.status !== 'pending' || expired) throw this.#notPendingError(expired ? { ...upload, status: 'expired' } : upload);
    return upload;
  }

  #notPendingError(upload: UploadRecord): InvalidRequestError {
    return new InvalidRequestError(`The upload ${upload.id} is ${upload.status}; it takes no more parts and cannot be completed or cancelled.`, { param: 'upload_id', code: `upload_${upload.status}` });
  }
}
