/**
 * Azure OpenAI as an `OpenAIApiConfig`: the OpenAI client with Azure's URLs, `api-version`,
 * `api-key` header, error envelope and object quirks (WIRE.md §2).
 */
import { z } from 'zod';
import { CapabilityUnsupportedError } from '../../spec/errors.ts';
import type { Deployment } from '../../spec/provider.ts';
import { extraHeadersSetting } from '../http/header-settings.ts';
import { type OpenAIApiConfig, type OpenAIOperation, pathId } from '../openai/api-config.ts';
import { azureBatchEndpoint, normalizeAzureBatch, normalizeAzureFile } from './azure-objects.ts';
import { parseAzureError } from './azure-errors.ts';
import { DEFAULT_FILE_WAIT, type FileWaitSchedule, waitUntilFileProcessed } from './wait-for-file.ts';

/** First GA version with Files and Batches (WIRE.md §2.1). */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

/** What an `azure/` deployment reads of its `litellm_params` (`Provider.settings`). */
export const azureSettingsSchema = z
  .object({
    /** An Entra ID token, sent as a bearer when there is no `api_key`. */
    azure_ad_token: z.string().optional(),
    extra_headers: extraHeadersSetting,
  })
  .transform((params) => ({ adToken: params.azure_ad_token === '' ? undefined : params.azure_ad_token, extraHeaders: params.extra_headers }));

export type AzureSettings = z.output<typeof azureSettingsSchema>;

export interface AzureConfigOptions {
  /** How long to wait for an input file to be processed before a batch create. */
  fileWait?: FileWaitSchedule;
}

/** The resource root: `https://{resource}.openai.azure.com`, tolerating a trailing `/` or `/openai`. */
export function azureResourceRoot(apiBase: string): string {
  return apiBase.replace(/\/+$/, '').replace(/\/openai$/, '');
}

/**
 * Classic data-plane paths (WIRE.md §2.1): inference under `/openai/deployments/{deployment}`,
 * files and batches under `/openai/files` and `/openai/batches`; all with `?api-version=`.
 */
export function azurePath(operation: OpenAIOperation, deploymentName: string): string {
  const deployment = `/openai/deployments/${pathId(deploymentName)}`;
  switch (operation.kind) {
    case 'chat':
      return `${deployment}/chat/completions`;
    case 'completions':
      return `${deployment}/completions`;
    case 'embeddings':
      return `${deployment}/embeddings`;
    case 'responses':
      // The Responses API is resource-level; the deployment is named by `model` in the body.
      return '/openai/responses';
    case 'response':
      return `/openai/responses/${pathId(operation.responseId)}`;
    case 'responseInputItems':
      return `/openai/responses/${pathId(operation.responseId)}/input_items`;
    case 'responseCancel':
      return `/openai/responses/${pathId(operation.responseId)}/cancel`;
    case 'imageGenerations':
      return `${deployment}/images/generations`;
    case 'audioSpeech':
      return `${deployment}/audio/speech`;
    case 'audioTranscriptions':
      return `${deployment}/audio/transcriptions`;
    case 'audioTranslations':
      return `${deployment}/audio/translations`;
    case 'rerank':
      // Azure OpenAI has no rerank: its client has no `rerank` method, so nothing asks this.
      throw new CapabilityUnsupportedError('Azure OpenAI has no rerank endpoint.');
    case 'moderations':
      // Nor a moderation API (its content filters run on every call): no `moderations` method.
      throw new CapabilityUnsupportedError('Azure OpenAI has no moderations endpoint.');
    case 'files':
    case 'fileUpload':
      return '/openai/files';
    case 'file':
      return `/openai/files/${pathId(operation.fileId)}`;
    case 'fileContent':
      return `/openai/files/${pathId(operation.fileId)}/content`;
    case 'batches':
      return '/openai/batches';
    case 'batch':
      return `/openai/batches/${pathId(operation.batchId)}`;
    case 'batchCancel':
      return `/openai/batches/${pathId(operation.batchId)}/cancel`;
  }
}

export function azureApiConfig(deployment: Deployment, settings: AzureSettings, options: AzureConfigOptions = {}): OpenAIApiConfig {
  const root = azureResourceRoot(deployment.apiBase ?? '');
  const apiVersion = encodeURIComponent(deployment.apiVersion ?? AZURE_DEFAULT_API_VERSION);
  const deploymentName = deployment.upstreamModel;
  const headers: Record<string, string> = { ...settings.extraHeaders };
  // `api-key`, or an Entra ID token as a bearer (WIRE.md §2.1 "Auth").
  if (deployment.apiKey) headers['api-key'] = deployment.apiKey;
  else if (settings.adToken !== undefined) headers.authorization = `Bearer ${settings.adToken}`;
  const frozenHeaders = Object.freeze(headers);
  const fileWait = options.fileWait ?? DEFAULT_FILE_WAIT;
  return Object.freeze({
    label: 'Azure OpenAI',
    // Azure reads the deployment from the URL; `model` in bodies and batch lines must name it too
    // (WIRE.md §2.2: "each JSONL line's body.model must be the batch deployment name").
    upstreamModel: deploymentName,
    url: (operation: OpenAIOperation) => `${root}${azurePath(operation, deploymentName)}?api-version=${apiVersion}`,
    headers: () => frozenHeaders,
    requestIdHeaders: ['apim-request-id', 'x-request-id'],
    parseError: parseAzureError,
    supportsFiles: true,
    supportsBatches: true,
    hasModerations: false,
    normalizeFile: normalizeAzureFile,
    normalizeBatch: normalizeAzureBatch,
    batchEndpoint: azureBatchEndpoint,
    // Azure documents dot notation for the upload form (WIRE.md §2.3, `expires_after.seconds`).
    expiresAfterFields: (seconds: number) => [
      ['expires_after.anchor', 'created_at'],
      ['expires_after.seconds', String(seconds)],
    ],
    beforeBatchCreate: (fileId, files, callOptions) => waitUntilFileProcessed(fileId, files, callOptions, fileWait),
  } satisfies OpenAIApiConfig);
}
