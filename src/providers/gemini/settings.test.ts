import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../spec/errors.ts';
import { parseConfig } from '../../config/load-config.ts';
import { ModelRoutes } from '../../routing/model-routes.ts';
import { deploymentFrom } from '../testing/provider-test-helpers.ts';
import { geminiProvider } from './index.ts';
import type { GeminiSettings } from './settings.ts';

const geminiSettingsOf = (deployment: { settings: unknown }) => deployment.settings as GeminiSettings;

describe('gemini/ settings', () => {
  it('api_base may be the root or end in /v1beta; the key goes to x-goog-api-key', () => {
    assert.equal(geminiSettingsOf(deploymentFrom('{model: gemini/gemini-2.5-flash, api_key: k, api_base: "http://h:1/v1beta/"}')).apiRoot, 'http://h:1');
    const settings = geminiSettingsOf(deploymentFrom('{model: gemini/gemini-2.5-flash, api_key: k}'));
    assert.deepEqual(settings, { apiKey: 'k', apiRoot: 'https://generativelanguage.googleapis.com', batchInlineMaxBytes: 20 * 1024 * 1024 });
  });

  it('problems are reported at their key when the config loads', () => {
    assert.throws(() => parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: gemini/x, api_key: k, api_base: "ftp://x"}}\n', {}), (error: unknown) => error instanceof ConfigError && /litellm_params\.api_base: must be an http\(s\) URL/.test(error.message));
    assert.throws(() => parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: gemini/x, api_key: k, batch_inline_max_bytes: -1}}\n', {}), (error: unknown) => error instanceof ConfigError && /batch_inline_max_bytes/.test(error.message));
  });

  it('a deployment without a key loads, as in LiteLLM (its calls go out without one)', () => {
    const config = parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash}}\n', {});
    assert.equal(geminiSettingsOf(config.deployments[0]).apiKey, undefined);
  });

  it('GEMINI_API_KEY supplies a missing key, as in LiteLLM', () => {
    const config = parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: gemini/gemini-2.5-flash}}\n', { GEMINI_API_KEY: 'from-env' });
    assert.equal(geminiSettingsOf(config.deployments[0]).apiKey, 'from-env');
  });

  it('model: "*" loads without a Gemini key, and the deployment it derives for a Gemini name builds a client', () => {
    const config = parseConfig('model_list:\n  - {model_name: "*", litellm_params: {model: "*"}}\n', { OPENAI_API_KEY: 'o', ANTHROPIC_API_KEY: 'a' });
    const [derived] = new ModelRoutes(config).deploymentsOf('gemini/gemini-2.5-flash');
    assert.equal(derived.providerName, 'gemini');
    assert.equal(derived.upstreamModel, 'gemini-2.5-flash');
    assert.equal(geminiSettingsOf(derived).apiKey, undefined);
    assert.doesNotThrow(() => geminiProvider.createClient(derived, geminiSettingsOf(derived)));
  });
});
