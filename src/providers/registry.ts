/**
 * The typed provider registry: model prefix (`azure` in `azure/my-deployment`) -> Provider.
 * Core code finds providers only here; it never imports a provider folder.
 */
import type { Deployment, Provider, ProviderClient } from '../spec/provider.ts';
import { azureProvider } from './azure/index.ts';
import { mockProvider } from './mock/index.ts';
import { createMockClient, mockSettingsSchema } from './mock/mock-client.ts';
import { openaiProvider } from './openai/index.ts';
import { openaiCompatibleProviders } from './openai-compatible/index.ts';
import { anthropicProvider } from './anthropic/index.ts';
import { geminiProvider } from './gemini/index.ts';
import { vertexAiProvider } from './vertex_ai/index.ts';
import { bedrockProvider } from './bedrock/index.ts';
import { cloudflareProvider } from './cloudflare/index.ts';
import { cohereProvider } from './cohere/index.ts';
import { watsonxProvider } from './watsonx/index.ts';

const PROVIDERS: readonly Provider[] = [
  openaiProvider,
  azureProvider,
  ...openaiCompatibleProviders,
  mockProvider,
  anthropicProvider,
  geminiProvider,
  vertexAiProvider,
  bedrockProvider,
  cloudflareProvider,
  watsonxProvider,
  cohereProvider,
];

function buildRegistry(providers: readonly Provider[]): ReadonlyMap<string, Provider> {
  const registry = new Map<string, Provider>();
  for (const provider of providers) {
    for (const name of provider.names) {
      if (registry.has(name)) throw new Error(`provider prefix "${name}" is registered twice`);
      registry.set(name, provider);
    }
  }
  return registry;
}

const REGISTRY: ReadonlyMap<string, Provider> = buildRegistry(PROVIDERS);

/** The provider serving a model prefix, or `undefined` when none does. */
export function providerFor(name: string): Provider | undefined {
  return REGISTRY.get(name);
}

/** Every known prefix, sorted (for error messages and docs). */
export function knownProviderNames(): string[] {
  return [...REGISTRY.keys()].sort();
}

/**
 * LiteLLM's `mock_response` in a request (https://docs.litellm.ai/docs/completion/mock_requests):
 * a client that answers `text` in the endpoint's shape (a chat completion, plain or streamed;
 * embeddings) for `deployment`'s group, the group's name as the model, with no upstream call: the
 * `mock/` provider's answers.
 */
export function mockAnswerClient(deployment: Deployment, text: string): ProviderClient {
  return createMockClient({ ...deployment, providerName: mockProvider.names[0], upstreamModel: deployment.modelGroup }, mockSettingsSchema.parse({ mock_response: text }));
}
