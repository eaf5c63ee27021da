/**
 * The OpenAI-compatible services and servers LiteLLM users name, one row each: LiteLLM's model
 * prefix, its default `api_base` and the environment variables it reads for the key and base.
 * Every row is the OpenAI client with another config (`index.ts` builds one provider per row).
 *
 * Defaults and variable names as LiteLLM resolves them in `_get_openai_compatible_provider_info`
 * (https://github.com/BerriAI/litellm/blob/main/litellm/litellm_core_utils/get_llm_provider_logic.py)
 * and each provider's `*_get_openai_compatible_provider_info` under `litellm/llms/<provider>/`.
 */

import type { OpenAIApiConfig } from '../openai/api-config.ts';
import { mistralApiConfig } from '../mistral/mistral-config.ts';
import { togetherApiConfig } from '../together/together-config.ts';

export interface OpenAICompatiblePreset {
  /** LiteLLM's default `api_base`; absent: the config must name one. */
  readonly apiBase?: string;
  /** Variables read, in order, when `litellm_params` has no `api_key` / `api_base`. */
  readonly apiKeyVariables: readonly string[];
  readonly apiBaseVariables: readonly string[];
  /**
   * `native`: the service has OpenAI's Files and Batch API under the same base (same file
   * executor as OpenAI); `emulate`: batches run through Portico's batch engine.
   */
  readonly batches: 'native' | 'emulate';
  /**
   * `legacy-completions`: chat requests are sent to `/completions` (messages joined into a
   * `prompt`) and the answer is turned back into a chat completion (LiteLLM's
   * `text-completion-openai/`).
   */
  readonly wire?: 'legacy-completions';
  /**
   * How the service's Files and Batch API differ from OpenAI's, for a `native` service whose
   * batch API is OpenAI's in substance but not to the letter (Together, Mistral).
   */
  readonly apiConfig?: (openAIConfig: OpenAIApiConfig) => OpenAIApiConfig;
  /** A root base (Ollama's native API) gains `/v1`, where Ollama serves the OpenAI API. */
  readonly appendV1?: boolean;
  /**
   * The server may serve Cohere's rerank at `{api_base}/rerank` (vLLM, Infinity, llama.cpp's
   * server, behind LiteLLM's generic self-hosted prefixes): the client passes LiteLLM's rerank
   * there. Hosted services and Ollama-style servers have none: a rerank to them is a 400.
   */
  readonly rerank?: boolean;
  /**
   * OpenAI chat parameters the service rejects or cannot honour, dropped under `drop_params`:
   * those left out of LiteLLM's `get_supported_openai_params` for the provider
   * (https://github.com/BerriAI/litellm/tree/main/litellm/llms/<provider>/chat/transformation.py).
   */
  readonly unsupportedParams?: readonly string[];
}

function local(name: string, apiBase?: string, extra: Partial<OpenAICompatiblePreset> = {}): OpenAICompatiblePreset {
  return { ...(apiBase !== undefined && { apiBase }), apiKeyVariables: [`${name}_API_KEY`], apiBaseVariables: [`${name}_API_BASE`], batches: 'emulate', ...extra };
}

export const OPENAI_COMPATIBLE_PRESETS: Readonly<Record<string, OpenAICompatiblePreset>> = Object.freeze({
  // Self-hosted servers: no default host (or localhost), no batch API.
  // LiteLLM's own example of `additional_drop_params` is vLLM's `logit_bias`; what a self-hosted
  // server takes depends on it, so these list nothing and leave the choice to the config.
  hosted_vllm: local('HOSTED_VLLM', undefined, { rerank: true }),
  openai_compatible: local('OPENAI_COMPATIBLE', undefined, { rerank: true }),
  openai_like: local('OPENAI_LIKE', undefined, { rerank: true }),
  custom_openai: local('CUSTOM_OPENAI', undefined, { rerank: true }),
  // https://github.com/ollama/ollama/blob/main/docs/openai.md
  ollama: local('OLLAMA', 'http://localhost:11434/v1', { appendV1: true }),
  ollama_chat: local('OLLAMA', 'http://localhost:11434/v1', { appendV1: true }),
  lm_studio: local('LM_STUDIO', 'http://localhost:1234/v1'),
  llamafile: local('LLAMAFILE', 'http://127.0.0.1:8080/v1'),
  // Hosted services.
  openrouter: { apiBase: 'https://openrouter.ai/api/v1', apiKeyVariables: ['OPENROUTER_API_KEY', 'OR_API_KEY'], apiBaseVariables: ['OPENROUTER_API_BASE'], batches: 'emulate' },
  // Groq's Batch API is OpenAI's: files with purpose=batch, /batches, OpenAI's statuses
  // (https://console.groq.com/docs/batch).
  groq: { apiBase: 'https://api.groq.com/openai/v1', apiKeyVariables: ['GROQ_API_KEY'], apiBaseVariables: ['GROQ_API_BASE'], unsupportedParams: ['logprobs', 'top_logprobs', 'logit_bias', 'n'], batches: 'native' },
  // Mistral's batch API takes `input_files` and a `model`, `{custom_id, body}` lines, and answers
  // its own job object (https://docs.mistral.ai/capabilities/batch/); Together's is OpenAI's with
  // other words (purpose=batch-api uploads, answers wrapped in `job`, upper-case statuses;
  // https://docs.together.ai/reference/batch-create). Both run natively, through the OpenAI file
  // executor with `mistral/mistral-config.ts` and `together/together-config.ts`.
  mistral: { apiBase: 'https://api.mistral.ai/v1', apiKeyVariables: ['MISTRAL_API_KEY'], apiBaseVariables: ['MISTRAL_API_BASE'], unsupportedParams: ['logit_bias', 'logprobs', 'top_logprobs', 'user', 'service_tier', 'store'], batches: 'native', apiConfig: mistralApiConfig },
  together_ai: {
    apiBase: 'https://api.together.xyz/v1',
    apiKeyVariables: ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY', 'TOGETHERAI_API_KEY', 'TOGETHER_AI_TOKEN'],
    apiBaseVariables: ['TOGETHER_AI_API_BASE'],
    batches: 'native',
    apiConfig: togetherApiConfig,
  },
  deepseek: { apiBase: 'https://api.deepseek.com/beta', apiKeyVariables: ['DEEPSEEK_API_KEY'], apiBaseVariables: ['DEEPSEEK_API_BASE'], unsupportedParams: ['logit_bias', 'n', 'seed', 'user'], batches: 'emulate' },
  fireworks_ai: {
    apiBase: 'https://api.fireworks.ai/inference/v1',
    apiKeyVariables: ['FIREWORKS_API_KEY', 'FIREWORKS_AI_API_KEY', 'FIREWORKSAI_API_KEY', 'FIREWORKS_AI_TOKEN'],
    apiBaseVariables: ['FIREWORKS_API_BASE'],
    batches: 'emulate',
  },
  xai: { apiBase: 'https://api.x.ai/v1', apiKeyVariables: ['XAI_API_KEY'], apiBaseVariables: ['XAI_API_BASE'], unsupportedParams: ['logit_bias', 'service_tier', 'store'], batches: 'emulate' },
  perplexity: { apiBase: 'https://api.perplexity.ai', apiKeyVariables: ['PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_KEY'], apiBaseVariables: ['PERPLEXITY_API_BASE'], unsupportedParams: ['tools', 'tool_choice', 'parallel_tool_calls', 'logit_bias', 'logprobs', 'top_logprobs', 'n', 'seed', 'stop', 'user'], batches: 'emulate' },
  cerebras: { apiBase: 'https://api.cerebras.ai/v1', apiKeyVariables: ['CEREBRAS_API_KEY'], apiBaseVariables: ['CEREBRAS_API_BASE'], unsupportedParams: ['frequency_penalty', 'presence_penalty', 'logit_bias', 'n'], batches: 'emulate' },
  nvidia_nim: { apiBase: 'https://integrate.api.nvidia.com/v1', apiKeyVariables: ['NVIDIA_NIM_API_KEY'], apiBaseVariables: ['NVIDIA_NIM_API_BASE'], batches: 'emulate' },
  deepinfra: { apiBase: 'https://api.deepinfra.com/v1/openai', apiKeyVariables: ['DEEPINFRA_API_KEY'], apiBaseVariables: ['DEEPINFRA_API_BASE'], batches: 'emulate' },
  // GitHub Models: the OpenAI API at the root of its host, a GitHub token as the key
  // (https://docs.github.com/en/github-models).
  github: { apiBase: 'https://models.inference.ai.azure.com', apiKeyVariables: ['GITHUB_API_KEY'], apiBaseVariables: ['GITHUB_API_BASE'], batches: 'emulate' },
  // OpenAI's legacy completions API (instruct models); batches emulated since lines are chat requests.
  'text-completion-openai': {
    apiBase: 'https://api.openai.com/v1',
    apiKeyVariables: ['OPENAI_API_KEY'],
    apiBaseVariables: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'],
    batches: 'emulate',
    wire: 'legacy-completions',
  },
} satisfies Record<string, OpenAICompatiblePreset>);
