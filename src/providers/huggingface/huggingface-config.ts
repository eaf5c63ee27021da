/**
 * Hugging Face (LiteLLM's `huggingface/`) as the OpenAI client with another config: Hugging Face's
 * Inference Providers router serves OpenAI's chat API at `https://router.huggingface.co/v1`
 * (https://huggingface.co/docs/inference-providers), and a dedicated Inference Endpoint running
 * TGI, vLLM or TEI serves OpenAI's API under its own URL's `/v1`. What differs is the model:
 * LiteLLM's `huggingface/<provider>/<org>/<model>` names the inference provider to route through,
 * which the router takes as `<org>/<model>:<provider>` (its `model:provider` form); without one
 * (`huggingface/<org>/<model>`) the router picks the provider.
 *
 * Not carried over: Hugging Face's task APIs (`feature-extraction` and the like, LiteLLM's
 * embeddings on the serverless API): an embedding deployment works against an endpoint that
 * serves OpenAI's `/v1/embeddings` (TEI), not against the router.
 */
import type { Deployment } from '../../spec/provider.ts';
import type { OpenAIApiConfig } from '../openai/api-config.ts';

/** `<provider>/<org>/<model>` -> `<org>/<model>:<provider>`; a Hub id (`<org>/<model>`) as it is. */
export function routerModelOf(model: string): string {
  const parts = model.split('/');
  if (parts.length < 3 || parts.some((part) => part === '')) return model;
  const [provider, ...repo] = parts;
  return `${repo.join('/')}:${provider}`;
}

export function huggingFaceApiConfig(openAIConfig: OpenAIApiConfig, deployment: Deployment): OpenAIApiConfig {
  return { ...openAIConfig, upstreamModel: routerModelOf(deployment.upstreamModel) };
}
