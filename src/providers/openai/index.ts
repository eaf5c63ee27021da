/** The `openai/` provider: api.openai.com, or any server given as `api_base`. */
import type { Provider } from '../../spec/provider.ts';
import { createOpenAIShapedClient } from './client.ts';
import { type OpenAISettings, openAIApiConfig, openAISettingsSchema } from './openai-config.ts';

export const openaiProvider: Provider<OpenAISettings> = Object.freeze({
  names: Object.freeze(['openai']),
  defaultBatchMode: 'native',
  // LiteLLM reads these when the config names no key or base.
  environmentDefaults: () => ({ apiKey: ['OPENAI_API_KEY'], apiBase: ['OPENAI_BASE_URL', 'OPENAI_API_BASE'] }),
  settings: { schema: openAISettingsSchema },
  createClient: (deployment, settings) => createOpenAIShapedClient(deployment, openAIApiConfig(deployment, settings)),
} satisfies Provider<OpenAISettings>);
