/**
 * Gateway files: upload (streamed to the blob store, validated, optionally placed on target
 * deployments), list, retrieve, content and delete, each checked against the caller's ownership.
 * A foreign file is answered exactly like a missing one.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { pipeline, Readable, Transform } from 'node:stream';
import type { FilesSettings } from '../../config/types.ts';
import type { Logger } from '../../observability/logger.ts';
import type { Router } from '../../routing/router.ts';
import { GatewayError, InvalidRequestError, NotFoundError, PayloadTooLargeError, PermissionDeniedError, UpstreamConnectionError } from '../../spec/errors.ts';
import type { OpenAIFile, OpenAIFileDeleted, OpenAIList } from '../../spec/openai-objects.ts';
import { STREAM_WINDOW_BYTES } from '../../spec/stream-window.ts';
import { canAccess, type Principal } from '../../spec/principal.ts';
import type { CallOptions, Deployment } from '../../spec/provider.ts';
import type { BlobStore, StoredBlob } from '../../storage/blob-store.ts';
import type { FileRecord, FileStore, NewFileCopy } from '../../storage/file-store.ts';
import { unixSeconds } from '../../storage/row-mapping.ts';
import { newFileCopyId, newFileId, isFileId } from '../ids.ts';
import { BatchInputValidator, type BatchInputProblem, type BatchInputSummary } from '../jsonl/batch-input-validator.ts';
import { abandonCopies, beginFileDeletion, type FileDeletionDeps } from './file-deletion.ts';
import { holdsFiles, uploadCopy, type PlacedCopy } from './file-placement.ts';
import { toOpenAIFile } from './file-views.ts';
import { readMultipartUpload } from './multipart-upload.ts';
import { OwnerQuota, type UploadAllowance } from './owner-quota.ts';
import { parseUploadFields, type UploadFields } from './upload-fields.ts';
import { UploadSlots } from './upload-slots.ts';

export interface FileServiceDeps {
  router: Router;
  files: FileStore;
  blobs: BlobStore;
  settings: FilesSettings;
  logger: Logger;
  /** How files are deleted everywhere (shared with the cleanup job). */
  deletion: FileDeletionDeps;
}

export interface FileListQuery {
  purpose?: string;
  order?: 'asc' | 'desc';
  after?: string;
  limit: number;
}

interface ReceivedFile {
  blob: StoredBlob;
  /** Present when the bytes were checked as batch input (purpose known or unknown yet). */
  batchInput: BatchInputSummary | null;
}

export function fileNotFound(id: string): NotFoundError {
  return new NotFoundError(`No such File object: ${id.length > 100 ? `${id.slice(0, 100)}...` : id}`, { param: 'id' });
}

export interface FilePlacementView {
  id: string;
  object: 'file.placement';
  checksum_sha256: string | null;
  line_count: number | null;
  batch_endpoint: string | null;
  model_groups: string[] | null;
  batch_id: string | null;
  stored_in_gateway: boolean;
  copies: { deployment_id: string; model_name: string | null; provider: string | null; state: string; provider_file_id: string | null; created_at: number }[];
}

export class FileService {
  readonly #deps: FileServiceDeps;
  readonly #uploads: UploadSlots;
  readonly #quota: OwnerQuota;

  constructor(deps: FileServiceDeps) {
    this.#deps = deps;
    this.#uploads = new UploadSlots({ total: deps.settings.maxConcurrentUploads, perKey: deps.settings.maxConcurrentUploadsPerKey });
    this.#quota = new OwnerQuota(deps.files, deps.settings);
  }

  /** Reads, validates and stores an upload while holding one of the instance's upload slots. */
  async upload(principal: Principal, headers: IncomingHttpHeaders, body: Readable, call: CallOptions = {}): Promise<OpenAIFile> {
    const release = this.#uploads.acquire(principal);
    try {
      return await this.#upload(principal, headers, body, call);
    } finally {
      release();
    }
  }

  /** Runs `work` holding one of the instance's upload slots (a part of an Upload, its assembly). */
  async withUploadSlot<T>(principal: Principal, work: () => Promise<T>): Promise<T> {
    const release = this.#uploads.acquire(principal);
    try {
      return await work();
    } finally {
      release();
    }
  }

  /** What the caller may still store in one file: the file size limit, or what is left of its quota. */
  allowance(principal: Principal): Promise<UploadAllowance> {
    return this.#quota.allowance(principal);
  }

  /**
   * A file made of bytes the gateway already holds (the parts of an Upload, `upload-service.ts`),
   * read from `source`: checked, stored and placed exactly as a `POST /v1/files` upload is. The
   * caller holds an upload slot.
   */
  async createFromStream(principal: Principal, file: { filename: string; purpose: string; expiresAfterSeconds: number | null }, source: Readable, call: CallOptions = {}): Promise<OpenAIFile> {
    const received = await this.#receive(source, file.purpose, await this.#quota.allowance(principal));
    return this.#register(principal, file.filename, () => ({ ...parseUploadFields({ purpose: file.purpose }), expiresAfterSeconds: file.expiresAfterSeconds }), received, call);
  }

  async #upload(principal: Principal, headers: IncomingHttpHeaders, body: Readable, call: CallOptions): Promise<OpenAIFile> {
    const { blobs } = this.#deps;
    const allowance = await this.#quota.allowance(principal);
    const upload = await readMultipartUpload<ReceivedFile>(
      headers,
      body,
      (part, fieldsSoFar) => this.#receive(part.stream, fieldsSoFar.purpose, allowance),
      (received) => blobs.delete(received.blob.key),
    );
    return this.#register(principal, upload.filename, () => parseUploadFields(upload.fields), upload.stored, call);
  }

  /** Records a received file (and places it on its target models); on any failure its bytes go. */
  async #register(principal: Principal, filename: string, fieldsOf: () => UploadFields, received: ReceivedFile, call: CallOptions): Promise<OpenAIFile> {
    const { blobs, settings } = this.#deps;
    const { blob, batchInput } = received;
    try {
      await this.#quota.checkBeforeRecording(principal, blob.bytes);
      const fields = fieldsOf();
      const createdAt = unixSeconds();
      const expiresAfter = fields.expiresAfterSeconds ?? (fields.purpose === 'batch' && settings.batchFileDefaultExpirySeconds > 0 ? settings.batchFileDefaultExpirySeconds : null);
      const base = {
        id: newFileId(),
        owner: principal.owner,
        purpose: fields.purpose,
        filename,
        bytes: blob.bytes,
        createdAt,
        status: 'processed' as const,
        expiresAt: expiresAfter === null ? null : createdAt + expiresAfter,
        checksum: blob.sha256,
        blobKey: blob.key,
      };
      if (fields.purpose !== 'batch') {
        if (fields.targetModelGroups.length > 0) {
          throw new InvalidRequestError("'target_model_names' is only supported for purpose 'batch'.", { param: 'target_model_names' });
        }
        await this.#quota.record(principal, base);
        return toOpenAIFile({ ...base, ...emptyFields });
      }
      const summary = this.#checkBatchFile(filename, blob, batchInput);
      const lineModels = [...summary.models.keys()];
      const targets = fields.targetModelGroups;
      if (targets.length > 0) this.#checkTargets(principal, targets, lineModels);
      const copies = targets.length > 0 ? await this.#placeOnTargets(targets, blob, filename, call) : [];
      const file = { ...base, lineCount: summary.lineCount, batchEndpoint: summary.endpoint, modelGroups: targets.length > 0 ? targets : lineModels, lineModels, tokenEstimate: summary.tokens };
      try {
        await this.#quota.record(principal, file, copies.map(activeCopy));
      } catch (error) {
        await this.#abandonCopies(copies);
        throw error;
      }
      return toOpenAIFile({ ...file, ...emptyFields });
    } catch (error) {
      await blobs.delete(blob.key).catch(() => undefined);
      throw error;
    }
  }

  async list(principal: Principal, query: FileListQuery): Promise<OpenAIList<OpenAIFile>> {
    if (query.after !== undefined && !isFileId(query.after)) {
      return { object: 'list', data: [], first_id: null, last_id: null, has_more: false };
    }
    const page = await this.#deps.files.list({
      owner: principal.isMaster ? undefined : principal.owner,
      purpose: query.purpose,
      order: query.order ?? 'desc',
      after: query.after,
      limit: query.limit,
    });
    const data = page.rows.map(toOpenAIFile);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  }

  /** The caller's file, or a 404 exactly like a missing one. */
  async find(principal: Principal, id: string): Promise<FileRecord> {
    if (!isFileId(id)) throw fileNotFound(id);
    const file = await this.#deps.files.getActive(id);
    if (!file || !canAccess(principal, file.owner) || (file.expiresAt !== null && file.expiresAt <= unixSeconds())) {
      throw fileNotFound(id);
    }
    return file;
  }

  async retrieve(principal: Principal, id: string): Promise<OpenAIFile> {
    return toOpenAIFile(await this.find(principal, id));
  }

  /**
   * Where the caller's file lives (Portico's own field set, for the console's Files page): what
   * the upload check learnt of it, whether the gateway holds its bytes, and its copies on
   * deployments (`file_copies`) with their state.
   */
  async placement(principal: Principal, id: string): Promise<FilePlacementView> {
    const file = await this.find(principal, id);
    const copies = await this.#deps.files.copiesOf(file.id);
    return {
      id: file.id,
      object: 'file.placement',
      checksum_sha256: file.checksum,
      line_count: file.lineCount,
      batch_endpoint: file.batchEndpoint,
      model_groups: file.modelGroups,
      batch_id: file.batchId,
      stored_in_gateway: file.blobKey !== null,
      copies: copies.map((copy) => {
        const deployment = this.#deps.router.deployment(copy.deploymentId);
        return {
          deployment_id: copy.deploymentId,
          model_name: deployment?.modelGroup ?? null,
          provider: deployment?.providerName ?? null,
          state: copy.state,
          provider_file_id: copy.providerFileId,
          created_at: Math.floor(copy.createdAt),
        };
      }),
    };
  }

  /** The file's bytes, streamed from the blob store or, failing that, from a provider copy. */
  async content(principal: Principal, id: string, call: CallOptions = {}): Promise<{ file: FileRecord; stream: Readable }> {
    const file = await this.find(principal, id);
    if (file.blobKey) return { file, stream: await this.#deps.blobs.get(file.blobKey) };
    const copy = (await this.#deps.files.copiesOf(file.id)).find((c) => c.state === 'active' && c.providerFileId !== null);
    if (!copy) throw new GatewayError(500, 'The content of this file is not available.', { type: 'server_error' });
    const stream = await this.#deps.router.sendTo(copy.deploymentId, (client, attempt) => client.files!.content(copy.providerFileId!, attempt), call);
    return { file, stream };
  }

  async delete(principal: Principal, id: string): Promise<OpenAIFileDeleted> {
    const file = await this.find(principal, id);
    if (!(await beginFileDeletion(this.#deps.deletion, file))) throw fileNotFound(id);
    return { id: file.id, object: 'file', deleted: true };
  }

  /** Streams the file part to the blob store, checking it as batch input on the way unless the purpose is known to be something else. */
  async #receive(stream: Readable, purposeSoFar: string | undefined, allowance: UploadAllowance): Promise<ReceivedFile> {
    const { settings } = this.#deps;
    const validator =
      purposeSoFar === undefined || purposeSoFar === 'batch'
        ? new BatchInputValidator({ maxLines: settings.maxBatchFileLines, maxLineBytes: settings.maxBatchLineBytes })
        : null;
    // Known to be batch input: a bad line ends the upload at once, before the rest is stored.
    const failFast = purposeSoFar === 'batch';
    // `pipeline` carries an error of the part on to the validating stream even before the blob
    // store attaches to it (the store awaits its directory or row first); its callback has
    // nothing to do, since the store sees the destroyed stream and fails with that error.
    const source = validator
      ? pipeline(
          stream,
          new Transform({
            highWaterMark: STREAM_WINDOW_BYTES,
            transform(chunk: Buffer, _encoding, callback) {
              validator.push(chunk);
              const problem = failFast ? validator.problemSoFar : null;
              callback(problem ? batchInputError(problem) : null, chunk);
            },
          }),
          () => undefined,
        )
      : stream;
    // The store stops (keeping nothing) once the bytes pass the allowance: the file size limit,
    // or what is left of the owner's quota.
    const blob = await this.#deps.blobs.put(source, { maxBytes: allowance.maxBytes }).catch((error: unknown) => {
      throw error instanceof PayloadTooLargeError && allowance.quotaBound ? this.#quota.overBytes() : error;
    });
    return { blob, batchInput: validator ? validator.finish() : null };
  }

  #checkBatchFile(filename: string, blob: StoredBlob, summary: BatchInputSummary | null): BatchInputSummary {
    if (!filename.toLowerCase().endsWith('.jsonl')) {
      throw new InvalidRequestError('Invalid file format for Batch API. Must be .jsonl', { param: 'file' });
    }
    if (blob.bytes > this.#deps.settings.maxBatchFileBytes) {
      throw new InvalidRequestError(`File is too large. Batch input files may be at most ${this.#deps.settings.maxBatchFileBytes} bytes.`, { param: 'file', code: 'file_too_large' });
    }
    if (!summary) throw new Error('batch input was not validated');
    if (summary.problem) throw batchInputError(summary.problem);
    return summary;
  }

  #checkTargets(principal: Principal, targets: readonly string[], lineModels: readonly string[]): void {
    for (const group of targets) {
      if (!this.#deps.router.hasModelGroup(group) || !this.#deps.router.mayUse(principal, group)) {
        const known = this.#deps.router.hasModelGroup(group);
        if (known) throw new PermissionDeniedError(`This key is not allowed to use the model '${group}'.`, { param: 'target_model_names' });
        throw new InvalidRequestError(`Unknown model '${group.slice(0, 100)}' in 'target_model_names'.`, { param: 'target_model_names', code: 'model_not_found' });
      }
    }
    const outside = lineModels.find((model) => !targets.includes(model));
    if (outside !== undefined) {
      throw new InvalidRequestError(
        `A line of the file names the model '${outside.slice(0, 100)}', which is not one of the target_model_names (${targets.join(', ')}).`,
        { param: 'body.model', code: 'model_mismatch' },
      );
    }
  }

  /** Uploads a copy to every file-keeping deployment of the targets, concurrently; all or nothing. */
  async #placeOnTargets(targets: readonly string[], blob: StoredBlob, filename: string, call: CallOptions): Promise<PlacedCopy[]> {
    const { router } = this.#deps;
    const deployments: Deployment[] = targets.flatMap((group) => router.deploymentsOf(group).filter((d) => holdsFiles(d, router.clientFor(d.id))));
    const results = await Promise.allSettled(deployments.map((d) => uploadCopy(router, this.#deps.blobs, { blobKey: blob.key, filename }, d, call)));
    const placed = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) {
      await this.#abandonCopies(placed);
      throw failure.reason instanceof GatewayError ? failure.reason : new UpstreamConnectionError('Uploading the file to a target deployment failed.');
    }
    return placed;
  }

  /** Removes copies of an upload that failed (`abandonCopies`). */
  async #abandonCopies(copies: readonly PlacedCopy[]): Promise<void> {
    await abandonCopies(this.#deps.deletion, copies);
  }
}

function batchInputError(problem: BatchInputProblem): InvalidRequestError {
  const where = problem.line === null ? '' : `line ${problem.line}: `;
  return new InvalidRequestError(`Invalid batch input file: ${where}${problem.message}`, { param: problem.param ?? 'file', code: problem.code });
}

const emptyFields = {
  statusDetails: null,
  lineCount: null,
  modelGroups: null,
  lineModels: null,
  tokenEstimate: null,
  batchId: null,
  batchEndpoint: null,
  state: 'active' as const,
  deletedAt: null,
};

function activeCopy(copy: PlacedCopy): Omit<NewFileCopy, 'fileId'> {
  return { id: newFileCopyId(), deploymentId: copy.deployment.id, providerFileId: copy.providerFile.id, state: 'active', createdAt: unixSeconds() };
}
