/**
 * OpenAI-compatible servers (vLLM, Ollama, LM Studio, llamafile, any `/v1/chat/completions`
 * server): the OpenAI client with optional auth and no Files or Batches. Their batches run
 * through Portico's batch engine (`batch_mode: emulate`).
 */
import type { Deployment, Provider } from '../../spec/provider.ts';
import { createOpenAIShapedClient } from '../openai/client.ts';
import { openAIApiConfig } from '../openai/openai-config.ts';

/** Prefixes served here, with the default `api_base` of local servers. */
const COMPATIBLE_SERVERS: Readonly<Record<string, string | undefined>> = Object.freeze({
  hosted_vllm: undefined,
  openai_compatible: undefined,
  openai_like: undefined,
  custom_openai: undefined,
  ollama: 'http://localhost:11434/v1',
  ollama_chat: 'http://localhost:11434/v1',
  lm_studio: 'http://localhost:1234/v1',
  llamafile: 'http://127.0.0.1:8080/v1',
});

/**
 * LiteLLM's `ollama/` talks to Ollama's native API at the server root
 * (`api_base: http://localhost:11434`); Portico uses Ollama's OpenAI-compatible API under `/v1`
 * (https://github.com/ollama/ollama/blob/main/docs/openai.md), so a root base gains `/v1`.
 */
function apiBaseFor(deployment: Deployment): string | undefined {
  const base = deployment.apiBase ?? COMPATIBLE_SERVERS[deployment.providerName];
  if (base === undefined) return undefined;
  const trimmed = base.replace(/\/+$/, '');
  if ((deployment.providerName === 'ollama' || deployment.providerName === 'ollama_chat') && !trimmed.endsWith('/v1')) {
    return `${trimmed}/v1`;
  }
  return trimmed;
}

export const openaiCompatibleProvider: Provider = Object.freeze({
  names: Object.freeze(Object.keys(COMPATIBLE_SERVERS)),
  defaultBatchMode: 'emulate',
  // LiteLLM's variable names: HOSTED_VLLM_API_BASE, OLLAMA_API_BASE, LM_STUDIO_API_KEY, ...
  environmentDefaults: (name) => {
    const prefix = name === 'ollama_chat' ? 'OLLAMA' : name.toUpperCase();
    return { apiKey: [`${prefix}_API_KEY`], apiBase: [`${prefix}_API_BASE`] };
  },
  validate(deployment) {
    const problems: string[] = [];
    if (apiBaseFor(deployment) === undefined) {
      problems.push(`api_base: ${deployment.providerName} deployments need api_base (the server's OpenAI-compatible /v1 URL)`);
    }
    if (deployment.batchMode === 'native') {
      problems.push(`batch_mode: ${deployment.providerName} has no batch API; use batch_mode: emulate`);
    }
    return problems;
  },
  createClient(deployment) {
    const apiBase = apiBaseFor(deployment);
    return createOpenAIShapedClient(
      deployment,
      openAIApiConfig(
        { ...deployment, apiBase },
        { label: deployment.providerName, supportsFiles: false, supportsBatches: false },
      ),
    );
  },
} satisfies Provider);
