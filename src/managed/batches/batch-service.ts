/**
 * Gateway batches: create on a deployment of the file's model group (`batch-model.ts` picks it), retrieve (refreshing a
 * stale batch), list from the database, cancel. The database is the one source of truth;
 * providers are asked only to refresh it. Every route checks ownership; a foreign batch is a
 * 404 exactly like a missing one.
 */
import type { Logger } from '../../observability/logger.ts';
import type { DeploymentPreference } from '../../routing/deployment-preference.ts';
import type { Router } from '../../routing/router.ts';
import { preferEnqueuedTokenRoom } from '../../routing/strategies/enqueued-token-room.ts';
import { BatchStartUnconfirmedError, ConflictError, GatewayError, InvalidRequestError, NotFoundError, PermissionDeniedError } from '../../spec/errors.ts';
import { assertWithinBudgets } from '../../spec/budget-subjects.ts';
import { TERMINAL_BATCH_STATUSES, type OpenAIBatch, type OpenAIList } from '../../spec/openai-objects.ts';
import { canAccess, type Principal } from '../../spec/principal.ts';
import type { CallOptions } from '../../spec/provider.ts';
import type { BatchExecution, BatchRecord, BatchStore, NewBatch } from '../../storage/batch-store.ts';
import { nowSeconds, unixSeconds } from '../../storage/row-mapping.ts';
import type { FileService } from '../files/file-service.ts';
import { isBatchId, newBatchId } from '../ids.ts';
import type { BatchExecutor, BatchStartInput, StartedBatch } from './batch-executor.ts';
import { holdingIntent, INTENT_LEASE_MS, startedPatch } from './batch-intents.ts';
import { chooseBatchModelGroup } from './batch-model.ts';
import { batchExpiresAt, COMPLETION_WINDOW_SECONDS, parseBatchCreateRequest, type BatchCreateRequest, type BatchListQuery } from './batch-request.ts';
import { batchTokensOf, estimateBatchTokens, reservationCost, type BatchTokenEstimate } from './batch-reservation.ts';
import { readBatchInputLines } from '../jsonl/batch-input-lines.ts';
import type { HoldRequest, QuotaExceededPolicy } from '../../storage/batch-hold-store.ts';
import type { BatchSynchronizer } from './batch-sync.ts';
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
  /** What a batch reserves at create (`batch-reservation.ts`) and what an over-quota batch does. */
  reservations?: { estimatedOutputTokens: number; quotaExceeded: QuotaExceededPolicy };
  /**
   * The spend budgets a create is held to beyond the caller's `max_budget`: `model_max_budget` of
   * its key, user and team for the batch's model group, and the proxy's `max_budget` (throws over one).
   */
  checkSpendBudgets?: (principal: Principal, modelGroup: string) => Promise<void>;
}

const DEFAULT_RESERVATIONS = { estimatedOutputTokens: 1000, quotaExceeded: 'refuse' } as const;

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
    // A key, user or team over its budget starts no batch (spend as read with the key, as on live requests).
    assertWithinBudgets(principal);
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
    if (!router.mayUse(principal, modelGroup)) {
      throw new PermissionDeniedError(`This key is not allowed to use the model '${modelGroup}'.`, { param: 'model' });
    }
    await this.#deps.checkSpendBudgets?.(principal, modelGroup);
    const reservations = this.#deps.reservations ?? DEFAULT_RESERVATIONS;
    // Counted when the file was uploaded; files stored before that are counted now, from the store.
    const estimate = file.tokenEstimate !== null ? batchTokensOf(file.tokenEstimate, reservations.estimatedOutputTokens) : await this.#estimate(principal, file.id, reservations.estimatedOutputTokens, call);

    const id = newBatchId();
    const createdAt = unixSeconds();
    const owner = this.#deps.sync.newLeaseOwner();
    const prefer = await this.#quotaPreference(modelGroup, estimate.inputTokens);
    // The router picks a deployment of the group (weighted, skipping cooled-down ones, preferring
    // those with room in their enqueued-token quota) and moves on to another if starting fails
    // there (only when nothing was created).
    const started = await router.send(
      modelGroup,
      async (client, attempt) => {
        const executor = this.#deps.executors.find((e) => e.handles(client.deployment, client, file));
        if (!executor) throw new GatewayError(500, `No way to run batches on deployment '${client.deployment.id}'.`, { type: 'server_error' });
        const intent = newBatchRecord(id, principal, request, modelGroup, file.id, createdAt, client.deployment.id, executor.execution);
        const hold: HoldRequest = {
          batchId: id,
          keyId: principal.keyId,
          userId: principal.userId,
          teamId: principal.teamId,
          deploymentId: client.deployment.id,
          deploymentLabel: client.deployment.modelGroup,
          reservedCost: reservationCost(estimate, client.deployment.pricing),
          inputTokens: estimate.inputTokens,
          outputTokens: estimate.outputTokens,
          whenQuotaExceeded: reservations.quotaExceeded,
          ...(client.deployment.batchMaxEnqueuedTokens !== undefined && { maxEnqueuedTokens: client.deployment.batchMaxEnqueuedTokens }),
        };
        // The row first: a crash after the provider's create leaves a batch the reconciler finds.
        // Its reservation is placed with it, in its transaction (refused over a budget or quota).
        const held = await batches.insertIntent(intent, owner, INTENT_LEASE_MS, undefined, hold);
        // No room in the deployment's enqueued tokens: the batch waits, not started anywhere yet.
        if (held === 'waiting') return { waiting: true as const };
        const result = await holdingIntent(batches, id, owner, () =>
          this.#start(executor, intent, owner, { batchId: id, request, file, expiresAt: batchExpiresAt(intent), deployment: client.deployment, client, call: attempt }, call.signal),
        );
        return { ...result, waiting: false as const, executor, intent };
      },
      // Starting a batch is not a model request: it does not count against the deployment's rpm/tpm.
      { signal: call.signal, requestId: call.requestId, fallbacks: false, countAgainstLimits: false, ...(prefer !== undefined && { prefer }) },
    );
    if (started.waiting) {
      const waiting = await batches.getById(id);
      if (!waiting) throw new Error(`batch ${id} vanished after its create`);
      this.#deps.logger.info({ batch_id: id, deployment_id: waiting.deploymentId, input_tokens: estimate.inputTokens }, 'batch waits for room in its deployment\'s enqueued-token quota');
      return this.#view(waiting);
    }
    // Confirmed only while the input file is active: a file deleted during the create starts no batch.
    if (!(await batches.settleIntent(id, owner, startedPatch(started, started.intent), { requireActiveInput: true }))) {
      if (started.providerBatchId) {
        // Too late not to start it: cancel it, and keep the row so that it is followed to its end.
        const now = unixSeconds();
        await batches.settleIntent(id, owner, { ...startedPatch(started, started.intent), status: 'cancelling', cancellingAt: now, nextSyncAt: nowSeconds() }, { requireActiveInput: false });
        const current = await batches.getById(id);
        if (current) await started.executor.cancel({ ...current, providerBatchId: started.providerBatchId }, {}).catch(() => undefined);
      } else {
        await batches.dropIntent(id, owner);
      }
      throw new NotFoundError(`No such File object: ${file.id}`, { param: 'input_file_id' });
    }
    const stored = await batches.getById(id);
    if (!stored) throw new Error(`batch ${id} vanished after its create`);
    if (started.warnings !== undefined && started.warnings.length > 0) {
      this.#deps.logger.info({ batch_id: id, model_group: stored.modelGroup, translation_warnings: started.warnings }, 'batch lines changed for the provider');
    }
    // Due at once (an emulated batch loads its lines and starts; a failed start is finalised):
    // synced now rather than at the poller's next turn.
    if (stored.nextSyncAt !== null && stored.nextSyncAt <= nowSeconds()) this.#deps.sync.wantSync(id);
    return this.#view(stored);
  }

  /**
   * Starts a batch that waited for quota, now an intent leased to `owner`
   * (`BatchStore.startWaitingBatches`), on the deployment it was placed on. Its client already
   * has its id, so a create refused for good ends it as `failed` (its hold released) instead of
   * dropping it; one that may have happened is left to the reconciler, as a create's is.
   */
  async startWaiting(batch: BatchRecord, owner: string): Promise<void> {
    const { router, batches } = this.#deps;
    const request: BatchCreateRequest = {
      inputFileId: batch.inputFileId,
      endpoint: batch.endpoint,
      completionWindow: '24h',
      metadata: batch.metadata,
      outputExpiresAfterSeconds: batch.outputExpiresAfterSeconds,
      model: batch.modelGroup,
    };
    const executor = this.#deps.sync.executorFor(batch);
    try {
      if (batch.deploymentId === null) throw new GatewayError(500, 'The batch has no deployment to start on.', { type: 'server_error' });
      // The input file as the batch's owner sees it (a file deleted meanwhile starts nothing).
      const file = await this.#deps.files.find(ownerPrincipal(batch), batch.inputFileId);
      const started = await holdingIntent(batches, batch.id, owner, () =>
        router.sendTo(batch.deploymentId!, (client, attempt) => executor.start({ batchId: batch.id, request, file, expiresAt: batchExpiresAt(batch), deployment: client.deployment, client, call: attempt }), {}),
      );
      await batches.settleIntent(batch.id, owner, startedPatch(started, batch), { requireActiveInput: false });
      if (started.warnings !== undefined && started.warnings.length > 0) {
        this.#deps.logger.info({ batch_id: batch.id, translation_warnings: started.warnings }, 'batch lines changed for the provider');
      }
      this.#deps.sync.wantSync(batch.id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof BatchStartUnconfirmedError) {
        // Left to the reconciler once the lease runs out (it looks for the batch by its marker).
        this.#deps.logger.warn({ batch_id: batch.id, err: message }, 'a batch that waited for quota may not have started; left to the reconciler');
        return;
      }
      this.#deps.logger.warn({ batch_id: batch.id, err: message }, 'a batch that waited for quota could not be started');
      await batches.settleIntent(
        batch.id,
        owner,
        { status: 'failed', failedAt: unixSeconds(), nextSyncAt: null, errors: [{ code: error instanceof GatewayError && error.code !== null ? error.code : 'batch_not_started', message: message.slice(0, 500), param: null, line: null }] },
        { requireActiveInput: false, alongside: this.#deps.sync.terminalEvents(batch, 'failed') },
      );
    }
  }

  /**
   * Where a batch of `inputTokens` prefers to go in a group of several deployments with an
   * enqueued-token quota: those with room now (`routing/strategies/enqueued-token-room.ts`).
   * Undefined when the group has nothing to choose (one deployment, no quota).
   */
  async #quotaPreference(modelGroup: string, inputTokens: number): Promise<DeploymentPreference | undefined> {
    const deployments = this.#deps.router.deploymentsOf(modelGroup);
    const withQuota = deployments.filter((deployment) => deployment.batchMaxEnqueuedTokens !== undefined);
    if (deployments.length < 2 || withQuota.length === 0) return undefined;
    return preferEnqueuedTokenRoom(inputTokens, await this.#deps.batches.enqueuedTokensOf(withQuota.map((deployment) => deployment.id)));
  }

  /** The batch's tokens, counted from its input lines as they stream from the store. */
  async #estimate(principal: Principal, fileId: string, estimatedOutputTokens: number, call: CallOptions): Promise<BatchTokenEstimate> {
    const { stream } = await this.#deps.files.content(principal, fileId, call);
    try {
      return await estimateBatchTokens(readBatchInputLines(stream), estimatedOutputTokens);
    } finally {
      stream.destroy();
    }
  }

  /**
   * Starts the batch of a recorded intent. A create that certainly did not happen drops the
   * intent (the router may then try again, on this deployment or another). One that may have
   * happened (it timed out, the connection broke) is never created again: it is looked for by
   * its marker and adopted if found; if not (yet), the intent is left to the reconciler, which
   * settles it once its lease ran out (time for a late create to show), and the client gets a
   * 503 that is not retried.
   */
  async #start(executor: BatchExecutor, intent: BatchIntent, owner: string, input: BatchStartInput, clientSignal: AbortSignal | undefined): Promise<StartedBatch> {
    const { batches } = this.#deps;
    try {
      return await executor.start(input);
    } catch (error) {
      if (!(error instanceof BatchStartUnconfirmedError)) {
        await batches.dropIntent(intent.id, owner);
        throw error;
      }
      if (executor.findStarted && !clientSignal?.aborted) {
        const found = await executor.findStarted(intent, { signal: clientSignal }).catch(() => null);
        if (found) return found;
      }
      await batches.renewLease(intent.id, owner, INTENT_LEASE_MS);
      throw error;
    }
  }

  #view(batch: BatchRecord): OpenAIBatch {
    const provider = batch.deploymentId === null ? null : (this.#deps.router.deployment(batch.deploymentId)?.providerName ?? null);
    return toOpenAIBatch(batch, provider);
  }

  async find(principal: Principal, id: string): Promise<BatchRecord> {
    if (!isBatchId(id)) throw batchNotFound(id);
    const batch = await this.#deps.batches.getById(id);
    // A batch still being created is not there yet: its create has not answered.
    if (!batch || batch.creating || !canAccess(principal, batch.owner)) throw batchNotFound(id);
    return batch;
  }

  async retrieve(principal: Principal, id: string): Promise<OpenAIBatch> {
    let batch = await this.find(principal, id);
    if (!TERMINAL_BATCH_STATUSES.has(batch.status) && (batch.lastSyncedAt ?? 0) <= nowSeconds() - this.#deps.refreshAfterSeconds) {
      batch = await this.#deps.sync.refreshIfFree(batch);
    }
    return this.#view(batch);
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
    const data = page.rows.map((row) => this.#view(row));
    return { object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: page.hasMore };
  }

  async cancel(principal: Principal, id: string, call: CallOptions = {}): Promise<OpenAIBatch> {
    const batch = await this.find(principal, id);
    if (TERMINAL_BATCH_STATUSES.has(batch.status)) {
      throw new ConflictError(`Cannot cancel a batch with status '${batch.status}'.`);
    }
    if (batch.status !== 'cancelling') {
      // A batch waiting for quota exists nowhere else: its sync ends it as cancelled.
      if (!batch.waitingForQuota) await this.#deps.sync.executorFor(batch).cancel(batch, call);
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
        return this.#view(current);
      }
      if (batch.waitingForQuota) this.#deps.sync.wantSync(batch.id);
    }
    return this.#view(await this.find(principal, id));
  }
}

/** Who owns `batch`, as a principal that sees only what the batch's owner sees. */
function ownerPrincipal(batch: BatchRecord): Principal {
  return { keyId: batch.keyId, isMaster: false, owner: batch.owner, allowedModels: null, userId: null, teamId: null };
}

/** The row of a batch about to be created on a deployment: its intent, before any provider state. */
type BatchIntent = NewBatch & Pick<BatchRecord, 'deploymentId' | 'metadata'>;


function newBatchRecord(
  id: string,
  principal: Principal,
  request: ReturnType<typeof parseBatchCreateRequest>,
  modelGroup: string,
  inputFileId: string,
  createdAt: number,
  deploymentId: string,
  execution: BatchExecution,
): BatchIntent {
  return {
    id,
    owner: principal.owner,
    keyId: principal.keyId,
    endpoint: request.endpoint,
    completionWindow: request.completionWindow,
    modelGroup,
    deploymentId,
    execution,
    providerBatchId: null,
    inputFileId,
    providerOutputFileId: null,
    providerErrorFileId: null,
    status: 'validating',
    rawStatus: null,
    errors: null,
    metadata: request.metadata,
    outputExpiresAfterSeconds: request.outputExpiresAfterSeconds,
    requestTotal: 0,
    requestCompleted: 0,
    requestFailed: 0,
    usage: null,
    createdAt,
    inProgressAt: null,
    expiresAt: createdAt + COMPLETION_WINDOW_SECONDS,
    finalizingAt: null,
    completedAt: null,
    failedAt: null,
    expiredAt: null,
    cancellingAt: null,
    cancelledAt: null,
    lastSyncedAt: null,
    syncFailures: 0,
  };
}
