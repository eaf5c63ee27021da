/**
 * Issue 12, teams, users and budgets: LiteLLM's `/team/*`, `/user/*`, `/key/update` and
 * `/key/regenerate` with LiteLLM's field names; a team's and a user's `max_budget` stopping the
 * live requests and batch creates of their keys (spend flowing from the ledger to key, user and
 * team) and coming back after `budget_duration`; `max_parallel_requests` refusing a second request
 * while one hangs at the upstream and freeing its slot when the client gives up or a stream ends;
 * `model_max_budget`; a regenerated key's old secret refused at once. On SQLite and PostgreSQL,
 * model calls through the `openai` SDK, admin routes through fetch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { eventually, isBudgetExceeded } from '../helpers/budget-assertions.ts';

const MASTER_KEY = 'sk-teams-master-0123456789';

const config = (simulator: OpenAISimulator) => `
model_list:
  - model_name: priced
    litellm_params: { model: mock/priced }
    model_info: { input_cost_per_token: 0.001, output_cost_per_token: 0.001 }
  - model_name: cheap
    litellm_params: { model: mock/cheap }
    model_info: { input_cost_per_token: 0.000001, output_cost_per_token: 0.000001 }
  - model_name: outside
    litellm_params: { model: mock/outside }
  - model_name: upstream
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY} }
general_settings:
  master_key: ${MASTER_KEY}
  user_api_key_cache_ttl: 0.1
router_settings:
  num_retries: 0
`;

type Json = Record<string, any>;

async function chat(client: OpenAI, model = 'priced', options: OpenAI.RequestOptions = {}) {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: 'a question long enough to cost something' }] }, options);
}

/** Chats until refused (the ledger writes spend by group commit; keys are read again after 0.1 s). */
async function chatUntilRefused(client: OpenAI, model = 'priced'): Promise<{ answered: number; refused: unknown }> {
  let answered = 0;
  for (let i = 0; i < 60; i++) {
    try {
      await chat(client, model);
      answered += 1;
    } catch (error) {
      return { answered, refused: error };
    }
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  return { answered, refused: undefined };
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`teams, users and budgets [${dialect}]`, () => {
    let simulator: OpenAISimulator;
    let portico: PorticoUnderTest;
    const admin = async (path: string, body?: unknown, apiKey?: string): Promise<{ status: number; json: Json }> => {
      const response = await portico.fetch(path, {
        method: body === undefined ? 'GET' : 'POST',
        headers: { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        ...(apiKey !== undefined && { apiKey }),
      });
      return { status: response.status, json: (await response.json()) as Json };
    };
    const ok = async (path: string, body?: unknown): Promise<Json> => {
      const { status, json } = await admin(path, body);
      assert.equal(status, 200, `${path}: ${JSON.stringify(json)}`);
      return json;
    };

    before(async () => {
      simulator = await startOpenAISimulator();
      portico = await startPortico(config(simulator), { dialect });
    });
    after(async () => {
      await portico?.close();
      await simulator?.close();
    });

    test('teams and users: created, read, updated, listed and deleted with LiteLLM fields; members kept on both sides', async () => {
      const team = await ok('/team/new', {
        team_alias: 'research',
        members_with_roles: [{ role: 'admin', user_id: 'ada' }],
        models: ['priced', 'cheap', 'upstream'],
        max_budget: 10,
        soft_budget: 5,
        budget_duration: '30d',
        rpm_limit: 100,
        tpm_limit: 100000,
        max_parallel_requests: 5,
        model_max_budget: { priced: { budget_limit: 1, time_period: '1d' } },
        metadata: { department: 'r&d' },
      });
      const teamId = team.team_id as string;
      assert.match(teamId, /^[0-9a-f-]{36}$/);
      assert.equal(team.team_alias, 'research');
      assert.deepEqual(team.members_with_roles, [{ user_id: 'ada', user_email: null, role: 'admin' }]);
      assert.deepEqual(team.models, ['priced', 'cheap', 'upstream']);
      assert.equal(team.max_budget, 10);
      assert.equal(team.budget_duration, '30d');
      assert.match(String(team.budget_reset_at), /^\d{4}-\d\d-\d\dT/);
      assert.equal(team.spend, 0);
      assert.equal(team.max_parallel_requests, 5);
      assert.deepEqual(team.model_max_budget, { priced: { budget_limit: 1, time_period: '1d' } });
      assert.deepEqual(team.metadata, { department: 'r&d' });
      assert.equal((await admin('/team/new', { team_id: teamId })).status, 409);

      // A member added by id becomes a user of the team (LiteLLM creates the user).
      const ada = await ok('/user/info?user_id=ada');
      assert.deepEqual(ada.user_info.teams, [teamId]);
      assert.equal(ada.user_info.user_role, 'internal_user');

      const grace = await ok('/user/new', { user_id: 'grace', user_email: 'grace@example.com', teams: [teamId], max_budget: 5, budget_duration: '1mo', tpm_limit: 1000 });
      assert.equal(grace.user_id, 'grace');
      assert.equal(grace.user_email, 'grace@example.com');
      assert.deepEqual(grace.teams, [teamId]);
      assert.equal(grace.max_budget, 5);
      assert.match(String(grace.key), /^sk-/, '/user/new mints a key unless auto_create_key is false');
      assert.equal((await chat(portico.client(grace.key as string), 'cheap')).object, 'chat.completion');
      assert.equal((await ok('/user/new', { user_id: 'linus', auto_create_key: false })).key, undefined);

      await ok('/team/member_add', { team_id: teamId, member: { role: 'user', user_id: 'linus' } });
      let info = await ok(`/team/info?team_id=${teamId}`);
      assert.equal(info.team_id, teamId);
      assert.deepEqual(info.team_info.members_with_roles.map((m: Json) => [m.user_id, m.role]), [['ada', 'admin'], ['grace', 'user'], ['linus', 'user']]);
      assert.deepEqual((await ok('/user/info?user_id=linus')).user_info.teams, [teamId]);
      await ok('/team/member_delete', { team_id: teamId, user_id: 'linus' });
      assert.deepEqual((await ok('/user/info?user_id=linus')).user_info.teams, []);

      const updated = await ok('/team/update', { team_id: teamId, team_alias: 'research-2', max_budget: 20, rpm_limit: null });
      assert.equal(updated.team_id, teamId);
      assert.equal(updated.data.team_alias, 'research-2');
      assert.equal(updated.data.max_budget, 20);
      assert.equal(updated.data.rpm_limit, null);
      assert.equal(updated.data.tpm_limit, 100000, 'fields not named stay');
      assert.equal((await ok('/user/update', { user_id: 'grace', max_budget: 7, user_alias: 'G' })).data.max_budget, 7);
      assert.ok(((await ok('/team/list')) as unknown as Json[]).some((listed) => listed.team_id === teamId));

      // A key of the team may use only the team's models.
      const outsider = await admin('/key/generate', { team_id: teamId, models: ['outside'] });
      assert.equal(outsider.status, 400);
      assert.equal(outsider.json.error.param, 'models');
      const teamKey = await portico.generateKey({ team_id: teamId, user_id: 'ada' });
      await assert.rejects(chat(portico.client(teamKey.key), 'outside'), (error: unknown) => error instanceof OpenAI.APIError && error.status === 403);
      const visible = (await portico.client(teamKey.key).models.list()).data.map((model) => model.id).sort();
      assert.deepEqual(visible, ['cheap', 'priced', 'upstream']);
      info = await ok(`/team/info?team_id=${teamId}`);
      assert.deepEqual(info.keys.map((key: Json) => key.token), [teamKey.token]);

      // A blocked team's keys are refused (401) until it is unblocked; the change applies at once.
      await ok('/team/update', { team_id: teamId, blocked: true });
      await assert.rejects(chat(portico.client(teamKey.key), 'cheap'), (error: unknown) => error instanceof OpenAI.AuthenticationError && error.code === 'team_blocked');
      await ok('/team/update', { team_id: teamId, blocked: false });
      assert.equal((await chat(portico.client(teamKey.key), 'cheap')).object, 'chat.completion');

      // Bad input: OpenAI's envelope naming the field; unknown ids 404; a virtual key may not administer.
      const negative = await admin('/team/new', { max_budget: -1 });
      assert.equal(negative.status, 400);
      assert.equal(negative.json.error.param, 'max_budget');
      assert.equal((await admin('/user/new', { user_role: 'emperor' })).json.error.param, 'user_role');
      assert.equal((await admin('/team/info?team_id=nope')).status, 404);
      assert.equal((await admin('/user/update', { user_id: 'nope', max_budget: 1 })).status, 404);
      assert.equal((await admin('/team/new', {}, teamKey.key)).status, 403);

      // Deleting a user or a team deletes their keys (LiteLLM), and takes the user off its teams.
      assert.deepEqual((await ok('/user/delete', { user_ids: ['grace'] })).deleted_users, ['grace']);
      await assert.rejects(chat(portico.client(grace.key as string), 'cheap'), OpenAI.AuthenticationError);
      assert.deepEqual((await ok(`/team/info?team_id=${teamId}`)).team_info.members_with_roles.map((m: Json) => m.user_id), ['ada']);
      assert.deepEqual((await ok('/team/delete', { team_ids: [teamId] })).deleted_teams, [teamId]);
      await assert.rejects(chat(portico.client(teamKey.key), 'cheap'), OpenAI.AuthenticationError);
      assert.deepEqual((await ok('/user/info?user_id=ada')).user_info.teams, []);
    });

    test("a team's budget stops every key of the team, live and batch creates; spend shows on key, user and team; the period ends and they work again", async () => {
      const team = await ok('/team/new', { team_alias: 'budgeted', max_budget: 0.05, budget_duration: '30d' });
      await ok('/user/new', { user_id: 'spender', auto_create_key: false, max_budget: 1000 });
      const first = await portico.generateKey({ team_id: team.team_id, user_id: 'spender' });
      const second = await portico.generateKey({ team_id: team.team_id });
      const { answered, refused } = await chatUntilRefused(portico.client(first.key));
      assert.ok(answered >= 1, 'the key worked until the team budget was used');
      isBudgetExceeded(refused, new RegExp(`^Budget has been exceeded! Team=${team.team_id} Current cost: [\\d.e-]+, Max budget: 0\\.05$`));
      // Another key of the team, never used, is refused too: the budget is the team's.
      await assert.rejects(chat(portico.client(second.key), 'cheap'), (error) => isBudgetExceeded(error, /Team=/));
      const line = JSON.stringify({ custom_id: 'r1', method: 'POST', url: '/v1/chat/completions', body: { model: 'priced', messages: [{ role: 'user', content: 'x' }] } });
      const file = await portico.client(second.key).files.create({ file: await toFile(Buffer.from(line), 'in.jsonl'), purpose: 'batch' });
      await assert.rejects(portico.client(second.key).batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }), (error) => isBudgetExceeded(error, /Team=/));

      // Rows of the last answers may still be queued in the ledger: written first, then read.
      await portico.services.spend?.ledger.flushAll();
      const teamSpend = (await ok(`/team/info?team_id=${team.team_id}`)).team_info.spend as number;
      const userSpend = (await ok('/user/info?user_id=spender')).user_info.spend as number;
      const keySpend = (await ok(`/key/info?key=${first.token}`)).info.spend as number;
      assert.ok(teamSpend >= 0.05, `team spend ${teamSpend}`);
      assert.ok(Math.abs(userSpend - keySpend) < 1e-9 && Math.abs(teamSpend - keySpend) < 1e-9, `key ${keySpend}, user ${userSpend}, team ${teamSpend}: one ledger, three totals`);

      // The period ends (as 30 days later): the reset job puts the team's spend back to 0.
      const kysely = portico.services.database.kysely;
      await kysely.updateTable('teams').set({ budget_reset_at: Math.floor(Date.now() / 1000) - 1 }).where('team_id', '=', team.team_id).execute();
      await portico.jobs.all.find((job) => job.name === 'key-budget-reset')!.runOnce();
      const reset = await kysely.selectFrom('teams').select(['spend', 'budget_reset_at']).where('team_id', '=', team.team_id).executeTakeFirstOrThrow();
      assert.equal(Number(reset.spend), 0);
      assert.ok(Number(reset.budget_reset_at) > Date.now() / 1000 + 29 * 86_400, 'the next reset is a period later');
      await eventually('the team key works after the reset', () => chat(portico.client(second.key), 'cheap').then(() => true, () => false));
    });

    test("a user's budget stops the user's keys, with LiteLLM's words, and resets after its duration", async () => {
      await ok('/user/new', { user_id: 'thrifty', auto_create_key: false, max_budget: 0.03, budget_duration: '1d' });
      const key = await portico.generateKey({ user_id: 'thrifty' });
      const { refused } = await chatUntilRefused(portico.client(key.key));
      isBudgetExceeded(refused, /^ExceededBudget: User=thrifty over budget\. Spend=[\d.e-]+, Budget=0\.03$/);
      const kysely = portico.services.database.kysely;
      await kysely.updateTable('users').set({ budget_reset_at: Math.floor(Date.now() / 1000) - 1 }).where('user_id', '=', 'thrifty').execute();
      await portico.jobs.all.find((job) => job.name === 'key-budget-reset')!.runOnce();
      assert.equal((await ok('/user/info?user_id=thrifty')).user_info.spend, 0);
      await eventually('the user key works after the reset', () => chat(portico.client(key.key), 'cheap').then(() => true, () => false));
    });

    test('model_max_budget: a key over its budget for one model group is refused for it and goes on with the others', async () => {
      const key = await portico.generateKey({ model_max_budget: { priced: { budget_limit: 0.03, time_period: '1d' } } });
      assert.deepEqual(key.model_max_budget, { priced: { budget_limit: 0.03, time_period: '1d' } });
      const { answered, refused } = await chatUntilRefused(portico.client(key.key));
      assert.ok(answered >= 1);
      isBudgetExceeded(refused, new RegExp(`exceeded budget for model=priced`));
      assert.equal((await chat(portico.client(key.key), 'cheap')).object, 'chat.completion');
    });

    test('max_parallel_requests: a second request is a 429 while the first hangs upstream; the slot frees when the client gives up and when a stream ends', async () => {
      const key = await portico.generateKey({ max_parallel_requests: 1 });
      const client = portico.client(key.key);
      simulator.slowNext({ ms: 10_000, match: { path: /chat\/completions/ } });
      const seen = simulator.requests.length;
      const abort = new AbortController();
      const hanging = chat(client, 'upstream', { signal: abort.signal }).catch((error: unknown) => error);
      await eventually('the first request reaches the upstream', async () => simulator.requests.slice(seen).some((r) => r.path.endsWith('/chat/completions')));
      const response = await portico.fetch('/v1/chat/completions', {
        apiKey: key.key,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'upstream', messages: [{ role: 'user', content: 'second' }] }),
      });
      assert.equal(response.status, 429);
      const body = (await response.json()) as { error: Json };
      assert.equal(body.error.type, 'rate_limit_error');
      assert.equal(body.error.code, 'rate_limit_exceeded');
      assert.match(body.error.message, /^Max parallel request limit reached\. Hit limit for api_key: key_/);
      assert.ok(Number(response.headers.get('retry-after')) >= 1);
      await assert.rejects(chat(client, 'cheap'), OpenAI.RateLimitError);

      abort.abort();
      assert.ok((await hanging) instanceof Error);
      await eventually('the slot is given back after the client gave up', () => chat(client, 'cheap').then(() => true, () => false));

      const stream = await client.chat.completions.create({ model: 'upstream', stream: true, messages: [{ role: 'user', content: 'streamed' }] });
      for await (const _chunk of stream) {
        // drained
      }
      await eventually('the slot is given back after the stream ended', () => chat(client, 'cheap').then(() => true, () => false));
    });

    test("regenerating a key: the old secret is refused at once, the new one works with the same token, limits and spend; /key/update applies at once", async () => {
      const original = await portico.generateKey({ key_alias: 'rotating', max_budget: 100 });
      await chat(portico.client(original.key), 'cheap');
      const regenerated = await ok('/key/regenerate', { key: original.key });
      assert.match(String(regenerated.key), /^sk-/);
      assert.notEqual(regenerated.key, original.key);
      assert.equal(regenerated.token, original.token);
      assert.equal(regenerated.key_alias, 'rotating');
      assert.equal(regenerated.max_budget, 100);
      await assert.rejects(chat(portico.client(original.key), 'cheap'), OpenAI.AuthenticationError);
      assert.equal((await chat(portico.client(regenerated.key as string), 'cheap')).object, 'chat.completion');
      const again = await ok(`/key/${encodeURIComponent(regenerated.key as string)}/regenerate`, {});
      await assert.rejects(chat(portico.client(regenerated.key as string), 'cheap'), OpenAI.AuthenticationError);
      assert.equal((await chat(portico.client(again.key as string), 'cheap')).object, 'chat.completion');

      const update = await ok('/key/update', { key: original.token, max_budget: 0, key_alias: 'stopped' });
      assert.equal(update.key, original.token);
      assert.equal(update.key_alias, 'stopped');
      assert.equal(update.max_budget, 0);
      await assert.rejects(chat(portico.client(again.key as string), 'cheap'), (error) => isBudgetExceeded(error, /Max budget: 0$/));
      assert.equal((await admin('/key/update', { key: 'sk-unknown', max_budget: 1 })).status, 404);
      assert.equal((await admin('/key/regenerate', { key: 'sk-unknown' })).status, 404);
    });
  });
}
