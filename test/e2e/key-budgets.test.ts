/**
 * Issue 12, a key's budget (LiteLLM `/key/generate` `max_budget`, `soft_budget`,
 * `budget_duration`): the key's spend (the ledger's, priced from the deployment) reaching
 * `max_budget` stops its model requests and batch creates with LiteLLM's 400 `budget_exceeded` in
 * OpenAI's envelope; the master key and other keys go on; when the period ends the spend goes
 * back to 0 and the key works again. On SQLite and PostgreSQL, through the `openai` SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const MASTER_KEY = 'sk-budgets-master-0123456789';

const CONFIG = `
model_list:
  - model_name: priced
    litellm_params:
      model: mock/priced
    model_info:
      input_cost_per_token: 0.001
      output_cost_per_token: 0.001
general_settings:
  master_key: ${MASTER_KEY}
  user_api_key_cache_ttl: 0.1
`;

async function chat(client: OpenAI) {
  return client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'a question long enough to cost something' }] });
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`key budgets [${dialect}]`, () => {
    let portico: PorticoUnderTest;
    before(async () => {
      portico = await startPortico(CONFIG, { dialect });
    });
    after(async () => portico?.close());

    test('a key reaching max_budget is refused as LiteLLM refuses it, for chat and batch creates; others go on; the period ends and it works again', async () => {
      const generated = await portico.generateKey({ max_budget: 0.05, soft_budget: 0.02, budget_duration: '30d' });
      assert.equal(generated.max_budget, 0.05);
      assert.equal(generated.soft_budget, 0.02);
      assert.equal(generated.budget_duration, '30d');
      assert.match(String(generated.budget_reset_at), /^\d{4}-\d\d-\d\dT/);
      const client = portico.client(generated.key);
      let refused: unknown;
      let answered = 0;
      for (let i = 0; i < 60 && refused === undefined; i++) {
        try {
          await chat(client);
          answered += 1;
        } catch (error) {
          refused = error;
        }
        // The ledger writes spend by group commit; the key is read again after its cache lifetime.
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      assert.ok(refused instanceof OpenAI.APIError, `never refused after ${answered} answers`);
      assert.ok(answered >= 1, 'the key worked until its budget was used');
      assert.equal(refused.status, 400);
      assert.equal(refused.type, 'budget_exceeded');
      assert.equal(refused.code, '400');
      assert.match((refused.error as { message: string }).message, /^Budget has been exceeded! Current cost: [\d.e-]+, Max budget: 0\.05$/);

      const info = (await (await portico.fetch(`/key/info?key=${encodeURIComponent(generated.key)}`)).json()) as { info: { spend: number; max_budget: number } };
      assert.ok(info.info.spend >= 0.05, `spend ${info.info.spend}`);
      assert.equal(info.info.max_budget, 0.05);

      // A batch create is refused too (the upload itself is not a model request).
      const line = JSON.stringify({ custom_id: 'r1', method: 'POST', url: '/v1/chat/completions', body: { model: 'priced', messages: [{ role: 'user', content: 'x' }] } });
      const file = await client.files.create({ file: await toFile(Buffer.from(line), 'in.jsonl'), purpose: 'batch' });
      await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), (error: unknown) => {
        assert.ok(error instanceof OpenAI.APIError);
        assert.equal(error.status, 400);
        assert.equal(error.type, 'budget_exceeded');
        return true;
      });

      // Others are not affected.
      await chat(portico.client());
      await chat(portico.client((await portico.generateKey({})).key));

      // The period ends (as 30 days later): the spend goes back to 0 and the key works again.
      const keyRow = await portico.services.database.kysely.selectFrom('api_keys').select('id').where('key_alias', 'is', null).where('max_budget', '=', 0.05).executeTakeFirstOrThrow();
      await portico.services.database.kysely.updateTable('api_keys').set({ budget_reset_at: Math.floor(Date.now() / 1000) - 1 }).where('id', '=', keyRow.id).execute();
      const resetJob = portico.jobs.all.find((job) => job.name === 'key-budget-reset')!;
      await resetJob.runOnce();
      const after = await portico.services.database.kysely.selectFrom('api_keys').select(['spend', 'budget_reset_at']).where('id', '=', keyRow.id).executeTakeFirstOrThrow();
      assert.equal(Number(after.spend), 0);
      assert.ok(Number(after.budget_reset_at) > Date.now() / 1000 + 29 * 86_400, 'the next reset is a period later');
      let worked = false;
      for (let i = 0; i < 40 && !worked; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        worked = await chat(client).then(
          () => true,
          () => false,
        );
      }
      assert.ok(worked, 'the key works again after its budget reset');
    });

    test('budget fields are validated: a negative budget or a bad duration is a 400 naming the field', async () => {
      const bad = await portico.fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ max_budget: -1 }) });
      assert.equal(bad.status, 400);
      assert.match(((await bad.json()) as { error: { message: string } }).error.message, /max_budget/);
      const duration = await portico.fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ max_budget: 1, budget_duration: 'soon' }) });
      assert.equal(duration.status, 400);
      assert.match(((await duration.json()) as { error: { message: string } }).error.message, /budget_duration/);
    });
  });
}
