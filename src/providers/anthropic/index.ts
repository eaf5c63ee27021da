/**
 * The `anthropic/` provider: Anthropic's Messages API behind OpenAI's chat completions, and
 * Anthropic Message Batches behind OpenAI's Batches API.
 * `api_base` is the API root (default https://api.anthropic.com); Portico appends `/v1/...`.
 */
import type { Provider } from '../../spec/provider.ts';
import { createAnthropicClient } from './client.ts';
import { type AnthropicSettings, anthropicSettingsSchema, anthropicSettingsWarnings } from './settings.ts';

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

export const anthropicProvider: Provider<AnthropicSettings> = Object.freeze({
  names: Object.freeze(['anthropic']),
  defaultBatchMode: 'native',
  // LiteLLM reads ANTHROPIC_API_KEY / ANTHROPIC_API_BASE; Anthropic's SDKs read ANTHROPIC_BASE_URL.
  environmentDefaults: () => ({ apiKey: ['ANTHROPIC_API_KEY'], apiBase: ['ANTHROPIC_API_BASE', 'ANTHROPIC_BASE_URL'] }),
  settings: { schema: anthropicSettingsSchema },
  warnings: (_deployment, settings) => anthropicSettingsWarnings(settings),
  // OpenAI parameters outside LiteLLM's `AnthropicConfig.get_supported_openai_params`
  // (https://github.com/BerriAI/litellm/blob/main/litellm/llms/anthropic/chat/transformation.py);
  // under drop_params they go before translation, so `n` > 1 is dropped rather than a 400.
  unsupportedParams: () => ANTHROPIC_UNSUPPORTED_PARAMS,
  createClient: createAnthropicClient,
} satisfies Provider<AnthropicSettings>);

export type { TranslationWarning } from './warnings.ts';
export type { AnthropicJsonResponse, AnthropicStream } from './client.ts';
