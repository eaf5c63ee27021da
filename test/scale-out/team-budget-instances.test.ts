/**
 * Three Portico instances (in-process, each with its own key cache, ledger and limiters) on one
 * PostgreSQL and one Redis, sharing one team: the team's `max_budget` stops the three together
 * (the spend is the database's, read by each with its keys), not after three times the budget;
 * the team's `max_parallel_requests` holds across them (slots in Redis).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import type { PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { useInstancesSharingPostgresAndRedis } from './shared-instances.ts';

const MASTER_KEY = 'sk-team-instances-master-0123456789';
const BUDGET = 0.2;

const config = (simulator: OpenAISimulator) => `
model_list:
  - model_name: priced
    litellm_params: { model: mock/priced }
    model_info: { input_cost_per_token: 0.001, output_cost_per_token: 0.001 }
  - model_name: upstream
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY} }
general_settings:
  master_key: ${MASTER_KEY}
  user_api_key_cache_ttl: 0.1
router_settings:
  num_retries: 0
`;

async function post(instance: PorticoUnderTest, path: string, body: unknown): Promise<Record<string, any>> {
  const response = await instance.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as Record<string, any>;
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

const ask = (client: OpenAI, model = 'priced', options: OpenAI.RequestOptions = {}) =>
  client.chat.completions.create({ model, messages: [{ role: 'user', content: 'a question long enough to cost something' }] }, options);

describe('three instances sharing one team budget (PostgreSQL + Redis)', () => {
  const shared = useInstancesSharingPostgresAndRedis('team-budget', 3, config);
  const { instances } = shared;

  test('the team budget stops all three instances once the team spent it, not three times it', async () => {
    const team = await post(instances[0], '/team/new', { team_alias: 'shared', max_budget: BUDGET });
    // One key per instance, each used only through its own instance.
    const clients = await Promise.all(instances.map(async (instance) => instance.client((await instance.generateKey({ team_id: team.team_id })).key)));
    let answered = 0;
    const refusedBy = new Set<number>();
    for (let round = 0; round < 40 && refusedBy.size < 3; round++) {
      for (let i = 0; i < 3; i++) {
        if (refusedBy.has(i)) continue;
        try {
          await ask(clients[i]);
          answered += 1;
        } catch (error) {
          assert.ok(error instanceof OpenAI.APIError && error.type === 'budget_exceeded', String(error));
          refusedBy.add(i);
        }
      }
      // The ledgers write by group commit; keys (with their team's spend) are read again after 0.1 s.
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(refusedBy.size, 3, 'every instance refuses the team once its budget is spent');
    await Promise.all(instances.map((instance) => instance.services.spend?.ledger.flushAll()));
    const info = await (await instances[1].fetch(`/team/info?team_id=${team.team_id}`)).json() as { team_info: { spend: number } };
    const spend = info.team_info.spend;
    assert.ok(spend >= BUDGET, `spend ${spend} reached the budget`);
    // Each instance may overshoot by what it answers while its cached team spend is stale (the
    // ledger's flush interval plus the key cache's TTL): a few cents, never another budget.
    assert.ok(spend < 2 * BUDGET, `spend ${spend} after ${answered} answers: the three instances spent more than the budget again`);
  });

  test("the team's max_parallel_requests holds across instances, and the slot frees when the client gives up", async () => {
    const team = await post(instances[0], '/team/new', { team_alias: 'narrow', max_parallel_requests: 1 });
    const keys = await Promise.all(instances.map((instance) => instance.generateKey({ team_id: team.team_id })));
    shared.simulator().slowNext({ ms: 10_000, match: { path: /chat\/completions/ } });
    const seen = shared.simulator().requests.length;
    const abort = new AbortController();
    const hanging = ask(instances[0].client(keys[0].key), 'upstream', { signal: abort.signal }).catch((error: unknown) => error);
    for (let i = 0; i < 50 && !shared.simulator().requests.slice(seen).some((r) => r.path.endsWith('/chat/completions')); i++) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const i of [1, 2]) {
      await assert.rejects(ask(instances[i].client(keys[i].key)), (error: unknown) => {
        assert.ok(error instanceof OpenAI.RateLimitError);
        assert.match((error.error as { message: string }).message, new RegExp(`Hit limit for team: ${team.team_id}`));
        return true;
      });
    }
    abort.abort();
    await hanging;
    let freed = false;
    for (let i = 0; i < 50 && !freed; i++) {
      freed = await ask(instances[2].client(keys[2].key)).then(() => true, () => false);
      if (!freed) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(freed, 'the slot taken through the first instance was given back');
  });
});
