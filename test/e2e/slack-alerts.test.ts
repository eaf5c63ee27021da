/**
 * LiteLLM's Slack alerting (`general_settings.alerting: ["slack"]`), end to end: Portico in front
 * of the OpenAI simulator posts to the Slack incoming-webhook simulator (proven with
 * `@slack/webhook`): an upstream failure (`llm_exceptions`), once a minute per model group and
 * status, a request slower than `alerting_threshold` (`llm_too_slow`), each type to the webhook
 * `alert_to_webhook_url` names or `SLACK_WEBHOOK_URL`; a webhook that refuses never changes a
 * client's answer. Then how the config is read.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { parseConfig } from '../../src/config/load-config.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { type SlackSimulator, startSlackSimulator } from '../simulators/slack-simulator.ts';

async function until(what: string, condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Slack alerts', () => {
  let slack: SlackSimulator;
  let openai: OpenAISimulator;
  let portico: PorticoUnderTest;
  let channel: string;
  let slowChannel: string;
  before(async () => {
    [slack, openai] = await Promise.all([startSlackSimulator(), startOpenAISimulator()]);
    channel = slack.newWebhookUrl();
    slowChannel = slack.newWebhookUrl();
    portico = await startPortico(
      `
model_list:
  - {model_name: primary, litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
router_settings:
  num_retries: 0
general_settings:
  master_key: sk-slack-alerts-master-0123456789
  alerting: ["slack"]
  alerting_threshold: 0.25
  alert_to_webhook_url:
    llm_too_slow: "${slowChannel}"
`,
      { env: { ...process.env, SLACK_WEBHOOK_URL: channel } },
    );
  });
  after(async () => {
    await portico.close();
    await Promise.all([slack.close(), openai.close()]);
  });

  const messagesTo = (url: string) => slack.messages.filter((message) => message.path === new URL(url).pathname).map((message) => message.text ?? '');
  const chat = () => portico.client(undefined, { maxRetries: 0 }).chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hello' }] });

  it('posts an upstream failure once per model group and status within a minute, in LiteLLM’s layout', async () => {
    openai.failNext({ status: 500, count: 3 });
    for (let i = 0; i < 3; i += 1) await assert.rejects(chat(), OpenAI.InternalServerError);
    await until('the alert arrived', () => messagesTo(channel).length >= 1);
    openai.failNext({ status: 429, count: 1, headers: { 'retry-after-ms': '1' } });
    await assert.rejects(chat(), OpenAI.RateLimitError);
    await until('the 429 alert arrived', () => messagesTo(channel).length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const [failure, limited, ...rest] = messagesTo(channel);
    assert.deepEqual(rest, [], 'the same failure again within a minute is not posted again');
    assert.match(failure, /^Level: `High`\nTimestamp: `\d{4}-\d\d-\d\dT[^`]+`\n\nMessage: A request to `primary` failed with 500/);
    assert.match(limited, /^Level: `Medium`[^]*failed with 429/);
    assert.ok(!failure.includes(OPENAI_SIMULATOR_API_KEY), 'no upstream key in an alert');
    assert.deepEqual(messagesTo(slowChannel), []);
  });

  it('posts a request slower than alerting_threshold to its own webhook', async () => {
    openai.setLatency(400);
    try {
      const answer = await chat();
      assert.equal(answer.choices[0].message.content, 'hello');
    } finally {
      openai.setLatency(0);
    }
    await until('the slow alert arrived', () => messagesTo(slowChannel).length === 1);
    assert.match(messagesTo(slowChannel)[0], /^Level: `Low`[^]*A request to `primary` took 0\.\d s, over the alerting_threshold of 0\.25 s/);
  });

  it('a webhook that refuses changes nothing for the client, and is logged', async () => {
    const refusing = await startPortico(
      `
model_list:
  - {model_name: primary, litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
router_settings: {num_retries: 0}
general_settings:
  master_key: sk-slack-alerts-master-0123456789
  alerting: ["slack"]
`,
      { env: { ...process.env, SLACK_WEBHOOK_URL: `${slack.origin}/services/T0/B0/gone` } },
    );
    try {
      openai.failNext({ status: 503, count: 1 });
      const error = await refusing.client(undefined, { maxRetries: 0 }).chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'x' }] }).catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.APIError && error.status === 503);
      await until('the failed post was logged', () => refusing.logs.some((line) => line.msg === 'a Slack alert could not be posted'));
    } finally {
      await refusing.close();
    }
  });

  it('posts a database that does not answer (db_exceptions): here a PostgreSQL pool held busy past database_connection_timeout', async () => {
    const dbChannel = slack.newWebhookUrl();
    const onPostgres = await startPortico(
      `
model_list:
  - {model_name: primary, litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
general_settings:
  master_key: sk-slack-alerts-master-0123456789
  alerting: ["slack"]
  alert_types: [db_exceptions]
  database_connection_pool_limit: 2
  database_connection_timeout: 0.2
`,
      { dialect: 'postgres', env: { ...process.env, SLACK_WEBHOOK_URL: dbChannel } },
    );
    try {
      const { sql } = await import('kysely');
      const holders = [0, 1].map(() => sql`select pg_sleep(1)`.execute(onPostgres.services.database.kysely));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const error = await onPostgres.client(undefined, { maxRetries: 0 }).files.list().catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.APIError && error.status === 503, String(error));
      await Promise.all(holders);
      await until('the database alert arrived', () => messagesTo(dbChannel).length === 1);
      assert.match(messagesTo(dbChannel)[0], /^Level: `High`[^]*The database did not answer \(request [^,]+, GET \/v1\/files\)/);
    } finally {
      await onPostgres.close();
    }
  });

  it('posts budget_alerts through the webhook outbox: a key over its max_budget, as a Slack message', async () => {
    const budgetChannel = slack.newWebhookUrl();
    const budgeted = await startPortico(
      `
model_list:
  - model_name: priced
    litellm_params: {model: mock/priced}
    model_info: {input_cost_per_token: 0.001, output_cost_per_token: 0.002}
general_settings:
  master_key: sk-slack-alerts-master-0123456789
  user_api_key_cache_ttl: 0.1
  alerting: ["slack"]
  alert_types: [budget_alerts]
  alert_to_webhook_url: {budget_alerts: "${budgetChannel}"}
portico_settings:
  spend_logs: {flush_interval_ms: 50}
  webhook_delivery: {retry_first_seconds: 0.05, retry_max_seconds: 0.2, poll_interval_ms: 50}
`,
    );
    try {
      const { key, token } = (await budgeted.generateKey({ max_budget: 0.05, key_alias: 'ci-runner' })) as { key: string; token: string };
      const client = budgeted.client(key, { maxRetries: 0 });
      for (let i = 0; i < 40; i += 1) {
        const refused = await client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'a question long enough to cost something' }] }).then(() => false, () => true);
        if (refused) break;
        await new Promise((resolve) => setTimeout(resolve, 120));
      }
      await until('the budget alert arrived', () => messagesTo(budgetChannel).length === 1, 15_000);
      assert.match(messagesTo(budgetChannel)[0], new RegExp(`^Level: \`High\`[^]*Message: Budget exceeded: key \`ci-runner\` \\(${token}\\) has spent \\$0\\.\\d+, over its max_budget of \\$0\\.050000`));
      assert.ok(!budgeted.logs.some((line) => JSON.stringify(line).includes(new URL(budgetChannel).pathname)), 'the webhook URL (its secret) is not logged');
    } finally {
      await budgeted.close();
    }
  });

  it('reads the LiteLLM settings: channels and types Portico lacks are warned about, a missing webhook turns alerting off', () => {
    const entry = 'model_list: [{model_name: m, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}]\n';
    const config = parseConfig(
      `${entry}general_settings: {alerting: [slack, email], alert_types: [llm_exceptions, daily_reports], alert_to_webhook_url: {llm_exceptions: ["https://hooks.slack.com/services/A/B/C", "https://hooks.slack.com/services/A/B/D"]}}\n`,
      {},
    );
    assert.deepEqual(config.slackAlerts, {
      webhookUrls: { llm_exceptions: ['https://hooks.slack.com/services/A/B/C', 'https://hooks.slack.com/services/A/B/D'] },
      slowThresholdMs: 300_000,
      repeatAfterMs: 60_000,
    });
    assert.deepEqual(config.warnings, [
      'general_settings.alerting[1]: "email" alerts are not sent by Portico (it sends "slack")',
      'general_settings.alert_types[1]: "daily_reports" alerts are not sent by Portico (it sends llm_exceptions, llm_too_slow, db_exceptions, budget_alerts)',
    ]);
    const fromEnv = parseConfig(`${entry}general_settings: {alerting: [slack]}\n`, { SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/X/Y/Z' });
    assert.deepEqual(fromEnv.slackAlerts?.webhookUrls, {
      llm_exceptions: ['https://hooks.slack.com/services/X/Y/Z'],
      llm_too_slow: ['https://hooks.slack.com/services/X/Y/Z'],
      db_exceptions: ['https://hooks.slack.com/services/X/Y/Z'],
    });
    assert.deepEqual(
      fromEnv.webhooks.endpoints.map((endpoint) => [endpoint.url, endpoint.format, endpoint.events]),
      [['https://hooks.slack.com/services/X/Y/Z', 'slack', ['budget.soft_exceeded', 'budget.exceeded']]],
      'budget_alerts go through the webhook outbox',
    );
    const none = parseConfig(`${entry}general_settings: {alerting: [slack]}\n`, {});
    assert.equal(none.slackAlerts, undefined);
    assert.match(none.warnings.join('\n'), /slack: no webhook URL/);
    assert.throws(() => parseConfig(`${entry}general_settings: {alerting: [slack], alert_to_webhook_url: {llm_exceptions: not-a-url}}\n`, {}), /is not an http\(s\) webhook URL/);
  });
});
