/**
 * LiteLLM's `litellm_settings.max_end_user_budget`: each end user a request names (OpenAI's `user`,
 * or LiteLLM's end-user headers) may spend so much, counted from the spend ledger; past it, their
 * requests get LiteLLM's 400 `budget_exceeded`, whatever the key; other end users, and requests
 * that name none, are not held back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

describe('max_end_user_budget', () => {
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
`);
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
});
