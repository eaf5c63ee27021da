/**
 * The `vertex_ai/` provider: Google Cloud's Vertex AI behind OpenAI's chat completions,
 * embeddings and Batches. LiteLLM model strings `vertex_ai/<model>`: Google's models
 * (`vertex_ai/gemini-2.5-flash`, `vertex_ai/text-embedding-005`) and Anthropic's Claude
 * (`vertex_ai/claude-sonnet-4@20250514`), with `vertex_project`, `vertex_location` and
 * `vertex_credentials` (or the application default credentials); batches of both (Gemini and
 * Claude) run as Vertex batch prediction jobs staged in the GCS bucket `gcs_bucket_name` names.
 */
import type { Provider } from '../../spec/provider.ts';
import { createVertexClient } from './client.ts';
import { VERTEX_SETTINGS_ENVIRONMENT, type VertexSettings, vertexSettingsSchema } from './settings.ts';

/** OpenAI parameters outside what Vertex's Gemini can take (LiteLLM's `VertexGeminiConfig`). */
const VERTEX_UNSUPPORTED_PARAMS: readonly string[] = Object.freeze([
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

export const vertexAiProvider: Provider<VertexSettings> = Object.freeze({
  names: Object.freeze(['vertex_ai']),
  defaultBatchMode: 'native',
  settings: { schema: vertexSettingsSchema, environment: VERTEX_SETTINGS_ENVIRONMENT },
  unsupportedParams: () => VERTEX_UNSUPPORTED_PARAMS,
  createClient: createVertexClient,
} satisfies Provider<VertexSettings>);
