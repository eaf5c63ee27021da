/** The `azure/` provider: Azure OpenAI, `azure/<deployment name>`; never needs `custom_llm_provider`. */
import type { Provider } from '../../spec/provider.ts';
import { createOpenAIShapedClient } from '../openai/client.ts';
import { type AzureConfigOptions, type AzureSettings, azureApiConfig, azureSettingsSchema } from './azure-config.ts';

export function createAzureProvider(options: AzureConfigOptions = {}): Provider<AzureSettings> {
  return Object.freeze({
    names: Object.freeze(['azure']),
    defaultBatchMode: 'native',
    // LiteLLM reads these when the config leaves them out.
    environmentDefaults: () => ({ apiKey: ['AZURE_API_KEY'], apiBase: ['AZURE_API_BASE'], apiVersion: ['AZURE_API_VERSION'] }),
    settings: { schema: azureSettingsSchema },
    validate(deployment) {
      const problems: string[] = [];
      if (!deployment.apiBase) problems.push('api_base: azure deployments need api_base (https://<resource>.openai.azure.com)');
      else if (!/^https?:\/\//.test(deployment.apiBase)) problems.push(`api_base: "${deployment.apiBase}" is not an http(s) URL`);
      return problems;
    },
    createClient: (deployment, settings) => createOpenAIShapedClient(deployment, azureApiConfig(deployment, settings, options)),
  } satisfies Provider<AzureSettings>);
}

export const azureProvider: Provider<AzureSettings> = createAzureProvider();
