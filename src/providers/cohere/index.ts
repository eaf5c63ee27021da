/**
 * The `cohere/` provider (also `cohere_chat/`, LiteLLM's other prefix for Cohere's chat models):
 * Cohere's native v2 API behind OpenAI's chat completions (`/v2/chat`, plain and streamed),
 * embeddings (`/v2/embed`) and LiteLLM's rerank (`/v2/rerank`). `api_base` is the API root (default https://api.cohere.com);
 * Portico appends `/v2/...`. Cohere has no OpenAI-style batch API for chat: batches run on
 * Portico's engine.
 */
import type { Provider } from '../../spec/provider.ts';
import { createCohereClient } from './client.ts';
import { type CohereSettings, cohereSettingsSchema } from './settings.ts';

/**
 * OpenAI parameters outside LiteLLM's `CohereV2ChatConfig.get_supported_openai_params`
 * (https://github.com/BerriAI/litellm/blob/main/litellm/llms/cohere/chat/v2_transformation.py):
 * under drop_params they go before translation, so `n` > 1 or `logprobs` is dropped rather than
 * a 400. `response_format` stays: Portico maps it (`chat-request.ts`).
 */
const COHERE_UNSUPPORTED_PARAMS: readonly string[] = Object.freeze([
  'n',
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'user',
  'parallel_tool_calls',
  'reasoning_effort',
  'service_tier',
  'store',
  'prediction',
  'modalities',
  'audio',
  'web_search_options',
]);

export const cohereProvider: Provider<CohereSettings> = Object.freeze({
  names: Object.freeze(['cohere', 'cohere_chat']),
  defaultBatchMode: 'emulate',
  // LiteLLM reads COHERE_API_KEY and COHERE_API_BASE; Cohere's SDKs read CO_API_KEY.
  environmentDefaults: () => ({ apiKey: ['COHERE_API_KEY', 'CO_API_KEY'], apiBase: ['COHERE_API_BASE'] }),
  settings: { schema: cohereSettingsSchema },
  validate(deployment) {
    return deployment.batchMode === 'native' ? ['batch_mode: Cohere has no OpenAI-style batch API; use batch_mode: emulate'] : [];
  },
  unsupportedParams: () => COHERE_UNSUPPORTED_PARAMS,
  createClient: createCohereClient,
} satisfies Provider<CohereSettings>);
