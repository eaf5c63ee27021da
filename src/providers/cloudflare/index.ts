/**
 * The `cloudflare/` provider: Cloudflare Workers AI's native REST API
 * (`POST https://api.cloudflare.com/client/v4/accounts/{account}/ai/run/{model}`) behind OpenAI's
 * chat completions (plain and streamed) and embeddings, as LiteLLM serves
 * `model: cloudflare/@cf/meta/llama-3.1-8b-instruct` (https://docs.litellm.ai/docs/providers/cloudflare_workers).
 * Batches run on Portico's engine: the Workers AI batch API (`queueRequest`) serves only some
 * models and is not used.
 */
import type { Provider } from '../../spec/provider.ts';
import { createCloudflareClient } from './client.ts';
import { CLOUDFLARE_SETTINGS_ENVIRONMENT, cloudflareSettingsSchema, type CloudflareSettings } from './settings.ts';

/**
 * OpenAI chat parameters Workers AI cannot take: dropped before translation under `drop_params`
 * (LiteLLM's "unsupported params"), so `n` > 1 and `logprobs` are dropped rather than refused.
 * The complement of what `chat-request.ts` maps.
 */
const CLOUDFLARE_UNSUPPORTED_PARAMS: readonly string[] = Object.freeze([
  'n',
  'logprobs',
  'top_logprobs',
  'logit_bias',
  'stop',
  'user',
  'parallel_tool_calls',
  'service_tier',
  'store',
  'metadata',
  'modalities',
  'audio',
  'prediction',
  'reasoning_effort',
  'web_search_options',
]);

export const cloudflareProvider: Provider<CloudflareSettings> = Object.freeze({
  names: Object.freeze(['cloudflare']),
  defaultBatchMode: 'emulate',
  // LiteLLM reads CLOUDFLARE_API_KEY; Cloudflare's own docs and SDK name the token CLOUDFLARE_API_TOKEN.
  environmentDefaults: () => ({ apiKey: ['CLOUDFLARE_API_KEY', 'CLOUDFLARE_API_TOKEN'], apiBase: ['CLOUDFLARE_API_BASE'] }),
  settings: { schema: cloudflareSettingsSchema, environment: CLOUDFLARE_SETTINGS_ENVIRONMENT },
  unsupportedParams: () => CLOUDFLARE_UNSUPPORTED_PARAMS,
  validate(deployment) {
    return deployment.batchMode === 'native' ? ['batch_mode: cloudflare/ has no batch API Portico uses; use batch_mode: emulate (the default)'] : [];
  },
  createClient: createCloudflareClient,
} satisfies Provider<CloudflareSettings>);
