/**
 * The `bedrock/` provider: Amazon Bedrock behind OpenAI's chat completions (the Converse and
 * ConverseStream APIs, for Claude, Llama, Mistral, Nova and the rest), embeddings (InvokeModel:
 * Titan, Cohere) and Batches (model invocation jobs staged in S3, for Claude). LiteLLM model
 * strings `bedrock/<modelId>`, `bedrock/converse/<modelId>`, inference profiles
 * (`bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0`); requests signed with SigV4
 * (`signing.ts`) by static keys, session tokens, the AWS environment or an assumed role.
 */
import type { Provider } from '../../spec/provider.ts';
import { createBedrockClient } from './client.ts';
import { CONVERSE_UNSUPPORTED_PARAMS } from './converse-request.ts';
import { BEDROCK_SETTINGS_ENVIRONMENT, bedrockDeploymentProblems, bedrockSettingsSchema, type BedrockSettings } from './settings.ts';

export const bedrockProvider: Provider<BedrockSettings> = Object.freeze({
  names: Object.freeze(['bedrock']),
  defaultBatchMode: 'native',
  settings: { schema: bedrockSettingsSchema, environment: BEDROCK_SETTINGS_ENVIRONMENT },
  unsupportedParams: () => CONVERSE_UNSUPPORTED_PARAMS,
  validate: (deployment) => bedrockDeploymentProblems(deployment.upstreamModel),
  createClient: createBedrockClient,
} satisfies Provider<BedrockSettings>);
