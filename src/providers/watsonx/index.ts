/**
 * The `watsonx/` provider: IBM watsonx.ai's text chat (plain and streamed) and embeddings behind
 * OpenAI's chat completions and embeddings, as LiteLLM serves `model: watsonx/ibm/granite-3-8b-instruct`
 * (https://docs.litellm.ai/docs/providers/watsonx), and `watsonx/deployment/<id>` for a model
 * deployed in a space. Batches run on Portico's engine. LiteLLM's `watsonx_text/` (the older text
 * generation API, prompts built from messages by model-specific templates) is not served.
 */
import type { Provider } from '../../spec/provider.ts';
import { createWatsonxClient } from './client.ts';
import { WATSONX_SETTINGS_ENVIRONMENT, type WatsonxSettings, deploymentIdOf, watsonxSettingsSchema } from './settings.ts';

export const watsonxProvider: Provider<WatsonxSettings> = Object.freeze({
  names: Object.freeze(['watsonx']),
  defaultBatchMode: 'emulate',
  environmentDefaults: () => ({
    apiKey: ['WATSONX_APIKEY', 'WATSONX_API_KEY', 'WX_API_KEY'],
    apiBase: ['WATSONX_API_BASE', 'WATSONX_URL', 'WX_URL', 'WML_URL'],
    apiVersion: ['WATSONX_API_VERSION'],
  }),
  settings: { schema: watsonxSettingsSchema, environment: WATSONX_SETTINGS_ENVIRONMENT },
  validate(deployment, settings) {
    const problems: string[] = [];
    if (deployment.batchMode === 'native') problems.push('batch_mode: watsonx/ has no batch API Portico uses; use batch_mode: emulate (the default)');
    if (deploymentIdOf(deployment.upstreamModel) === undefined && settings.projectId === undefined && settings.spaceId === undefined) {
      problems.push('project_id: a watsonx/ deployment needs project_id (WATSONX_PROJECT_ID) or space_id (WATSONX_DEPLOYMENT_SPACE_ID), unless its model is deployment/<id>');
    }
    return problems;
  },
  createClient: createWatsonxClient,
} satisfies Provider<WatsonxSettings>);
