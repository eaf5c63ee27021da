import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../spec/errors.ts';
import { parseConfig } from './load-config.ts';

const CREDENTIALS = `
credential_list:
  - credential_name: azure-eu
    credential_values:
      api_key: os.environ/AZURE_EU_KEY
      api_base: https://eu.openai.azure.com
      api_version: "2024-10-21"
    credential_info:
      description: production credentials for the EU region
`;

describe("LiteLLM's credential_list", () => {
  it("a deployment's litellm_credential_name fills in api_key, api_base and api_version; values written on the deployment win", () => {
    const config = parseConfig(
      `${CREDENTIALS}
model_list:
  - model_name: gpt-4o
    litellm_params: {model: azure/gpt-4o, litellm_credential_name: azure-eu}
  - model_name: gpt-4o-us
    litellm_params: {model: azure/gpt-4o, litellm_credential_name: azure-eu, api_base: https://us.openai.azure.com}
`,
      { AZURE_EU_KEY: 'eu-secret' },
    );
    const [eu, us] = config.deployments;
    assert.deepEqual([eu.apiKey, eu.apiBase, eu.apiVersion], ['eu-secret', 'https://eu.openai.azure.com', '2024-10-21']);
    assert.deepEqual([us.apiKey, us.apiBase], ['eu-secret', 'https://us.openai.azure.com']);
    assert.deepEqual(config.warnings, []);
  });

  it('an unknown credential name is a config error naming the entry and the credentials defined', () => {
    assert.throws(
      () => parseConfig(`${CREDENTIALS}model_list:\n  - {model_name: a, litellm_params: {model: azure/x, litellm_credential_name: azure-us}}\n`, { AZURE_EU_KEY: 'k' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        /model_list\[0\]\.litellm_params\.litellm_credential_name: no credential "azure-us" in credential_list \(defined: azure-eu\)/.test(error.message),
    );
  });

  it("a credential's missing environment variable is taken as not set with a warning, as a deployment's own would be", () => {
    const config = parseConfig(`${CREDENTIALS}model_list:\n  - {model_name: a, litellm_params: {model: azure/x, litellm_credential_name: azure-eu}}\n`, {});
    assert.equal(config.deployments[0].apiKey, undefined);
    assert.equal(config.deployments[0].apiBase, 'https://eu.openai.azure.com');
    assert.match(config.warnings.join('\n'), /^credential_list\[0\]\.credential_values\.api_key: environment variable AZURE_EU_KEY is not set/m);
  });
});
