/**
 * Per-owner quotas of stored files (`portico_settings.files.max_bytes_per_owner` /
 * `max_files_per_owner`): what an owner's active files (uploads and batch results) may add up
 * to. Checked before an upload's bytes are read (a full quota refuses at once), enforced while
 * they stream (the blob store stops at the bytes left, so no one upload writes past the quota),
 * checked again before a batch file is placed at providers, and decided when the file is
 * recorded: the usage is counted and the row inserted atomically, one upload of an owner at a
 * time across every instance (`FileStore.insertWithinLimit`), so uploads of the same owner
 * running at once are recorded only as far as they fit. The master key is not limited.
 */
import type { FilesSettings } from '../../config/types.ts';
import { PayloadTooLargeError, PermissionDeniedError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';
import type { FileStore, NewFile, NewFileCopy } from '../../storage/file-store.ts';

export interface UploadAllowance {
  /** The most bytes this upload may have: the file size limit, or what is left of the quota. */
  maxBytes: number;
  /** Whether `maxBytes` is the quota's (a larger upload is refused as over the quota). */
  quotaBound: boolean;
}

export class OwnerQuota {
  readonly #files: Pick<FileStore, 'usageOf' | 'insert' | 'insertWithinLimit'>;
  readonly #settings: FilesSettings;

  constructor(files: Pick<FileStore, 'usageOf' | 'insert' | 'insertWithinLimit'>, settings: FilesSettings) {
    this.#files = files;
    this.#settings = settings;
  }

  /** What an upload of `principal` may store now; throws when the quota is already used up. */
  async allowance(principal: Principal): Promise<UploadAllowance> {
    const { maxFileBytes } = this.#settings;
    if (!this.#applies(principal)) return { maxBytes: maxFileBytes, quotaBound: false };
    const usage = await this.#files.usageOf(principal.owner);
    this.#checkCount(usage.files);
    const left = this.#settings.maxBytesPerOwner === undefined ? Number.POSITIVE_INFINITY : this.#settings.maxBytesPerOwner - usage.bytes;
    if (left <= 0) throw overBytes(this.#settings.maxBytesPerOwner!);
    return left < maxFileBytes ? { maxBytes: left, quotaBound: true } : { maxBytes: maxFileBytes, quotaBound: false };
  }

  /**
   * Records an uploaded file (and its provider copies) only while its owner stays inside the
   * quota with it: the check and the insert are one step in the database, whichever instance
   * recorded the owner's other files. Throws the quota's error, having recorded nothing.
   */
  async record(principal: Principal, file: NewFile, copies: readonly Omit<NewFileCopy, 'fileId'>[] = []): Promise<void> {
    if (!this.#applies(principal)) return this.#files.insert(file, copies);
    const { maxBytesPerOwner, maxFilesPerOwner } = this.#settings;
    const outcome = await this.#files.insertWithinLimit(file, copies, { maxBytes: maxBytesPerOwner, maxFiles: maxFilesPerOwner });
    if (outcome === 'over_files') throw overFiles(maxFilesPerOwner!);
    if (outcome === 'over_bytes') throw overBytes(maxBytesPerOwner!);
  }

  /**
   * Before the costly part of recording a received file of `bytes` (placing it at providers):
   * still inside the quota with everything else stored meanwhile? An early answer; `record` decides.
   */
  async checkBeforeRecording(principal: Principal, bytes: number): Promise<void> {
    if (!this.#applies(principal)) return;
    const usage = await this.#files.usageOf(principal.owner);
    this.#checkCount(usage.files);
    const max = this.#settings.maxBytesPerOwner;
    if (max !== undefined && usage.bytes + bytes > max) throw overBytes(max);
  }

  /** The error for an upload that ran past the bytes `allowance` left it. */
  overBytes(): PayloadTooLargeError {
    return overBytes(this.#settings.maxBytesPerOwner!);
  }

  #applies(principal: Principal): boolean {
    return !principal.isMaster && (this.#settings.maxBytesPerOwner !== undefined || this.#settings.maxFilesPerOwner !== undefined);
  }

  #checkCount(files: number): void {
    const max = this.#settings.maxFilesPerOwner;
    if (max !== undefined && files >= max) throw overFiles(max);
  }
}

function overFiles(max: number): PermissionDeniedError {
  return new PermissionDeniedError(`File quota exceeded: an owner may store at most ${max} files. Delete files to upload more.`, { param: 'file', code: 'file_quota_exceeded' });
}

function overBytes(max: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Storage quota exceeded: an owner may store at most ${max} bytes of files. Delete files to upload more.`, {
    param: 'file',
    code: 'storage_quota_exceeded',
  });
}
