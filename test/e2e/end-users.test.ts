/**
 * End users (customers), as LiteLLM's proxy holds them back: `litellm_settings.max_end_user_budget`
 * gives each end user a request names (OpenAI's `user`, or LiteLLM's end-user headers) a budget,
 * counted from the spend ledger; past it, their requests get LiteLLM's 400 `budget_exceeded`,
 * whatever the key; other end users, and requests that name none, are not held back. LiteLLM's
 * `/customer/*` API gives a customer a budget of its own (over `budget_duration` periods) or
 * blocks it; its spend is shown from the ledger.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

for (const dialect of ['sqlite', 'postgres'] as const) describe(`end users and customers [${dialect}]`, () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(`
model_list:
  - {model_name: gpt, litellm_params: {model: mock/gpt}, model_info: {input_cost_per_token: 0.001, output_cost_per_token: 0.001}}
litellm_settings:
  max_end_user_budget: 0.01
general_settings:
  master_key: sk-end-user-budget-master-0123
  user_api_key_cache_ttl: 0.05
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`, { dialect });
  });
  after(() => portico.close());

  const chat = (extra: Record<string, unknown>, headers: Record<string, string> = {}) =>
    portico.client().chat.completions.create({ model: 'gpt', messages: [{ role: 'user', content: 'spend some tokens here' }], ...extra } as never, { headers });

  it('refuses an end user once their recorded spend reached the budget, in LiteLLM’s words; others go on', async () => {
    assert.deepEqual(portico.config.warnings, []);
    // One answer costs more than the budget (over ten tokens at $0.001).
    await chat({ user: 'alice' });
    await portico.services.spend!.ledger.flushAll();
    await new Promise((resolve) => setTimeout(resolve, 80));
    const refused = await chat({ user: 'alice' }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError);
    assert.equal((refused.error as { type: string }).type, 'budget_exceeded');
    assert.match(refused.message, /^400 ExceededBudget: End User=alice over budget\. Spend=0\.0\d+, Budget=0\.01$/);
    // The same end user named by LiteLLM's header.
    const byHeader = await chat({}, { 'x-litellm-end-user-id': 'alice' }).catch((error: unknown) => error);
    assert.ok(byHeader instanceof OpenAI.BadRequestError);
    // Someone else, and a request for no one, are served.
    assert.ok((await chat({ user: 'bob' })).choices[0].message.content);
    assert.ok((await chat({})).choices[0].message.content);
  });

  it('/customer/*: a customer’s own budget replaces the default, a blocked one is refused, and each shows its spend', async () => {
    const admin = (path: string, body?: unknown) =>
      portico.fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const created = await admin('/customer/new', { user_id: 'carol', alias: 'Carol', max_budget: 1, budget_duration: '30d', metadata: { plan: 'pro' } });
    assert.equal(created.status, 200);
    const carol = (await created.json()) as Record<string, any>;
    assert.equal(carol.user_id, 'carol');
    assert.equal(carol.spend, 0);
    assert.equal(carol.litellm_budget_table.max_budget, 1);
    assert.equal(typeof carol.litellm_budget_table.budget_reset_at, 'string');
    assert.equal((await admin('/customer/new', { user_id: 'carol' })).status, 409);
    assert.equal((await admin('/customer/new', { user_id: 'x', allowed_model_region: 'eu' })).status, 400, 'a field Portico does not implement is refused, not ignored');
    // Carol's own budget (1 USD) is above the default (0.01): two answers later she is still served.
    await chat({ user: 'carol' });
    await portico.services.spend!.ledger.flushAll();
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.ok((await chat({ user: 'carol' })).choices[0].message.content);
    await portico.services.spend!.ledger.flushAll();
    const info = (await (await admin('/customer/info?end_user_id=carol')).json()) as { spend: number; alias: string; metadata: unknown };
    assert.ok(info.spend > 0.01, String(info.spend));
    assert.deepEqual([info.alias, info.metadata], ['Carol', { plan: 'pro' }]);
    // Lowered to what she spent: refused at once on this instance.
    assert.equal((await admin('/customer/update', { user_id: 'carol', max_budget: 0.001 })).status, 200);
    const overBudget = await chat({ user: 'carol' }).catch((error: unknown) => error);
    assert.ok(overBudget instanceof OpenAI.BadRequestError);
    // Blocking a customer that was never created creates it blocked, as LiteLLM's does.
    const blocked = (await (await admin('/customer/block', { user_ids: ['dave'] })).json()) as { blocked_users: Array<{ user_id: string; blocked: boolean }> };
    assert.deepEqual(blocked.blocked_users.map((customer) => [customer.user_id, customer.blocked]), [['dave', true]]);
    const refused = await chat({ user: 'dave' }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.PermissionDeniedError);
    assert.equal((refused.error as { code: string }).code, 'end_user_blocked');
    assert.equal((await admin('/end_user/unblock', { user_ids: ['dave'] })).status, 200);
    assert.ok((await chat({ user: 'dave' })).choices[0].message.content);
    const list = (await (await admin('/customer/list')).json()) as Array<{ user_id: string }>;
    assert.deepEqual(list.map((customer) => customer.user_id), ['carol', 'dave']);
    assert.equal((await admin('/customer/delete', { user_ids: ['carol', 'nobody'] })).status, 404);
    assert.equal((await admin('/customer/delete', { user_ids: ['carol', 'dave'] })).status, 200);
    assert.equal((await admin('/customer/info?end_user_id=carol')).status, 404);
    // Customer routes take the master key only.
    const { key } = await portico.generateKey({});
    assert.equal((await portico.fetch('/customer/list', { apiKey: key })).status, 403);
  });
});
