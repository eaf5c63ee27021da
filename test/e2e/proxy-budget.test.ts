/**
 * LiteLLM's proxy budget (`litellm_settings.max_budget`, `budget_duration`): once the spend of
 * every key together is above it, every key's model requests are refused with LiteLLM's 400
 * `budget_exceeded`, a key that never spent included, and so are its batch creates; the master
 * key is still served, and so is `/v1/models`. Through the `openai` SDK, spend flowing through the ledger.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { eventually, isBudgetExceeded } from '../helpers/budget-assertions.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const MASTER_KEY = 'sk-proxy-budget-master-0123';

let portico: PorticoUnderTest;

before(async () => {
  portico = await startPortico(`
model_list:
  - model_name: priced
    litellm_params: { model: mock/priced }
    model_info: { input_cost_per_token: 0.001, output_cost_per_token: 0.001 }
general_settings:
  master_key: ${MASTER_KEY}
  user_api_key_cache_ttl: 0.1
litellm_settings:
  max_budget: 0.05
  budget_duration: 30d
`);
});

after(async () => {
  await portico?.close();
});

const chat = (client: OpenAI) => client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'a question long enough to cost something' }] });

test('the whole proxy over its max_budget: every key\'s model requests and batch creates are refused with budget_exceeded, the master key and /v1/models are not', async () => {
  const spender = portico.client((await portico.generateKey({})).key);
  const bystanderKey = (await portico.generateKey({})).key;
  let answered = 0;
  let refused: unknown;
  for (let i = 0; i < 60 && refused === undefined; i++) {
    try {
      await chat(spender);
      answered += 1;
      await new Promise((resolve) => setTimeout(resolve, 150));
    } catch (error) {
      refused = error;
    }
  }
  assert.ok(answered >= 1, 'served while under the budget');
  isBudgetExceeded(refused, /^Budget has been exceeded! Current cost: [0-9.]+, Max budget: 0\.05$/);
  const cost = Number(/Current cost: ([0-9.]+)/.exec(((refused as InstanceType<typeof OpenAI.APIError>).error as { message: string }).message)?.[1]);
  assert.ok(cost > 0.05, `refused only above the budget (${cost})`);

  // A key that never spent is refused too: the budget is the proxy's.
  await assert.rejects(chat(portico.client(bystanderKey)), (error: unknown) => isBudgetExceeded(error, /^Budget has been exceeded!/));
  // The master key is served, as in LiteLLM; listing models is not a model call.
  assert.equal((await chat(portico.client(MASTER_KEY))).object, 'chat.completion');
  const models = await portico.fetch('/v1/models', { apiKey: bystanderKey });
  assert.equal(models.status, 200);
  // LiteLLM's /global/spend answers the budget beside the spend.
  const global = (await (await portico.fetch('/global/spend')).json()) as { spend: number; max_budget: number | null };
  assert.equal(global.max_budget, 0.05);
  assert.ok(global.spend > 0.05, `the proxy's spend is above its budget (${global.spend})`);
  // A batch's create is held to it too, as LiteLLM's check covers its batch routes.
  const file = await portico.client(bystanderKey).files.create({
    file: await toFile(Buffer.from(JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'priced', messages: [{ role: 'user', content: 'q' }] } }) + '\n'), 'in.jsonl'),
    purpose: 'batch',
  });
  await assert.rejects(
    portico.client(bystanderKey).batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    (error: unknown) => isBudgetExceeded(error, /^Budget has been exceeded!/),
  );
  await eventually('still refused after the key cache and the sum expired', () => chat(spender).then(() => false, (error: unknown) => isBudgetExceeded(error, /^Budget has been exceeded!/)));
});
