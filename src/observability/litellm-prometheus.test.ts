import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { Deployment } from '../spec/provider.ts';
import { LiteLLMPrometheusMetrics } from './litellm-prometheus.ts';

describe('LiteLLM’s Prometheus metrics', () => {
  it('labels a deployment by its api_base without credentials or query string', async () => {
    const registry = new Registry();
    const deployment = { id: 'd1', modelGroup: 'gpt', providerName: 'openai', upstreamModel: 'gpt-4o', apiBase: 'https://user:pass@example.test/v1/?api-key=secret' } as unknown as Deployment;
    const metrics = new LiteLLMPrometheusMetrics(registry, { masterKey: 'sk-master', deployment: () => deployment, cooldownEnd: () => undefined });
    metrics.observeAttempt('d1', undefined, undefined);
    const text = await registry.metrics();
    assert.match(text, /litellm_deployment_state\{litellm_model_name="gpt-4o",model_id="d1",api_base="https:\/\/example.test\/v1",api_provider="openai"\} 0/);
    assert.doesNotMatch(text, /secret|pass/);
  });

  it('counts a cooldown once however many failures see it, and marks the deployment cooling (2)', async () => {
    const registry = new Registry();
    const deployment = { id: 'd1', modelGroup: 'gpt', providerName: 'openai', upstreamModel: 'gpt-4o' } as unknown as Deployment;
    let end: number | undefined;
    const metrics = new LiteLLMPrometheusMetrics(registry, { masterKey: undefined, deployment: () => deployment, cooldownEnd: () => end });
    metrics.observeAttempt('d1', undefined, { status: 500 });
    await new Promise((resolve) => setImmediate(resolve));
    assert.match(await registry.metrics(), /litellm_deployment_state\{[^}]*\} 1/);
    end = 1_000;
    for (let i = 0; i < 3; i += 1) {
      metrics.observeAttempt('d1', undefined, { status: 503 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    const text = await registry.metrics();
    assert.match(text, /litellm_deployment_state\{[^}]*\} 2/);
    assert.match(text, /litellm_deployment_cooled_down_total\{[^}]*exception_status="503"\} 1/);
    assert.match(text, /litellm_deployment_failure_responses_total\{[^}]*exception_status="503",exception_class="ServiceUnavailableError"[^}]*\} 3/);
  });
  it('leaves end_user None unless enable_end_user_cost_tracking_prometheus_only is on, as LiteLLM does', async () => {
    for (const endUsers of [false, true]) {
      const registry = new Registry();
      const metrics = new LiteLLMPrometheusMetrics(registry, { masterKey: 'sk-master', deployment: () => undefined, cooldownEnd: () => undefined, endUsers });
      metrics.observeRequest({ principal: null, modelGroup: 'gpt', endUser: 'customer-7', deploymentId: null }, 200, 0.1, 0.05);
      assert.match(await registry.metrics(), new RegExp(`litellm_proxy_total_requests_metric_total\\{end_user="${endUsers ? 'customer-7' : 'None'}"`));
    }
  });
});
