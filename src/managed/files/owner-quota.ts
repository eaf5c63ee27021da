/**
 * Per-owner quotas of stored files (`portico_settings.files.max_bytes_per_owner` /
 * `max_files_per_owner`): what an owner's active files (uploads and batch results) may add up
 * to. Checked before an upload's bytes are read (a full quota refuses at once), enforced while
 * they stream (the blob store stops at the bytes left, so nothing over the quota is ever written),
 * and checked again just before the file is recorded (uploads of the same owner running at once).
 * The master key is not limited.
 */
import type { FilesSettings } from '../../config/types.ts';
import { PayloadTooLargeError, PermissionDeniedError } from '../../spec/errors.ts';
import type { Principal } from '../../spec/principal.ts';
import type { FileStore } from '../../storage/file-store.ts';

export interface UploadAllowance {
  /** The most bytes this upload may have: the file size limit, or what is left of the quota. */
  maxBytes: number;
  /** Whether `maxBytes` is the quota's (a larger upload is refused as over the quota). */
  quotaBound: boolean;
}

export class OwnerQuota {
  readonly #files: Pick<FileStore, 'usageOf'>;
  readonly #settings: FilesSettings;

  constructor(files: Pick<FileStore, 'usageOf'>, settings: FilesSettings) {
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

  /** Before recording a received file of `bytes`: still inside the quota with everything else stored meanwhile? */
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
    if (max !== undefined && files >= max) {
      throw new PermissionDeniedError(`File quota exceeded: an owner may store at most ${max} files. Delete files to upload more.`, { param: 'file', code: 'file_quota_exceeded' });
    }
  }
}

function overBytes(max: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`Storage quota exceeded: an owner may store at most ${max} bytes of files. Delete files to upload more.`, {
    param: 'file',
    code: 'storage_quota_exceeded',
  });
}
