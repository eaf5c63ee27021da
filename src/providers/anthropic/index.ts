/**
 * The `anthropic/` provider: Anthropic's Messages API behind OpenAI's chat completions, and
 * Anthropic Message Batches behind OpenAI's Batches API.
 * `api_base` is the API root (default https://api.anthropic.com); Portico appends `/v1/...`.
 */
import type { Deployment, Provider } from '../../spec/provider.ts';
import { createAnthropicClient, positiveIntegerOf } from './client.ts';

const ANTHROPIC_UNSUPPORTED_PARAMS: readonly string[] = Object.freeze([
  'n',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'presence_penalty',
  'frequency_penalty',
  'seed',
  'service_tier',
  'store',
  'prediction',
  'modalities',
  'audio',
]);

export const anthropicProvider: Provider = Object.freeze({
  names: Object.freeze(['anthropic']),
  defaultBatchMode: 'native',
  // LiteLLM reads ANTHROPIC_API_KEY / ANTHROPIC_API_BASE; Anthropic's SDKs read ANTHROPIC_BASE_URL.
  environmentDefaults: () => ({ apiKey: ['ANTHROPIC_API_KEY'], apiBase: ['ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL'] }),
  // max_tokens: the default for requests without one (Anthropic requires it); extra_headers: e.g. anthropic-beta.
  paramKeys: Object.freeze(['max_tokens', 'extra_headers']),
  // OpenAI parameters outside LiteLLM's `AnthropicConfig.get_supported_openai_params`
  // (https://github.com/BerriAI/litellm/blob/main/litellm/llms/anthropic/chat/transformation.py);
  // under drop_params they go before translation, so `n` > 1 is dropped rather than a 400.
  unsupportedParams: () => ANTHROPIC_UNSUPPORTED_PARAMS,
  validate: validateAnthropicDeployment,
  createClient: createAnthropicClient,
} satisfies Provider);

/** Problems as `<litellm_params key>: <message>`, which the config loader reports at that key. */
export function validateAnthropicDeployment(deployment: Deployment): string[] {
  const problems: string[] = [];
  if (!deployment.apiKey) problems.push('api_key: an anthropic deployment needs an API key (or ANTHROPIC_API_KEY).');
  if (deployment.apiBase !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(deployment.apiBase);
    } catch {
      problems.push(`api_base: '${deployment.apiBase}' is not a URL.`);
    }
    if (url !== undefined && url.protocol !== 'http:' && url.protocol !== 'https:') {
      problems.push('api_base: must be an http(s) URL.');
    } else if (url !== undefined && /\/v1(\/messages)?\/?$/.test(url.pathname)) {
      // The root, not the messages URL: Portico appends /v1/messages and /v1/messages/batches.
      problems.push('api_base: must be the API root (e.g. https://api.anthropic.com), without /v1.');
    }
  }
  const maxTokens = deployment.params.max_tokens;
  if (maxTokens != null && positiveIntegerOf(maxTokens) === undefined) {
    problems.push('max_tokens: must be a positive integer.');
  }
  const extraHeaders = deployment.params.extra_headers;
  if (extraHeaders != null && (typeof extraHeaders !== 'object' || Array.isArray(extraHeaders) || Object.values(extraHeaders).some((value) => typeof value !== 'string'))) {
    problems.push('extra_headers: must map header names to strings.');
  }
  return problems;
}

export type { TranslationWarning } from './warnings.ts';
export type { AnthropicJsonResponse, AnthropicStream } from './client.ts';
