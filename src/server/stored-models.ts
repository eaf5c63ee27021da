/**
 * Models added, changed and deleted through the API (LiteLLM's `store_model_in_db`): kept in the
 * database (`storage/stored-model-store.ts`), served beside `model_list` by every instance and
 * worker. Each stored model is read exactly as the same entry in the config file's `model_list`
 * would be, under the file's other settings (`entriesUnderConfig`), so what the file refuses the
 * API refuses, with the same words.
 *
 * Every instance loads the stored models at start, and again when they change: at once on the
 * instance that changed them, on the others when Redis tells them (`models:changed`; workers
 * without Redis are told by their primary process), and in any case within `pollMs` (a
 * count-and-last-change query). The database is the truth; the notice only
 * hurries it.
 */
import { randomUUID } from 'node:crypto';
import { entriesUnderConfig } from '../config/load-config.ts';
import { addSecrets } from '../config/secret-redactor.ts';
import type { PorticoConfig } from '../config/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Router } from '../routing/router.ts';
import { ConfigError, ConflictError, InvalidRequestError, NotFoundError } from '../spec/errors.ts';
import type { NoticeChannel } from '../spec/notice-channel.ts';
import type { Deployment } from '../spec/provider.ts';
import type { StoredModelRecord, StoredModelStore } from '../storage/stored-model-store.ts';

export const DEFAULT_STORED_MODELS_POLL_MS = 10_000;

/** What answers show in place of a secret param; sent back in an update, it means "unchanged". */
export const MASKED_SECRET = '********';

/** Ids a client may choose (`model_info.id`): no `~` (derived deployments' separator), no spaces or slashes. */
const CHOSEN_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;

/** A model as `/model/new` takes it (LiteLLM's `Deployment`). */
export interface ModelEntryInput {
  model_name: string;
  litellm_params: Record<string, unknown>;
  model_info?: Record<string, unknown>;
}

export interface StoredModelsOptions {
  config: PorticoConfig;
  store: StoredModelStore;
  router: Router;
  logger: Logger;
  /** Redis's `models:changed`, when there is Redis. */
  notices?: NoticeChannel;
  pollMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** The entry of `model_list` a stored model is: its id as `model_info.id`. */
function entryOf(record: Pick<StoredModelRecord, 'modelId' | 'modelName' | 'litellmParams' | 'modelInfo'>): ModelEntryInput {
  return { model_name: record.modelName, litellm_params: record.litellmParams, model_info: { ...record.modelInfo, id: record.modelId } };
}

export class StoredModels {
  readonly #config: PorticoConfig;
  readonly #store: StoredModelStore;
  readonly #router: Router;
  readonly #logger: Logger;
  readonly #notices: NoticeChannel | undefined;
  readonly #pollMs: number;
  readonly #env: NodeJS.ProcessEnv;
  #fingerprint: string | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Reloads one at a time; a change while one runs asks for one more. */
  #loading: Promise<void> | undefined;
  #again = false;
  #storedIds: ReadonlySet<string> = new Set();

  constructor(options: StoredModelsOptions) {
    this.#config = options.config;
    this.#store = options.store;
    this.#router = options.router;
    this.#logger = options.logger;
    this.#notices = options.notices;
    this.#pollMs = options.pollMs ?? DEFAULT_STORED_MODELS_POLL_MS;
    this.#env = options.env ?? process.env;
  }

  /** Loads the stored models and starts watching for changes (a timer that keeps no process alive). */
  async start(): Promise<void> {
    await this.reload();
    // A notice only hurries the poll: the instance that changed the models (which hears its own
    // notice too) has them loaded already, and its fingerprint check costs one count query.
    this.#notices?.subscribe(() => void this.#poll());
    this.#timer = setInterval(() => void this.#poll(), this.#pollMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Whether `deploymentId` is a stored model's (`/model/info`'s `db_model`). */
  isStored(deploymentId: string): boolean {
    return this.#storedIds.has(deploymentId);
  }

  /** Re-reads every stored model and serves them; resolves once what was asked before it is served. */
  reload(): Promise<void> {
    if (this.#loading !== undefined) {
      this.#again = true;
      return this.#loading;
    }
    this.#loading = (async () => {
      try {
        do {
          this.#again = false;
          await this.#load();
        } while (this.#again);
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }

  async add(input: ModelEntryInput, createdBy: string | null): Promise<{ record: StoredModelRecord; warnings: readonly string[] }> {
    const chosen = input.model_info?.id;
    if (chosen != null && chosen !== '' && (typeof chosen !== 'string' || !CHOSEN_ID.test(chosen))) {
      throw new InvalidRequestError('model_info.id: at most 128 letters, digits and . _ : @ -, starting with a letter or digit.', { param: 'model_info.id', code: 'invalid_model' });
    }
    const modelId = typeof chosen === 'string' && chosen !== '' ? chosen : randomUUID();
    if (this.#router.deployment(modelId) !== undefined) throw new ConflictError(`A model with id ${modelId} already exists.`, { param: 'model_info.id', code: 'model_exists' });
    const modelInfo = { ...input.model_info };
    delete modelInfo.id;
    const candidate = { modelId, modelName: input.model_name, litellmParams: input.litellm_params, modelInfo };
    const warnings = this.#check(candidate);
    const record = await this.#store.insert({ ...candidate, createdBy });
    if (record === undefined) throw new ConflictError(`A model with id ${modelId} already exists.`, { param: 'model_info.id', code: 'model_exists' });
    await this.#changed();
    return { record, warnings };
  }

  /** LiteLLM's update: a given name replaces, given params and info are merged into the stored ones. */
  async update(modelId: string, patch: Partial<ModelEntryInput>): Promise<{ record: StoredModelRecord; warnings: readonly string[] }> {
    const current = await this.#stored(modelId);
    const modelInfo = { ...current.modelInfo, ...patch.model_info };
    delete modelInfo.id;
    // A masked secret sent back as it was shown (a form filled from an answer) keeps the stored one.
    const changedParams = Object.fromEntries(Object.entries(patch.litellm_params ?? {}).filter(([, value]) => value !== MASKED_SECRET));
    const next = {
      modelId,
      modelName: patch.model_name ?? current.modelName,
      litellmParams: { ...current.litellmParams, ...changedParams },
      modelInfo,
    };
    const warnings = this.#check(next);
    const record = await this.#store.replace(modelId, next);
    if (record === undefined) throw this.#notFound(modelId);
    await this.#changed();
    return { record, warnings };
  }

  async remove(modelId: string): Promise<void> {
    await this.#stored(modelId);
    if (!(await this.#store.delete(modelId))) throw this.#notFound(modelId);
    await this.#changed();
  }

  /** The stored model `modelId`; a config file's model or an unknown id is the caller's error. */
  async #stored(modelId: string): Promise<StoredModelRecord> {
    const record = await this.#store.find(modelId);
    if (record !== undefined) return record;
    if (this.#config.deployments.some((deployment) => deployment.id === modelId)) {
      throw new InvalidRequestError(`Model ${modelId} is defined in the config file: change it there.`, { param: 'id', code: 'model_in_config_file' });
    }
    throw this.#notFound(modelId);
  }

  #notFound(modelId: string): NotFoundError {
    return new NotFoundError(`Model with id=${modelId.slice(0, 256)} not found in db`, { param: 'id', code: 'model_not_found' });
  }

  /** The entry as the config file would read it: a ConfigError is the client's 400, in the file's words. */
  #check(record: Pick<StoredModelRecord, 'modelId' | 'modelName' | 'litellmParams' | 'modelInfo'>): readonly string[] {
    try {
      const { deployments, warnings } = entriesUnderConfig(this.#config, [entryOf(record)], this.#env);
      if (deployments.length === 0) throw new ConfigError(warnings.join('\n') || 'the model cannot be served');
      return warnings.map((warning) => warning.replace(/^model_list\[0\]\./, ''));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      // In the file's words, less what only a file has (its one entry's path, the count of entries).
      const message = error.message.replace(/^model_list: Portico can serve none of its 1 entries:\n\s*/, '').replace(/model_list\[0\]\./g, '');
      throw new InvalidRequestError(message, { code: 'invalid_model' });
    }
  }

  async #changed(): Promise<void> {
    await this.reload();
    await this.#notices?.publish(['changed']);
  }

  async #poll(): Promise<void> {
    try {
      if ((await this.#store.fingerprint()) !== this.#fingerprint) await this.reload();
    } catch (error) {
      this.#logger.warn({ err: error }, 'stored models: checking for changes failed; serving the models loaded before');
    }
  }

  async #load(): Promise<void> {
    const fingerprint = await this.#store.fingerprint();
    const { models, unreadable } = await this.#store.all();
    for (const model of unreadable) this.#logger.error({ model_id: model.modelId, model_name: model.modelName }, `stored models: ${model.reason}; not served`);
    const deployments: Deployment[] = [];
    for (const model of models) {
      // One by one: a model that no longer loads (a variable it names was unset) is left out alone.
      try {
        deployments.push(...entriesUnderConfig(this.#config, [entryOf(model)], this.#env).deployments);
      } catch (error) {
        this.#logger.error({ model_id: model.modelId, model_name: model.modelName, err: error }, 'stored models: the model no longer loads; not served');
      }
    }
    // Their keys are redacted from upstream text as the config's are (before any call uses them).
    addSecrets(this.#config, deployments.map((deployment) => deployment.apiKey));
    this.#router.setStoredDeployments(deployments);
    this.#storedIds = new Set(deployments.map((deployment) => deployment.id));
    this.#fingerprint = fingerprint;
  }
}
