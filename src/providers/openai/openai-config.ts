/** The `OpenAIApiConfig` of api.openai.com (and of `openai/` deployments with another `api_base`). */
import { z } from 'zod';
import type { Deployment } from '../../spec/provider.ts';
import { extraHeadersSetting } from '../http/header-settings.ts';
import { type OpenAIApiConfig, type OpenAIOperation, joinUrl, pathId } from './api-config.ts';
import { parseOpenAIError } from './error-parser.ts';
import { normalizeOpenAIBatch, normalizeOpenAIFile } from './normalize.ts';

export const OPENAI_DEFAULT_API_BASE = 'https://api.openai.com/v1';

/** Paths of each operation under a `/v1`-style base URL. */
export function openAIPath(operation: OpenAIOperation): string {
  switch (operation.kind) {
    case 'chat':
      return '/chat/completions';
    case 'completions':
      return '/completions';
    case 'embeddings':
      return '/embeddings';
    case 'responses':
      return '/responses';
    case 'response':
      return `/responses/${pathId(operation.responseId)}`;
    case 'responseInputItems':
      return `/responses/${pathId(operation.responseId)}/input_items`;
    case 'responseCancel':
      return `/responses/${pathId(operation.responseId)}/cancel`;
    case 'moderations':
      return '/moderations';
    case 'imageGenerations':
      return '/images/generations';
    case 'audioSpeech':
      return '/audio/speech';
    case 'audioTranscriptions':
      return '/audio/transcriptions';
    case 'audioTranslations':
      return '/audio/translations';
    case 'rerank':
      // vLLM serves `/rerank` and `/v1/rerank`, Infinity `/rerank` under its prefix: LiteLLM's
      // `hosted_vllm` rerank posts to `{api_base}/rerank` too.
      return '/rerank';
    case 'files':
    case 'fileUpload':
      return '/files';
    case 'file':
      return `/files/${pathId(operation.fileId)}`;
    case 'fileContent':
      return `/files/${pathId(operation.fileId)}/content`;
    case 'batches':
      return '/batches';
    case 'batch':
      return `/batches/${pathId(operation.batchId)}`;
    case 'batchCancel':
      return `/batches/${pathId(operation.batchId)}/cancel`;
  }
}

/** What an OpenAI-shaped deployment reads of its `litellm_params` (`Provider.settings`). */
export const openAISettingsSchema = z
  .object({
    /** Sent as `OpenAI-Organization`. */
    organization: z.string().optional(),
    extra_headers: extraHeadersSetting,
  })
  .transform((params) => ({ organization: params.organization === '' ? undefined : params.organization, extraHeaders: params.extra_headers }));

export type OpenAISettings = z.output<typeof openAISettingsSchema>;

export interface OpenAIConfigOptions {
  label?: string;
  defaultApiBase?: string;
  supportsFiles?: boolean;
  supportsBatches?: boolean;
}

export function openAIApiConfig(deployment: Deployment, settings: OpenAISettings, options: OpenAIConfigOptions = {}): OpenAIApiConfig {
  const label = options.label ?? 'OpenAI';
  const base = deployment.apiBase ?? options.defaultApiBase ?? OPENAI_DEFAULT_API_BASE;
  // `litellm_params.extra_headers` (e.g. OpenRouter's HTTP-Referer); authentication is ours.
  const headers: Record<string, string> = { ...settings.extraHeaders };
  if (deployment.apiKey) headers.authorization = `Bearer ${deployment.apiKey}`;
  if (settings.organization !== undefined) headers['openai-organization'] = settings.organization;
  const frozenHeaders = Object.freeze(headers);
  return Object.freeze({
    label,
    upstreamModel: deployment.upstreamModel,
    url: (operation: OpenAIOperation) => joinUrl(base, openAIPath(operation)),
    headers: () => frozenHeaders,
    requestIdHeaders: ['x-request-id'],
    parseError: (status: number, text: string) => parseOpenAIError(status, text, label),
    supportsFiles: options.supportsFiles ?? true,
    supportsBatches: options.supportsBatches ?? true,
    normalizeFile: (raw, uploaded) => normalizeOpenAIFile(raw, uploaded, undefined, label),
    normalizeBatch: (raw) => normalizeOpenAIBatch(raw, label),
    batchEndpoint: (endpoint: string) => endpoint,
    // openai-node encodes nested form values in bracket notation (WIRE.md §1.1).
    expiresAfterFields: (seconds: number) => [
      ['expires_after[anchor]', 'created_at'],
      ['expires_after[seconds]', String(seconds)],
    ],
  } satisfies OpenAIApiConfig);
}
