/**
 * Azure AI Foundry's models (LiteLLM's `azure_ai/`: Mistral, Llama, DeepSeek, Phi, ... deployed
 * from the model catalogue) as a variation of the OpenAI config: the Azure AI model inference API
 * is OpenAI's chat and embeddings API (https://learn.microsoft.com/en-us/rest/api/aifoundry/model-inference/)
 * with, as LiteLLM's `AzureAIStudioConfig` handles it
 * (https://github.com/BerriAI/litellm/blob/main/litellm/llms/azure_ai/chat/transformation.py):
 *
 * - on a `*.services.ai.azure.com` resource the API lives under `/models`
 *   (`/models/chat/completions`), elsewhere (a serverless endpoint) at the base itself;
 * - on Azure's own hosts (`*.services.ai.azure.com`, `*.openai.azure.com`) the key goes in the
 *   `api-key` header, elsewhere as `Authorization: Bearer`;
 * - `api_version` is the `api-version` query parameter (one already in `api_base` wins);
 * - an `api_base` that names the whole operation URL (`.../models/chat/completions?api-version=...`,
 *   as Azure's portal shows it) is read back to its base.
 */
import type { Deployment } from '../../spec/provider.ts';
import type { OpenAIApiConfig, OpenAIOperation } from '../openai/api-config.ts';
import { openAIPath } from '../openai/openai-config.ts';

/** Operation paths a pasted `api_base` may end with. */
const OPERATION_SUFFIX = /\/(chat\/completions|embeddings|completions)$/;

function usesApiKeyHeader(host: string): boolean {
  return host.endsWith('.services.ai.azure.com') || host.endsWith('.openai.azure.com');
}

export function azureAiApiConfig(openAIConfig: OpenAIApiConfig, deployment: Deployment): OpenAIApiConfig {
  // `validate` requires an api_base for this provider; the OpenAI config was built from it.
  const base = new URL(deployment.apiBase!);
  const apiVersion = base.searchParams.get('api-version') ?? deployment.apiVersion;
  const query = apiVersion === undefined || apiVersion === null ? '' : `?api-version=${encodeURIComponent(apiVersion)}`;
  let root = `${base.origin}${base.pathname.replace(/\/+$/, '').replace(OPERATION_SUFFIX, '')}`;
  if (base.hostname.endsWith('.services.ai.azure.com') && !root.endsWith('/models')) root = `${root}/models`;
  const headers: Record<string, string> = { ...openAIConfig.headers() };
  if (usesApiKeyHeader(base.hostname) && deployment.apiKey) {
    delete headers.authorization;
    headers['api-key'] = deployment.apiKey;
  }
  const frozenHeaders = Object.freeze(headers);
  return Object.freeze({
    ...openAIConfig,
    url: (operation: OpenAIOperation) => `${root}${openAIPath(operation)}${query}`,
    headers: () => frozenHeaders,
  });
}
