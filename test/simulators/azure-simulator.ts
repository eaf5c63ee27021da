/**
 * Simulator of an Azure OpenAI resource (`https://{resource}.openai.azure.com`) for Portico's
 * tests: a REMOTE service double, faithful to Azure's public specs and docs (WIRE.md §2; examples
 * in docs/specs/azure/), not to Portico.
 *
 * ```ts
 * const sim = await startAzureSimulator({ deployments: ['gpt-4o-batch'] });
 * // sim.url = http://127.0.0.1:PORT (the resource endpoint; clients append /openai/...)
 * await fetch(`${sim.url}/openai/files?api-version=2024-10-21`, { headers: { 'api-key': AZURE_SIMULATOR_API_KEY } });
 * ```
 *
 * Exports: `startAzureSimulator(options?)`, `AZURE_SIMULATOR_API_KEY`, types `AzureSimulator`,
 * `AzureSimulatorOptions`, `AzureFileProcessing`, and re-exported `SimulatorRequestLog`,
 * `FailNextOptions`, `BaseSimulator`, `SimulatedFile`, `SimulatedBatch`.
 *
 * Auth: `api-key: <key>` (also accepted: `Authorization: Bearer <key>`, as the v1 surface takes from
 * the stock OpenAI SDK). Wrong/missing key -> 401 `{"error":{"code":"401","message":"Access denied ..."}}`.
 *
 * Classic surface (`api-version` query REQUIRED, else 404 `{"error":{"code":"404","message":"Resource not found"}}`):
 *   POST /openai/deployments/{deployment}/chat/completions | /embeddings | /completions
 *   POST /openai/deployments/{deployment}/images/generations | /audio/speech | /audio/transcriptions
 *     | /audio/translations  (the deployment name is the model; fake audio model: openai/audio.ts)
 *   POST /openai/responses;  /openai/files...;  /openai/batches...
 * v1 surface (no api-version needed): POST /openai/v1/chat/completions | /embeddings | /responses,
 *   GET /openai/v1/models, /openai/v1/files..., /openai/v1/batches...  (`model` = deployment name)
 *
 * Quirks reproduced: chat answers carry `content_filter_results` / `prompt_filter_results`; an
 * unknown deployment is 404 `DeploymentNotFound`; classic uploads start `pending`, then `running`,
 * then `processed` (see `fileProcessing`), and a batch cannot be created on a file that is not
 * `processed` yet (400); uploads answer 201 + `Location` on preview api-versions (200 otherwise);
 * upload ids `file-` + 32 hex, output files `file-` + UUID; the classic file list is `{data, object}`;
 * errors use Azure's envelope (classic `{error:{code,message}}`, v1 adds `param`/`type`). Batches: see
 * azure/batch-flavor.ts (ids `batch_<uuid>`, create answers `endpoint: ""` and `""` file ids while
 * validating, `endpoint` without `/v1` on reads, one existing deployment per file, 0-byte error
 * file on success, output lines without `id`), 201 on preview api-versions.
 *
 * The model is the same deterministic echo as the OpenAI simulator (`FAIL` / `FAIL:<status>` user
 * texts fail a request; see common/fake-model.ts).
 */
import { bearerToken, startSimulatorServer } from './common/simulator-server.ts';
import type { BaseSimulator, SimReply, SimRequest, SimRoute } from './common/simulator-server.ts';
import { randomHex, uuid } from './common/ids.ts';
import { FileStore } from './openai/file-store.ts';
import type { SimulatedFile } from './openai/file-store.ts';
import { BatchEngine } from './openai/batch-engine.ts';
import type { SimulatedBatch } from './openai/batch-engine.ts';
import type { InferenceContext } from './openai/chat.ts';
import { chatReply, completionsReply, embeddingsReply, imageGenerationsReply, modelsReply } from './openai/inference-replies.ts';
import { StoredResponses } from './openai/stored-responses.ts';
import { speechReply, transcriptionsReply, translationsReply } from './openai/audio.ts';
import { azureContentFilters } from './azure/content-filter.ts';
import { azureBatchFlavor } from './azure/batch-flavor.ts';
import { azureDataPlaneRoutes, stepFileProcessing } from './azure/surfaces.ts';
import type { AzureFileProcessing } from './azure/surfaces.ts';
import { ACCESS_DENIED, DEPLOYMENT_NOT_FOUND_BODY, RESOURCE_NOT_FOUND, defaultAzureFailureBody } from './azure/errors.ts';

export type { BaseSimulator, FailNextOptions, SimulatorRequestLog } from './common/simulator-server.ts';
export type { SimulatedFile } from './openai/file-store.ts';
export type { SimulatedBatch } from './openai/batch-engine.ts';
export type { AzureFileProcessing } from './azure/surfaces.ts';

export const AZURE_SIMULATOR_API_KEY = 'azure-simulator-test-key-0000000000';

export interface AzureSimulatorOptions {
  /** Expected `api-key`; default `AZURE_SIMULATOR_API_KEY`. */
  apiKey?: string;
  batchStepMs?: number;
  port?: number;
  /** Deployment names that exist; default: any name is a deployment. */
  deployments?: string[];
  /**
   * How classic uploads go pending -> running -> processed: one step per retrieve of the file or
   * per `advanceBatches()` ('retrieve_or_advance', default), only per `advanceBatches()`
   * ('advance'), or processed at once ('immediate'). v1 uploads are processed at once.
   */
  fileProcessing?: AzureFileProcessing;
  maxBatchFileBytes?: number;
}

export interface AzureSimulator extends BaseSimulator {
  /** `http://127.0.0.1:PORT`, the resource endpoint. */
  url: string;
  files: Map<string, SimulatedFile>;
  /** Internal batch records (OpenAI shape); HTTP answers add Azure's rendering quirks. */
  batches: Map<string, SimulatedBatch>;
  expireBatch(id: string): void;
}

const API_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

export async function startAzureSimulator(options: AzureSimulatorOptions = {}): Promise<AzureSimulator> {
  const apiKey = options.apiKey ?? AZURE_SIMULATOR_API_KEY;
  const deployments = options.deployments ? new Set(options.deployments) : null;
  const deploymentExists = (name: string) => !deployments || deployments.has(name);
  const store = new FileStore();
  const ctx: InferenceContext = {
    modelError: (model) => (deploymentExists(model) ? null : { status: 404, body: DEPLOYMENT_NOT_FOUND_BODY }),
  };
  const engine = new BatchEngine(store, azureBatchFlavor(deploymentExists, ctx));
  const deps = {
    store,
    engine,
    newUploadId: () => `file-${randomHex(32)}`,
    fileProcessing: options.fileProcessing ?? 'retrieve_or_advance',
    maxBatchFileBytes: options.maxBatchFileBytes ?? 200 * 1024 * 1024,
  };

  /** Classic inference routes name the deployment in the path. */
  const onDeployment =
    (reply: (req: SimRequest, deployment: string) => SimReply) =>
    (req: SimRequest, [deployment]: string[]): SimReply =>
      deploymentExists(deployment) ? reply(req, deployment) : { status: 404, json: DEPLOYMENT_NOT_FOUND_BODY };

  const routes: SimRoute[] = [
    {
      method: 'POST',
      path: /^\/openai\/deployments\/([^/]+)\/chat\/completions$/,
      handle: onDeployment((req, d) => chatReply(req, ctx, azureContentFilters, { model: d })),
    },
    { method: 'POST', path: /^\/openai\/deployments\/([^/]+)\/embeddings$/, handle: onDeployment((req, d) => embeddingsReply(req, ctx, { model: d })) },
    { method: 'POST', path: /^\/openai\/deployments\/([^/]+)\/completions$/, handle: onDeployment((req, d) => completionsReply(req, ctx, { model: d })) },
    { method: 'POST', path: /^\/openai\/deployments\/([^/]+)\/images\/generations$/, handle: onDeployment((req, d) => imageGenerationsReply(req, ctx, { model: d })) },
    { method: 'POST', path: /^\/openai\/deployments\/([^/]+)\/audio\/speech$/, handle: onDeployment((req, d) => speechReply(req, ctx, { model: d })) },
    { method: 'POST', path: /^\/openai\/deployments\/([^/]+)\/audio\/transcriptions$/, handle: onDeployment((req, d) => transcriptionsReply(req, ctx, { model: d })) },
    { method: 'POST', path: /^\/openai\/deployments\/([^/]+)\/audio\/translations$/, handle: onDeployment((req, d) => translationsReply(req, ctx, { model: d })) },
    ...new StoredResponses(ctx).routes('/openai(?:/v1)?'),
    { method: 'POST', path: /^\/openai\/v1\/chat\/completions$/, handle: (req) => chatReply(req, ctx, azureContentFilters) },
    { method: 'POST', path: /^\/openai\/v1\/embeddings$/, handle: (req) => embeddingsReply(req, ctx) },
    { method: 'GET', path: /^\/openai\/v1\/models$/, handle: () => modelsReply(options.deployments ?? ['gpt-4o-mini'], 'system') },
    ...azureDataPlaneRoutes('v1', deps),
    ...azureDataPlaneRoutes('classic', deps),
  ];

  const server = await startSimulatorServer({
    port: options.port,
    routes,
    notFound: () => RESOURCE_NOT_FOUND,
    authenticate: (req) => {
      if (req.headers['api-key'] !== apiKey && bearerToken(req) !== apiKey) return ACCESS_DENIED;
      const classic = req.path.startsWith('/openai/') && !req.path.startsWith('/openai/v1/');
      if (classic && !API_VERSION.test(req.query['api-version'] ?? '')) return RESOURCE_NOT_FOUND;
      return null;
    },
    failureBody: defaultAzureFailureBody,
    responseHeaders: () => {
      const id = uuid();
      return { 'apim-request-id': id, 'x-request-id': id, 'x-ms-region': 'Simulated Region' };
    },
  });

  const advance = () => {
    if (deps.fileProcessing !== 'immediate') for (const f of store.files.values()) stepFileProcessing(f);
    engine.advance();
  };
  const timer = options.batchStepMs ? setInterval(advance, options.batchStepMs) : null;
  timer?.unref();

  return {
    url: server.origin,
    requests: server.requests,
    files: store.files,
    batches: engine.batches,
    failNext: server.failNext,
    slowNext: server.slowNext,
    setLatency: server.setLatency,
    async advanceBatches() {
      advance();
    },
    expireBatch: (id) => engine.expire(id),
    async close() {
      if (timer) clearInterval(timer);
      await server.close();
    },
  };
}
