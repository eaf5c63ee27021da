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

  it("reasoning_effort and extra_body's fields are request defaults too (LiteLLM hands extra_body to the OpenAI client, which merges it into the body)", async () => {
    const { shapeRequest } = await import('../routing/request-shaping.ts');
    const config = parseConfig(
      'model_list:\n  - model_name: a\n    litellm_params: {model: hosted_vllm/m, api_base: "http://127.0.0.1:9/v1", reasoning_effort: low, temperature: 0.2, extra_body: {options: {num_ctx: 32768}, chat_template_kwargs: {enable_thinking: false}, temperature: 0.9}}\n',
      {},
    );
    const [a] = config.deployments;
    assert.deepEqual(a.requestDefaults, { options: { num_ctx: 32768 }, chat_template_kwargs: { enable_thinking: false }, temperature: 0.2, reasoning_effort: 'low' });
    assert.deepEqual(config.warnings, []);
    const shaping = { dropParams: false, additionalDropParams: [], requestDefaults: a.requestDefaults ?? {}, unsupportedParams: [] };
    const shaped = shapeRequest({ model: 'a', messages: [], reasoning_effort: 'high', options: { num_ctx: 8 } }, shaping).body;
    assert.deepEqual(shaped, { model: 'a', messages: [], reasoning_effort: 'high', options: { num_ctx: 8 }, chat_template_kwargs: { enable_thinking: false }, temperature: 0.2 });
  });

  it("a deployment's thinking (Anthropic's object, as LiteLLM configs give Claude deployments) is a request default, loaded without a warning", () => {
    const config = parseConfig('model_list:\n  - model_name: claude\n    litellm_params: {model: anthropic/claude-sonnet-4-5, thinking: {type: enabled, budget_tokens: 2048}}\n', {});
    assert.deepEqual(config.deployments[0].requestDefaults, { thinking: { type: 'enabled', budget_tokens: 2048 } });
    assert.deepEqual(config.warnings, []);
  });

  it("a deployment's order (LiteLLM's priority within the group) and cooldown_time load without a warning", () => {
    const config = parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: openai/a, order: 1, cooldown_time: 30}}\n  - {model_name: g, litellm_params: {model: openai/b, order: "2"}}\n  - {model_name: g, litellm_params: {model: openai/c}}\n', {});
    assert.deepEqual(config.deployments.map((deployment) => deployment.order), [1, 2, undefined]);
    assert.deepEqual(config.deployments.map((deployment) => deployment.cooldownMs), [30_000, undefined, undefined]);
    assert.deepEqual(config.warnings, []);
  });

  it("router_settings.retry_policy (LiteLLM's names) loads as retries by class; classes left out are absent", () => {
    const config = parseConfig('model_list: []\nrouter_settings:\n  retry_policy: {RateLimitErrorRetries: 3, BadRequestErrorRetries: 0, InternalServerErrorRetries: 2, TimeoutErrorRetries: 1, AuthenticationErrorRetries: 0, ContentPolicyViolationErrorRetries: 4}\n', {});
    assert.deepEqual(config.router.retryPolicy, { rateLimit: 3, badRequest: 0, internalServer: 2, timeout: 1, authentication: 0, contentPolicy: 4 });
    assert.deepEqual(parseConfig('model_list: []\nrouter_settings:\n  retry_policy: {RateLimitErrorRetries: 3}\n', {}).router.retryPolicy, { rateLimit: 3 });
    assert.equal(parseConfig('model_list: []\n', {}).router.retryPolicy, undefined);
    assert.deepEqual(parseConfig('model_list: []\nrouter_settings:\n  retry_policy: {RateLimitErrorRetries: 3}\n', {}).warnings.filter((warning) => warning.includes('retry')), []);
    const perGroup = parseConfig('model_list: []\nrouter_settings:\n  model_group_retry_policy: {gpt-4o: {RateLimitErrorRetries: 1, TimeoutErrorRetries: 0}}\n', {});
    assert.deepEqual(perGroup.router.modelGroupRetryPolicy, { 'gpt-4o': { rateLimit: 1, timeout: 0 } });
    assert.deepEqual(perGroup.warnings.filter((warning) => warning.includes('retry')), []);
  });

  it("router_settings.allowed_fails_policy (LiteLLM's names) loads as allowed failures by class, without a warning", () => {
    const config = parseConfig(
      'model_list: []\nrouter_settings:\n  allowed_fails_policy: {BadRequestErrorAllowedFails: 1000, AuthenticationErrorAllowedFails: 10, TimeoutErrorAllowedFails: 12, RateLimitErrorAllowedFails: 10000, ContentPolicyViolationErrorAllowedFails: 15, InternalServerErrorAllowedFails: 20}\n',
      {},
    );
    assert.deepEqual(config.router.allowedFailsPolicy, { badRequest: 1000, authentication: 10, timeout: 12, rateLimit: 10000, contentPolicy: 15, internalServer: 20 });
    assert.deepEqual(config.warnings.filter((warning) => warning.includes('allowed_fails')), []);
    assert.equal(parseConfig('model_list: []\n', {}).router.allowedFailsPolicy, undefined);
    assert.throws(() => parseConfig('model_list: []\nrouter_settings:\n  allowed_fails_policy: {RateLimitErrorAllowedFails: -1}\n', {}), /allowed_fails_policy\.RateLimitErrorAllowedFails/);
  });

  it("router_settings' disable_cooldowns, max_fallbacks (default 5, LiteLLM's) and stream_timeout (for deployments without their own) load without a warning", () => {
    const config = parseConfig(
      'model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\n  - {model_name: b, litellm_params: {model: openai/n, stream_timeout: 5}}\nrouter_settings: {disable_cooldowns: true, max_fallbacks: 2, stream_timeout: 30, retry_after: 2}\n',
      {},
    );
    assert.equal(config.router.disableCooldowns, true);
    assert.equal(config.router.maxFallbacks, 2);
    assert.equal(config.router.retryAfterMs, 2_000);
    assert.deepEqual(config.deployments.map((deployment) => deployment.streamTimeoutMs), [30_000, 5_000]);
    assert.deepEqual(config.warnings, []);
    const plain = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\n', {});
    assert.equal(plain.router.disableCooldowns, false);
    assert.equal(plain.router.maxFallbacks, 5);
    assert.equal(plain.deployments[0].streamTimeoutMs, undefined);
  });

  it("litellm_settings.set_verbose asks for debug logs; json_logs is accepted (Portico's logs are JSON lines), false warned about", () => {
    const verbose = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\nlitellm_settings: {set_verbose: true, json_logs: true}\ngeneral_settings: {json_logs: true}\n', {});
    assert.equal(verbose.logLevel, 'debug');
    assert.deepEqual(verbose.warnings, []);
    const quiet = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\nlitellm_settings: {set_verbose: false, json_logs: false}\n', {});
    assert.equal(quiet.logLevel, undefined);
    assert.deepEqual(quiet.warnings, ["litellm_settings.json_logs: false: Portico's logs are JSON lines whatever it says"]);
  });

  it("general_settings.background_health_checks with health_check_interval (LiteLLM's default 300 s) load without a warning", () => {
    const on = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\ngeneral_settings: {background_health_checks: true, health_check_interval: 60}\n', {});
    assert.deepEqual(on.server.backgroundHealthChecks, { intervalMs: 60_000 });
    assert.deepEqual(on.warnings, []);
    assert.deepEqual(parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\ngeneral_settings: {background_health_checks: true}\n', {}).server.backgroundHealthChecks, { intervalMs: 300_000 });
    assert.equal(parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/m}}\n', {}).server.backgroundHealthChecks, undefined);
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
