/**
 * The `gemini/` provider: the Gemini API (generativelanguage.googleapis.com) behind OpenAI's chat
 * completions and embeddings, and Gemini batch mode behind OpenAI's Batches API. LiteLLM model
 * strings `gemini/<model>` with `api_key` (header `x-goog-api-key`) and optional `api_base`.
 */
import type { Provider } from '../../spec/provider.ts';
import { createGeminiClient } from './client.ts';
import { type GeminiSettings, geminiSettingsSchema } from './settings.ts';

/** OpenAI parameters outside what the Gemini API can take (LiteLLM's `GoogleAIStudioGeminiConfig`). */
const GEMINI_UNSUPPORTED_PARAMS: readonly string[] = Object.freeze([
  'logit_bias',
  'logprobs',
  'top_logprobs',
  'user',
  'service_tier',
  'store',
  'prediction',
  'modalities',
  'audio',
  'parallel_tool_calls',
]);

export const geminiProvider: Provider<GeminiSettings> = Object.freeze({
  names: Object.freeze(['gemini']),
  defaultBatchMode: 'native',
  // LiteLLM reads GEMINI_API_KEY (and GOOGLE_API_KEY, which Google's SDKs read) and GEMINI_API_BASE.
  environmentDefaults: () => ({ apiKey: ['GEMINI_API_KEY', 'GOOGLE_API_KEY'], apiBase: ['GEMINI_API_BASE'] }),
  settings: { schema: geminiSettingsSchema },
  unsupportedParams: () => GEMINI_UNSUPPORTED_PARAMS,
  createClient: createGeminiClient,
} satisfies Provider<GeminiSettings>);
