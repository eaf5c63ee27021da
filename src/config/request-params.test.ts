import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from './load-config.ts';

describe("LiteLLM's request settings in the config", () => {
  it('drop_params, additional_drop_params, modify_params, request defaults and extra_headers load without warnings', () => {
    const config = parseConfig(
      `model_list:
  - model_name: a
    litellm_params: {model: openai/m, drop_params: true, additional_drop_params: [user], temperature: 0.3, top_p: 0.9, seed: 1, max_tokens: 9, extra_headers: {x-a: b}, stream_timeout: 5}
  - model_name: b
    litellm_params: {model: openai/n}
  - model_name: c
    litellm_params: {model: openai/o, modify_params: false}
litellm_settings: {drop_params: false, modify_params: true}
`,
      {},
    );
    const [a, b, c] = config.deployments;
    assert.equal(a.dropParams, true);
    assert.deepEqual(a.additionalDropParams, ['user']);
    assert.deepEqual(a.requestDefaults, { temperature: 0.3, top_p: 0.9, seed: 1, max_tokens: 9 });
    assert.equal(a.streamTimeoutMs, 5000);
    assert.equal(b.dropParams, false);
    assert.equal(b.modifyParams, true);
    assert.equal(c.modifyParams, false);
    assert.deepEqual(config.warnings, []);
  });

  it('litellm_settings.drop_params applies to deployments that do not say', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\nlitellm_settings: {drop_params: true}\n', {});
    assert.equal(config.deployments[0].dropParams, true);
  });

  it('modify_params is off unless litellm_settings or the deployment turns it on', () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\n  - {model_name: b, litellm_params: {model: openai/m, modify_params: true}}\n', {});
    assert.deepEqual(config.deployments.map((deployment) => deployment.modifyParams), [false, true]);
  });
});
