/**
 * Shared set-up for the managed Files/Batches scenarios: an OpenAI and an Azure OpenAI simulator,
 * a gateway config with one group on each, a group spread over both (for `target_model_names`),
 * and helpers to write JSONL and drive a batch to its end.
 */
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import type { SqlDialectName } from '../../../src/storage/database.ts';
import { startPortico, type PorticoUnderTest, type PorticoWithStorage } from '../../helpers/portico.ts';
import { AZURE_SIMULATOR_API_KEY } from '../../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY } from '../../simulators/openai-simulator.ts';
import { startUpstreams, type Upstreams } from '../fixtures.ts';

export const MASTER_KEY = 'sk-managed-master-key-0123456789';
export const AZURE_DEPLOYMENT = 'gpt-4o-batch';

export type ManagedUpstreams = Upstreams;

export const startManagedUpstreams = (): Promise<ManagedUpstreams> => startUpstreams(AZURE_DEPLOYMENT);

/** One gateway in front of both simulators, for a suite's `before`/`after`. */
export interface ManagedGateway {
  upstreams: ManagedUpstreams;
  portico: PorticoUnderTest;
  client: OpenAI;
  close(): Promise<void>;
}

/**
 * Where a gateway keeps file bytes: by default, on PostgreSQL in the database too (the blob store
 * instances share), on SQLite in a directory, so every scenario runs on both stores. An object
 * store is given as its `blob_store` name and its section (`objectStoreFiles` in
 * test/helpers/object-storage.ts).
 */
export interface BlobStoreChoice {
  blobStore: 'directory' | 'database' | 's3' | 'azure_blob';
  /** YAML lines added to `portico_settings.files` (indented by 4). */
  filesYaml?: string;
}

export async function startManagedGateway(dialect: SqlDialectName, batchFileExpirySeconds?: number, store?: BlobStoreChoice): Promise<ManagedGateway> {
  const upstreams = await startManagedUpstreams();
  try {
    const choice = store ?? { blobStore: dialect === 'postgres' ? 'database' : 'directory' };
    const portico = await startPortico(await managedConfig(upstreams, undefined, batchFileExpirySeconds, choice.blobStore, choice.filesYaml), { dialect, env: MANAGED_ENV });
    return {
      upstreams,
      portico,
      client: portico.client(),
      close: async () => {
        await portico.close();
        await upstreams.close();
      },
    };
  } catch (error) {
    await upstreams.close();
    throw error;
  }
}

export const MANAGED_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  MANAGED_OPENAI_KEY: OPENAI_SIMULATOR_API_KEY,
  MANAGED_AZURE_KEY: AZURE_SIMULATOR_API_KEY,
};

/**
 * The upload suites' gateway: one mock model (`gpt-4o-mini`) and files on `blobStore`;
 * `filesYaml` adds `portico_settings.files` lines (indented by 4).
 */
export function mockFilesConfig(masterKey: string, blobStore: BlobStoreChoice['blobStore'], storageDir: string, filesYaml = ''): string {
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: mock/gpt-4o-mini }
general_settings:
  master_key: ${masterKey}
portico_settings:
  files:
    blob_store: ${blobStore}
    storage_dir: ${storageDir}
${filesYaml}`;
}

/** Files registered, and blobs stored (the directory's entries, or the database store's rows). */
export async function storedFilesAndBlobs(portico: PorticoWithStorage): Promise<{ files: number; blobs: number }> {
  const { kysely } = portico.services.database;
  const files = (await kysely.selectFrom('files').select('id').execute()).length;
  const blobs =
    portico.config.files.blobStore === 'database'
      ? (await kysely.selectFrom('blobs').select('key').execute()).length
      : (await readdir(portico.storageDir).catch(() => [])).length;
  return { files, blobs };
}

export async function managedConfig(
  upstreams: ManagedUpstreams,
  storageDir?: string,
  batchFileExpirySeconds = 2_592_000,
  blobStore: BlobStoreChoice['blobStore'] = 'directory',
  filesYaml = '',
): Promise<string> {
  const dir = storageDir ?? (await mkdtemp(join(tmpdir(), 'portico-files-')));
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: ${upstreams.openai.url}
      api_key: os.environ/MANAGED_OPENAI_KEY
    model_info:
      id: openai-mini
      input_cost_per_token: 0.000002
      output_cost_per_token: 0.000008
  - model_name: azure-gpt-4o
    litellm_params:
      model: azure/${AZURE_DEPLOYMENT}
      api_base: ${upstreams.azure.url}
      api_key: os.environ/MANAGED_AZURE_KEY
      api_version: "2024-10-21"
    model_info:
      id: azure-batch
      input_cost_per_token_batches: 0.000001
      output_cost_per_token_batches: 0.000004
  - model_name: gpt-4o-everywhere
    litellm_params:
      model: openai/gpt-4o
      api_base: ${upstreams.openai.url}
      api_key: os.environ/MANAGED_OPENAI_KEY
    model_info: { id: everywhere-openai }
  - model_name: gpt-4o-everywhere
    litellm_params:
      model: azure/${AZURE_DEPLOYMENT}
      api_base: ${upstreams.azure.url}
      api_key: os.environ/MANAGED_AZURE_KEY
      api_version: "2024-10-21"
    model_info: { id: everywhere-azure }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 1
  timeout: 30
portico_settings:
  files:
    blob_store: ${blobStore}
    storage_dir: ${dir}
${filesYaml}    delete_retry_base_seconds: 0.05
    batch_file_default_expiry_seconds: ${batchFileExpirySeconds}
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 200
`;
}

export interface LineOptions {
  count?: number;
  url?: string;
  /** Text of line i (the simulators answer `FAIL` with an error). */
  text?: (index: number) => string;
  prefix?: string;
}

export function chatLines(model: string, options: LineOptions = {}): string {
  const count = options.count ?? 3;
  const lines: string[] = [];
  for (let i = 0; i < count; i += 1) {
    lines.push(
      JSON.stringify({
        custom_id: `${options.prefix ?? 'request'}-${i}`,
        method: 'POST',
        url: options.url ?? '/v1/chat/completions',
        body: { model, messages: [{ role: 'user', content: options.text?.(i) ?? `question ${i}` }], max_tokens: 20 },
      }),
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function uploadBatchFile(client: OpenAI, jsonl: string, extra: Record<string, string> = {}, filename = 'input.jsonl') {
  return client.files.create({ file: await toFile(Buffer.from(jsonl), filename), purpose: 'batch', ...extra } as Parameters<OpenAI['files']['create']>[0]);
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** Advances the simulators and retrieves through Portico until the batch ends. */
export async function runToEnd(client: OpenAI, upstreams: ManagedUpstreams, batchId: string, maxSteps = 12): Promise<OpenAI.Batches.Batch> {
  let batch = await client.batches.retrieve(batchId);
  // After `maxSteps` quick looks, keep looking (paced) for a while: on a loaded machine the steps
  // can all fall inside one sync that holds the batch's lease.
  const lookUntil = Date.now() + 20_000;
  for (let step = 0; (step < maxSteps || Date.now() < lookUntil) && !TERMINAL.has(batch.status); step += 1) {
    if (step >= maxSteps) await new Promise((resolve) => setTimeout(resolve, 50));
    await upstreams.openai.advanceBatches();
    await upstreams.azure.advanceBatches();
    batch = await client.batches.retrieve(batchId);
  }
  return batch;
}

/**
 * Lets the reconciler settle the interrupted creates of batches on `inputFileId` (whose leases
 * the test ran out) and waits until none is still being created. The instance's own reconciler
 * may take an intent first: `runOnce` then skips it while the other finishes, so waiting on the
 * row, not on `runOnce`, is what makes the outcome visible.
 */
export async function reconcileIntentsOf(portico: Pick<PorticoUnderTest, 'jobs' | 'services'>, inputFileId: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    await portico.jobs.reconciler.runOnce();
    const creating = await portico.services.database.kysely
      .selectFrom('batches')
      .select('id')
      .where('input_file_id', '=', inputFileId)
      .where('creating', '=', 1)
      .execute();
    if (creating.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the interrupted creates on ${inputFileId} were not settled within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function readContent(client: OpenAI, fileId: string): Promise<string> {
  const response = await client.files.content(fileId);
  return response.text();
}

export function parseJsonl(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

export const GATEWAY_FILE_ID = /^file-[A-Za-z0-9]{24}$/;
export const GATEWAY_BATCH_ID = /^batch_[A-Za-z0-9]{24}$/;

export function isEnvelope(body: unknown): boolean {
  const error = (body as { error?: Record<string, unknown> }).error;
  return !!error && typeof error.message === 'string' && typeof error.type === 'string' && 'param' in error && 'code' in error;
}

export async function expectStatus(promise: Promise<unknown>, status: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof OpenAI.APIError, `expected an APIError, got ${String(error)}`);
    assert.equal(error.status, status, `expected ${status}, got ${error.status}: ${error.message}`);
    return true;
  });
}
