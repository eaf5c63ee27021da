/**
 * The `vertex_ai/` provider: Google Cloud's Vertex AI behind OpenAI's chat completions,
 * embeddings and Batches. LiteLLM model strings `vertex_ai/<model>`: Google's models
 * (`vertex_ai/gemini-2.5-flash`, `vertex_ai/text-embedding-005`) and Anthropic's Claude
 * (`vertex_ai/claude-sonnet-4@20250514`), with `vertex_project`, `vertex_location` and
 * `vertex_credentials` (or the application default credentials); batches of Google's models run
 * as Vertex batch prediction jobs staged in the GCS bucket `gcs_bucket_name` names.
 */
import type { Provider } from '../../spec/provider.ts';
import { createVertexClient } from './client.ts';
import { vertexSettingsProblems } from './settings.ts';

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

export const vertexAiProvider: Provider = Object.freeze({
  names: Object.freeze(['vertex_ai']),
  defaultBatchMode: 'native',
  paramKeys: Object.freeze(['vertex_project', 'vertex_location', 'vertex_credentials', 'gcs_bucket_name', 'gcs_api_base', 'max_tokens']),
  unsupportedParams: () => VERTEX_UNSUPPORTED_PARAMS,
  validate: (deployment) => vertexSettingsProblems(deployment),
  createClient: createVertexClient,
} satisfies Provider);
