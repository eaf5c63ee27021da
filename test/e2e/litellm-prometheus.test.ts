/**
 * LiteLLM's Prometheus metrics (`litellm_settings.callbacks: ["prometheus"]`) on `/metrics`, under
 * LiteLLM's names and labels, as a dashboard built on LiteLLM's proxy queries them: requests and
 * failures per key, team and model group, latency, spend and tokens, the key's and team's
 * remaining budget, and per deployment its successes, failures, state and cooldowns. Without the
 * callback none of them exists; `require_auth_for_metrics_endpoint: false` opens `/metrics`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-litellm-prometheus-master-0123';

/** The samples of one metric: each its labels and value. */
function samples(exposition: string, name: string): Array<{ labels: Record<string, string>; value: number }> {
  const found: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    const labels: Record<string, string> = {};
    for (const match of labelText.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[match[1]] = match[2];
    found.push({ labels, value: Number(line.slice(line.lastIndexOf(' ') + 1)) });
  }
  return found;
}

/** The one sample whose labels include `match`. */
function sample(exposition: string, name: string, match: Record<string, string>): { labels: Record<string, string>; value: number } {
  const matching = samples(exposition, name).filter((entry) => Object.entries(match).every(([label, value]) => entry.labels[label] === value));
  assert.equal(matching.length, 1, `${name} ${JSON.stringify(match)}: ${JSON.stringify(samples(exposition, name))}`);
  return matching[0];
}

describe('LiteLLM’s Prometheus metrics', () => {
  let upstream: OpenAISimulator;
  let flaky: OpenAISimulator;
  let portico: PorticoUnderTest;

  before(async () => {
    [upstream, flaky] = await Promise.all([startOpenAISimulator(), startOpenAISimulator()]);
    portico = await startPortico(`
model_list:
  - {model_name: gpt, litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}, model_info: {id: gpt-main, input_cost_per_token: 0.001, output_cost_per_token: 0.002}}
  - {model_name: flaky, litellm_params: {model: openai/gpt-4o, api_base: "${flaky.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, max_retries: 0}, model_info: {id: flaky-one}}
litellm_settings:
  callbacks: ["prometheus"]
  require_auth_for_metrics_endpoint: false
  enable_end_user_cost_tracking_prometheus_only: true
router_settings:
  allowed_fails: 1
  cooldown_time: 60
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`);
  });
  after(async () => {
    await portico.close();
    await Promise.all([upstream.close(), flaky.close()]);
  });

  it('counts requests, failures, latency, spend, tokens and budgets by key, team and model group; deployments by their success, failure, state and cooldowns', async () => {
    const team = (await (await portico.fetch('/team/new', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ team_alias: 'research', max_budget: 10 }) })).json()) as { team_id: string };
    const { key } = await portico.generateKey({ key_alias: 'ci-key', team_id: team.team_id, max_budget: 5 });
    const hashed = createHash('sha256').update(key).digest('hex');
    const client = portico.client(key);
    const answer = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'count me' }], user: 'customer-7' });
    upstream.failNext({ status: 400 });
    const refused = await client.chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'refused' }] }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError);
    // The flaky deployment fails with 500 (no retries): the first failure starts a cooldown
    // (allowed_fails: 1); the second request still tries it, the group's only deployment.
    flaky.failNext({ status: 500, count: 2 });
    for (let i = 0; i < 2; i += 1) await portico.client().chat.completions.create({ model: 'flaky', messages: [{ role: 'user', content: 'x' }] }).catch(() => undefined);
    await portico.services.spend!.ledger.flushAll();
    await new Promise((resolve) => setImmediate(resolve));

    // Open: `require_auth_for_metrics_endpoint: false`.
    const response = await portico.fetch('/metrics', { apiKey: null });
    assert.equal(response.status, 200);
    const text = await response.text();
    const caller = { hashed_api_key: hashed, api_key_alias: 'ci-key', requested_model: 'gpt', team: team.team_id, team_alias: 'research', end_user: 'None', user: 'None' };
    assert.equal(sample(text, 'litellm_proxy_total_requests_metric_total', { ...caller, end_user: 'customer-7', status_code: '200' }).value, 1);
    assert.equal(sample(text, 'litellm_proxy_total_requests_metric_total', { ...caller, status_code: '400' }).value, 1);
    assert.equal(sample(text, 'litellm_proxy_failed_requests_metric_total', { ...caller, exception_status: '400', exception_class: 'BadRequestError' }).value, 1);
    assert.equal(sample(text, 'litellm_request_total_latency_metric_count', { ...caller, end_user: 'customer-7', model: 'gpt-4o-mini' }).value, 1);
    assert.equal(sample(text, 'litellm_llm_api_latency_metric_count', { ...caller, end_user: 'customer-7', model: 'gpt-4o-mini' }).value, 1);

    const spender = { hashed_api_key: hashed, api_key_alias: 'ci-key', team: team.team_id, team_alias: 'research', model: 'gpt-4o-mini', end_user: 'customer-7', user: 'None' };
    const usage = answer.usage!;
    const cost = usage.prompt_tokens * 0.001 + usage.completion_tokens * 0.002;
    assert.ok(Math.abs(sample(text, 'litellm_spend_metric_total', spender).value - cost) < 1e-9);
    assert.equal(sample(text, 'litellm_total_tokens_metric_total', { ...spender, requested_model: 'gpt' }).value, usage.total_tokens);
    assert.equal(sample(text, 'litellm_input_tokens_metric_total', { ...spender, requested_model: 'gpt' }).value, usage.prompt_tokens);
    assert.equal(sample(text, 'litellm_output_tokens_metric_total', { ...spender, requested_model: 'gpt' }).value, usage.completion_tokens);
    assert.equal(sample(text, 'litellm_requests_metric_total', spender).value, 1);
    assert.ok(Math.abs(sample(text, 'litellm_remaining_api_key_budget_metric', { hashed_api_key: hashed, api_key_alias: 'ci-key' }).value - (5 - cost)) < 1e-9);
    assert.equal(sample(text, 'litellm_api_key_max_budget_metric', { hashed_api_key: hashed }).value, 5);
    assert.ok(Math.abs(sample(text, 'litellm_remaining_team_budget_metric', { team: team.team_id, team_alias: 'research' }).value - (10 - cost)) < 1e-9);
    assert.equal(sample(text, 'litellm_team_max_budget_metric', { team: team.team_id }).value, 10);

    const main = { litellm_model_name: 'gpt-4o-mini', model_id: 'gpt-main', api_provider: 'openai', api_base: upstream.url };
    assert.equal(sample(text, 'litellm_deployment_success_responses_total', { ...main, requested_model: 'gpt', hashed_api_key: hashed }).value, 1);
    assert.equal(sample(text, 'litellm_deployment_failure_responses_total', { ...main, exception_status: '400' }).value, 1);
    assert.equal(sample(text, 'litellm_deployment_total_requests_total', { ...main, hashed_api_key: hashed }).value, 2);
    // The last attempt failed (a 400), as LiteLLM marks it: a partial outage.
    assert.equal(sample(text, 'litellm_deployment_state', main).value, 1);
    const flakyLabels = { litellm_model_name: 'gpt-4o', model_id: 'flaky-one', api_provider: 'openai', api_base: flaky.url };
    assert.equal(sample(text, 'litellm_deployment_state', flakyLabels).value, 2, 'cooling down');
    // Each failure that (re)starts its cooldown counts, as LiteLLM counts every cooldown its router sets.
    assert.equal(sample(text, 'litellm_deployment_cooled_down_total', { ...flakyLabels, exception_status: '500' }).value, 2);
    assert.equal(sample(text, 'litellm_deployment_failure_responses_total', { model_id: 'flaky-one', exception_status: '500', exception_class: 'InternalServerError', hashed_api_key: createHash('sha256').update(MASTER_KEY).digest('hex') }).value, 2);
    // Portico's own metrics are still there.
    assert.match(text, /^portico_requests_total\{/m);
  });

  it('does not count a request refused for its key', async () => {
    const before = samples(await (await portico.fetch('/metrics', { apiKey: null })).text(), 'litellm_proxy_total_requests_metric_total').reduce((sum, entry) => sum + entry.value, 0);
    const refused = await portico.client('sk-not-a-key').chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.AuthenticationError);
    const afterRefusal = samples(await (await portico.fetch('/metrics', { apiKey: null })).text(), 'litellm_proxy_total_requests_metric_total').reduce((sum, entry) => sum + entry.value, 0);
    assert.equal(afterRefusal, before);
  });
});

describe('without the prometheus callback', () => {
  let upstream: OpenAISimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    upstream = await startOpenAISimulator();
    portico = await startPortico(`
model_list:
  - {model_name: gpt, litellm_params: {model: openai/gpt-4o-mini, api_base: "${upstream.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
general_settings:
  master_key: ${MASTER_KEY}
`);
  });
  after(async () => {
    await portico.close();
    await upstream.close();
  });

  it('has none of LiteLLM’s metrics, and /metrics takes the master key', async () => {
    await portico.client().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'x' }] });
    assert.equal((await portico.fetch('/metrics', { apiKey: null })).status, 401);
    const text = await (await portico.fetch('/metrics')).text();
    assert.doesNotMatch(text, /^litellm_/m);
    assert.match(text, /^portico_requests_total\{/m);
  });
});
