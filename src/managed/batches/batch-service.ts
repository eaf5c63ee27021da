/**
 * Gateway batches: create on a deployment of the file's model group (`batch-model.ts` picks it), retrieve (refreshing a
 * stale batch), list from the database, cancel. The database is the one source of truth;
 * providers are asked only to refresh it. Every route checks ownership; a foreign batch is a
 * 404 exactly like a missing one.
 */
import type { Logger } from '../../observability/logger.ts';
import type { Router } from '../../routing/router.ts';
import { ConflictError, GatewayError, InvalidRequestError, NotFoundError, PermissionDeniedError } from '../../spec/errors.ts';
import { TERMINAL_BATCH_STATUSES, type OpenAIBatch, type OpenAIList } from '../../spec/openai-objects.ts';
import { canAccess, mayUseModel, type Principal } from '../../spec/principal.ts';
import type { CallOptions } from '../../spec/provider.ts';
import type { BatchRecord, BatchStore } from '../../storage/batch-store.ts';
import { nowSeconds, unixSeconds } from '../../storage/row-mapping.ts';
import type { FileService } from '../files/file-service.ts';
import { isBatchId, newBatchId } from '../ids.ts';
import type { BatchExecutor, StartedBatch } from './batch-executor.ts';
import { chooseBatchModelGroup } from './batch-model.ts';
import { parseBatchCreateRequest, type BatchListQuery } from './batch-request.ts';
import { type BatchSynchronizer, nextSyncDelaySeconds } from './batch-sync.ts';
import { toOpenAIBatch } from './batch-views.ts';

export interface BatchServiceDeps {
  router: Router;
  batches: BatchStore;
  files: FileService;
  executors: readonly BatchExecutor[];
  sync: BatchSynchronizer;
  logger: Logger;
  /** A retrieve refreshes a running batch from its provider when the stored state is older than this. */
  refreshAfterSeconds: number;
}

const COMPLETION_WINDOW_SECONDS = 86_400;

export function batchNotFound(id: string): NotFoundError {
  return new NotFoundError(`No batch found with id '${id.length > 100 ? `${id.slice(0, 100)}...` : id}'.`, { param: 'batch_id' });
}

export class BatchService {
  readonly #deps: BatchServiceDeps;

  constructor(deps: BatchServiceDeps) {
    this.#deps = deps;
  }

  async create(principal: Principal, body: unknown, call: CallOptions = {}): Promise<OpenAIBatch> {
    const { router, batches } = this.#deps;
    const request = parseBatchCreateRequest(body);
    const file = await this.#deps.files.find(principal, request.inputFileId).catch((error: unknown) => {
      if (error instanceof NotFoundError) throw new NotFoundError(`No such File object: ${request.inputFileId.slice(0, 100)}`, { param: 'input_file_id' });
      throw error;
    });
    if (file.purpose !== 'batch') {
      throw new InvalidRequestError(`The file ${file.id} has purpose '${file.purpose}'; a batch needs a file uploaded with purpose 'batch'.`, { param: 'input_file_id', code: 'invalid_file_purpose' });
    }
    if (file.batchEndpoint !== null && file.batchEndpoint !== request.endpoint) {
      throw new InvalidRequestError(`The requests in the input file are for '${file.batchEndpoint}', but the batch endpoint is '${request.endpoint}'.`, { param: 'endpoint', code: 'invalid_url' });
    }
    const modelGroup = chooseBatchModelGroup(file, request.model, principal, router);
    if (!router.hasModelGroup(modelGroup)) {
      throw new InvalidRequestError(`The model '${modelGroup.slice(0, 100)}' named in the input file is not served by this gateway.`, { param: 'body.model', code: 'model_not_found' });
    }
    if (!mayUseModel(principal, modelGroup)) {
      throw new PermissionDeniedError(`This key is not allowed to use the model '${modelGroup}'.`, { param: 'model' });
    }

    const id = newBatchId();
    const createdAt = unixSeconds();
    // The router picks a deployment of the group (weighted, skipping cooled-down ones) and
    // moves on to another if starting fails there.
    const started = await router.send(
      modelGroup,
      async (client, attempt) => {
        const executor = this.#deps.executors.find((e) => e.handles(client.deployment, client));
        if (!executor) throw new GatewayError(500, `No way to run batches on deployment '${client.deployment.id}'.`, { type: 'server_error' });
        const result = await executor.start({ batchId: id, request, file, deployment: client.deployment, client, call: attempt });
        return { ...result, executor, deploymentId: client.deployment.id };
      },
      // Starting a batch is not a model request: it does not count against the deployment's rpm/tpm.
      { signal: call.signal, requestId: call.requestId, fallbacks: false, countAgainstLimits: false },
    );
    const record = newBatchRecord(id, principal, request, modelGroup, file.id, createdAt, started);
    try {
      await batches.insert(record);
    } catch (error) {
      if (started.providerBatchId) {
        await started.executor.cancel({ ...record, ...emptyGuarded } as BatchRecord, {}).catch(() => undefined);
      }
      throw error;
    }
    return toOpenAIBatch({ ...record, ...emptyGuarded } as BatchRecord);
  }

  async find(principal: Principal, id: string): Promise<BatchRecord> {
    if (!isBatchId(id)) throw batchNotFound(id);
    const batch = await this.#deps.batches.getById(id);
    if (!batch || !canAccess(principal, batch.owner)) throw batchNotFound(id);
    return batch;
  }

  async retrieve(principal: Principal, id: string): Promise<OpenAIBatch> {
    let batch = await this.find(principal, id);
    if (!TERMINAL_BATCH_STATUSES.has(batch.status) && (batch.lastSyncedAt ?? 0) <= nowSeconds() - this.#deps.refreshAfterSeconds) {
      batch = await this.#deps.sync.refreshIfFree(batch);
    }
    return toOpenAIBatch(batch);
  }

  async list(principal: Principal, query: BatchListQuery): Promise<OpenAIList<OpenAIBatch>> {
    if (query.after !== undefined && !isBatchId(query.after)) {
      return { object: 'list', data: [], first_id: null, last_id: null, has_more: false };
    }
    const page = await this.#deps.batches.list({
      owner: principal.isMaster ? undefined : principal.owner,
      after: query.after,
      limit: query.limit,
      modelGroups: query.modelGroups,
    });
    const data = page.rows.map(toOpenAIBatch);
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  }

  async cancel(principal: Principal, id: string, call: CallOptions = {}): Promise<OpenAIBatch> {
    const batch = await this.find(principal, id);
    if (TERMINAL_BATCH_STATUSES.has(batch.status)) {
      throw new ConflictError(`Cannot cancel a batch with status '${batch.status}'.`);
    }
    if (batch.status !== 'cancelling') {
      await this.#deps.sync.executorFor(batch).cancel(batch, call);
      const now = unixSeconds();
      const applied = await this.#deps.batches.update(
        batch.id,
        { status: 'cancelling', cancellingAt: now, nextSyncAt: nowSeconds() },
        { expectedStatus: ['validating', 'in_progress', 'finalizing'] },
      );
      if (!applied) {
        const current = await this.find(principal, id);
        if (TERMINAL_BATCH_STATUSES.has(current.status) && current.status !== 'cancelled') {
          throw new ConflictError(`Cannot cancel a batch with status '${current.status}'.`);
        }
        return toOpenAIBatch(current);
      }
    }
    return toOpenAIBatch(await this.find(principal, id));
  }
}

/** Guarded fields a fresh batch starts without (they are set by dedicated store methods). */
const emptyGuarded = { outputFileId: null, errorFileId: null, leaseOwner: null, leaseExpiresAt: null, cost: null, costRecordedAt: null };

function newBatchRecord(
  id: string,
  principal: Principal,
  request: ReturnType<typeof parseBatchCreateRequest>,
  modelGroup: string,
  inputFileId: string,
  createdAt: number,
  started: StartedBatch & { executor: BatchExecutor; deploymentId: string },
) {
  const progress = started.progress;
  const status = progress?.status ?? 'validating';
  const base = {
    id,
    owner: principal.owner,
    keyId: principal.keyId,
    endpoint: request.endpoint,
    completionWindow: request.completionWindow,
    modelGroup,
    deploymentId: started.deploymentId,
    execution: started.executor.execution,
    providerBatchId: started.providerBatchId,
    inputFileId,
    providerOutputFileId: null,
    providerErrorFileId: null,
    status: TERMINAL_BATCH_STATUSES.has(status) ? 'validating' : status,
    rawStatus: progress?.rawStatus ?? null,
    errors: null,
    metadata: request.metadata,
    outputExpiresAfterSeconds: request.outputExpiresAfterSeconds,
    requestTotal: progress?.requestCounts.total ?? 0,
    requestCompleted: progress?.requestCounts.completed ?? 0,
    requestFailed: progress?.requestCounts.failed ?? 0,
    usage: null,
    createdAt,
    inProgressAt: progress?.inProgressAt ?? null,
    expiresAt: createdAt + COMPLETION_WINDOW_SECONDS,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
    lastSyncedAt: nowSeconds(),
    syncFailures: 0,
  } as const;
  // A provider that already reports an end (a failed validation) is finalised by the first sync.
  const nextSyncAt = nowSeconds() + (TERMINAL_BATCH_STATUSES.has(status) ? 0 : nextSyncDelaySeconds({ createdAt, syncFailures: 0, execution: base.execution }));
  return { ...base, nextSyncAt };
}
