import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load-config.ts';
import { ModelRoutes } from './model-routes.ts';

describe('model routes: groups, aliases, wildcard routes', () => {
  it('model: "*" sends each name to the provider the name implies, as LiteLLM does', () => {
    const config = parseConfig('model_list:\n  - {model_name: "*", litellm_params: {model: "*"}}\n', { OPENAI_API_KEY: 'o', ANTHROPIC_API_KEY: 'a' });
    const routes = new ModelRoutes(config);
    const served = (name: string) => routes.deploymentsOf(name).map((d) => [d.providerName, d.upstreamModel, d.apiKey]);
    assert.deepEqual(served('gpt-4o'), [['openai', 'gpt-4o', 'o']]);
    assert.deepEqual(served('claude-3-opus-20240229'), [['anthropic', 'claude-3-opus-20240229', 'a']]);
    assert.deepEqual(served('anthropic/claude-next'), [['anthropic', 'claude-next', 'a']]);
    assert.deepEqual(served('openai/anything'), [['openai', 'anything', 'o']]);
    // Newer than the catalogue: placed by the family only its vendor's names belong to.
    assert.deepEqual(served('claude-opus-9'), [['anthropic', 'claude-opus-9', 'a']]);
    assert.deepEqual(served('gpt-9.4-mini'), [['openai', 'gpt-9.4-mini', 'o']]);
    assert.equal(routes.has('my-house-model'), false, 'a bare name no provider claims is not served');
    assert.equal(routes.has('gpt-oss-120b'), false, 'nor one of a family many serve');
  });

  it('a derived deployment is found again from its id alone (files and batches pinned to it)', () => {
    const config = parseConfig('model_list:\n  - {model_name: "openai/*", litellm_params: {model: "openai/*", api_key: k}}\n', {});
    const [derived] = new ModelRoutes(config).deploymentsOf('openai/gpt-4.1');
    assert.equal(derived.upstreamModel, 'gpt-4.1');
    assert.equal(derived.modelGroup, 'openai/*', 'reported under its route, not each requested name');
    const again = new ModelRoutes(config).derivedDeployment(derived.id);
    assert.deepEqual(again, derived);
  });

  it('an alias resolves to its target; one naming nothing is warned about at load', () => {
    const config = parseConfig(
      'model_list:\n  - {model_name: real, litellm_params: {model: mock/real}}\nrouter_settings:\n  model_group_alias: {a: real, b: {model: real, hidden: true}, c: nothing}\n',
      {},
    );
    const routes = new ModelRoutes(config);
    assert.equal(routes.resolve('a'), 'real');
    assert.equal(routes.resolve('b'), 'real');
    assert.equal(routes.resolve('c'), undefined);
    assert.deepEqual(routes.listed(), ['real', 'a']);
    assert.deepEqual(config.warnings, ['router_settings.model_group_alias.c: model group "nothing" is not in model_list']);
  });
});
