/**
 * Issue 12, budgets that hold for batches: a batch reserves its estimated cost at create (input
 * tokens at 4 characters each, output at `max_tokens` x `n` or `estimated_output_tokens`, at the
 * batch prices) on its key, user and team, is refused when the reservation would pass a budget,
 * and settles to its actual cost when it ends, whether or not anyone polls. Enqueued-token quotas
 * per deployment (`batch_max_enqueued_tokens`) refuse, or hold back, the batches that do not fit.
 * On SQLite and PostgreSQL, through the `openai` SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { eventually, isBudgetExceeded } from '../helpers/budget-assertions.ts';

const MASTER_KEY = 'sk-reservations-master-0123456789';
const INPUT_PRICE = 0.001;
const OUTPUT_PRICE = 0.002;

const budgetsConfig = `
model_list:
  - model_name: priced
    litellm_params: { model: mock/priced, mock_latency_ms: 1200, batch_concurrency: 1 }
    model_info: { input_cost_per_token: ${INPUT_PRICE}, output_cost_per_token: ${OUTPUT_PRICE} }
general_settings:
  master_key: ${MASTER_KEY}
  user_api_key_cache_ttl: 0.1
portico_settings:
  batch: { poll_interval_ms: 100, estimated_output_tokens: 50 }
`;

const quotaConfig = (simulator: OpenAISimulator, policy: 'refuse' | 'wait', pollIntervalMs = 100) => `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, batch_max_enqueued_tokens: 300 }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  batch: { poll_interval_ms: ${pollIntervalMs}, refresh_after_seconds: 0, quota_exceeded: ${policy} }
`;

/** One model group of three deployments with a quota each; the first is weighted to take nearly every pick it is offered. */
const spreadConfig = (simulator: OpenAISimulator) => `
model_list:
${['d1', 'd2', 'd3'].map((id, i) => `  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, batch_max_enqueued_tokens: 300, weight: ${i === 0 ? 1000 : 1} }
    model_info: { id: ${id} }`).join('\n')}
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  batch: { poll_interval_ms: 100, refresh_after_seconds: 0, quota_exceeded: refuse }
`;

/** A poll interval no test outlives: a batch that starts did not wait for the poll. */
const NO_POLL_MS = 3_600_000;

type Json = Record<string, any>;

const messages = (characters: number) => [{ role: 'user', content: 'x'.repeat(characters) }];

/** What the README says a line reserves: its messages at 4 characters a token, output at max_tokens x n (else the configured estimate). */
function expectedReservation(lines: { characters: number; maxTokens?: number; n?: number }[]): number {
  let cost = 0;
  for (const line of lines) {
    const input = Math.ceil(JSON.stringify(messages(line.characters)).length / 4);
    const output = (line.maxTokens ?? 50) * (line.n ?? 1);
    cost += input * (INPUT_PRICE / 2) + output * (OUTPUT_PRICE / 2);
  }
  return cost;
}

async function uploadBatchFile(client: OpenAI, model: string, lines: { characters: number; maxTokens?: number; n?: number }[]) {
  const jsonl = lines
    .map((line, i) =>
      JSON.stringify({
        custom_id: `r${i}`,
        method: 'POST',
        url: '/v1/chat/completions',
        body: { model, messages: messages(line.characters), ...(line.maxTokens !== undefined && { max_tokens: line.maxTokens }), ...(line.n !== undefined && { n: line.n }) },
      }),
    )
    .join('\n');
  return client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
}

const createBatch = (client: OpenAI, fileId: string) => client.batches.create({ input_file_id: fileId, endpoint: '/v1/chat/completions', completion_window: '24h' });

function isTokenLimitExceeded(error: unknown): boolean {
  assert.ok(error instanceof OpenAI.APIError, `expected an API error, got ${String(error)}`);
  assert.equal(error.status, 400);
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.code, 'token_limit_exceeded');
  assert.match((error.error as { message: string }).message, /^Enqueued token limit reached for gpt-4o-mini\. Limit: 300 enqueued tokens/);
  return true;
}

const close = (a: number, b: number) => Math.abs(a - b) < 1e-9;

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`batch cost reservations [${dialect}]`, () => {
    let portico: PorticoUnderTest;
    const admin = async (path: string, body?: unknown): Promise<Json> => {
      const response = await portico.fetch(path, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const json = (await response.json()) as Json;
      assert.equal(response.status, 200, `${path}: ${JSON.stringify(json)}`);
      return json;
    };

    before(async () => {
      portico = await startPortico(budgetsConfig, { dialect });
    });
    after(async () => {
      await portico?.close();
    });

    test("a batch reserves its estimated cost on its key, is refused while a second one would pass the key's budget, and settles to its actual cost at completion with nobody polling", async () => {
      const lines = [{ characters: 400, maxTokens: 100, n: 2 }, { characters: 200 }];
      const reservation = expectedReservation(lines);
      const key = await portico.generateKey({ max_budget: reservation * 1.5 });
      const client = portico.client(key.key);
      const file = await uploadBatchFile(client, 'priced', lines);
      const batch = await createBatch(client, file.id);
      const info = (await admin(`/key/info?key=${key.token}`)).info;
      assert.ok(close(info.reserved_spend, reservation), `reserved ${info.reserved_spend}, expected ${reservation}`);
      assert.equal(info.spend, 0);
      await assert.rejects(createBatch(client, file.id), (error) => isBudgetExceeded(error, /^Budget has been exceeded! Current cost: 0, Max budget: [\d.]+\. Reserved by running batches: [\d.]+, this batch's estimated cost: [\d.]+$/));

      // Nobody retrieves the batch: the engine runs it, the poller finalises it and settles its reservation.
      const kysely = portico.services.database.kysely;
      await eventually('the batch is settled', async () => Number((await admin(`/key/info?key=${key.token}`)).info.reserved_spend) === 0, 200);
      const stored = await kysely.selectFrom('batches').select(['status', 'cost']).where('id', '=', batch.id).executeTakeFirstOrThrow();
      assert.equal(stored.status, 'completed');
      const settled = (await admin(`/key/info?key=${key.token}`)).info;
      assert.ok(Number(stored.cost) > 0 && close(settled.spend, Number(stored.cost)), `key spend ${settled.spend}, batch cost ${stored.cost}`);
      assert.equal(await kysely.selectFrom('batch_holds').select('batch_id').where('batch_id', '=', batch.id).executeTakeFirst(), undefined);
      // The next create is checked against the settled figures: the actual cost spent, nothing reserved.
      await assert.rejects(createBatch(client, file.id), (error) => isBudgetExceeded(error, new RegExp(`Current cost: ${settled.spend}, Max budget: [\\d.]+\\. Reserved by running batches: 0, `)));
    });

    test('the estimate is counted at upload and kept with the file; a file stored without one is counted from the store at create, to the same figure', async () => {
      const lines = [{ characters: 300, maxTokens: 50 }, { characters: 120 }, { characters: 80, maxTokens: 10, n: 3 }];
      const reservation = expectedReservation(lines);
      const kysely = portico.services.database.kysely;
      for (const kept of [true, false]) {
        const key = await portico.generateKey({ max_budget: 100 });
        const client = portico.client(key.key);
        const file = await uploadBatchFile(client, 'priced', lines);
        const row = await kysely.selectFrom('files').select('token_estimate').where('id', '=', file.id).executeTakeFirstOrThrow();
        assert.ok(row.token_estimate !== null, 'counted at upload');
        // As a file uploaded before the estimate was kept (migration 0016) reads.
        if (!kept) await kysely.updateTable('files').set({ token_estimate: null }).where('id', '=', file.id).execute();
        await createBatch(client, file.id);
        const info = (await admin(`/key/info?key=${key.token}`)).info;
        assert.ok(close(info.reserved_spend, reservation), `${kept ? 'kept' : 'counted at create'}: reserved ${info.reserved_spend}, expected ${reservation}`);
      }
    });

    test("a user's and a team's budgets refuse a reservation that would pass them, in LiteLLM's words; the user's and team's reserved spend show on /user/info and /team/info", async () => {
      const lines = [{ characters: 800, maxTokens: 200 }];
      const reservation = expectedReservation(lines);
      await admin('/user/new', { user_id: 'batch-user', auto_create_key: false, max_budget: reservation / 2 });
      const userKey = await portico.generateKey({ user_id: 'batch-user' });
      const userFile = await uploadBatchFile(portico.client(userKey.key), 'priced', lines);
      await assert.rejects(createBatch(portico.client(userKey.key), userFile.id), (error) => isBudgetExceeded(error, /^ExceededBudget: User=batch-user over budget\. Spend=0, Budget=[\d.]+\. Reserved by running batches: 0, this batch's estimated cost: /));

      const team = await admin('/team/new', { team_alias: 'batch-team', max_budget: reservation * 1.5 });
      const teamKey = await portico.generateKey({ team_id: team.team_id });
      const teamFile = await uploadBatchFile(portico.client(teamKey.key), 'priced', lines);
      await createBatch(portico.client(teamKey.key), teamFile.id);
      assert.ok(close((await admin(`/team/info?team_id=${team.team_id}`)).team_info.reserved_spend, reservation));
      await assert.rejects(createBatch(portico.client(teamKey.key), teamFile.id), (error) => isBudgetExceeded(error, new RegExp(`^Budget has been exceeded! Team=${team.team_id} Current cost: 0, Max budget: [\\d.]+\\. Reserved by running batches: `)));
      assert.equal((await admin('/user/info?user_id=batch-user')).user_info.reserved_spend, 0);
    });

    test('two creates at once cannot both pass a budget only one of them fits', async () => {
      const lines = [{ characters: 400, maxTokens: 100 }];
      const key = await portico.generateKey({ max_budget: expectedReservation(lines) * 1.5 });
      const client = portico.client(key.key);
      const file = await uploadBatchFile(client, 'priced', lines);
      const outcomes = await Promise.allSettled([createBatch(client, file.id), createBatch(client, file.id), createBatch(client, file.id)]);
      assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, JSON.stringify(outcomes.map((o) => o.status)));
      for (const outcome of outcomes) if (outcome.status === 'rejected') isBudgetExceeded(outcome.reason, /Reserved by running batches/);
    });

    if (dialect === 'postgres') {
      test('two instances on one database creating at once cannot both pass a team budget only one batch fits', async () => {
        const other = await startPortico(budgetsConfig, { databaseUrl: portico.databaseUrl });
        try {
          const lines = [{ characters: 400, maxTokens: 100 }];
          const team = await admin('/team/new', { team_alias: 'shared-team', max_budget: expectedReservation(lines) * 1.5 });
          const key = await portico.generateKey({ team_id: team.team_id });
          const file = await uploadBatchFile(portico.client(key.key), 'priced', lines);
          const clients = [portico.client(key.key), other.client(key.key)];
          const outcomes = await Promise.allSettled([0, 1, 2, 3].map((i) => createBatch(clients[i % 2], file.id)));
          assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1, JSON.stringify(outcomes.map((o) => o.status)));
          for (const outcome of outcomes) if (outcome.status === 'rejected') isBudgetExceeded(outcome.reason, /Team=.*Reserved by running batches/);
        } finally {
          await other.close();
        }
      });
    }

    test("model_max_budget is checked at a batch's create", async () => {
      const key = await portico.generateKey({ model_max_budget: { priced: { budget_limit: 0 } } });
      const file = await uploadBatchFile(portico.client(key.key), 'priced', [{ characters: 10 }]);
      await assert.rejects(createBatch(portico.client(key.key), file.id), (error) => isBudgetExceeded(error, /exceeded budget for model=priced/));
    });
  });

  describe(`enqueued-token quotas [${dialect}]`, () => {
    let simulator: OpenAISimulator;
    before(async () => {
      simulator = await startOpenAISimulator();
    });
    after(async () => {
      await simulator?.close();
    });

    /** Steps the simulator's batches until `batchId` (Portico's) is completed in Portico's database. */
    async function completeAtProvider(portico: PorticoUnderTest, batchId: string): Promise<void> {
      await eventually(`${batchId} completed`, async () => {
        await simulator.advanceBatches();
        const row = await portico.services.database.kysely.selectFrom('batches').select('status').where('id', '=', batchId).executeTakeFirstOrThrow();
        return row.status === 'completed';
      }, 300);
    }

    test("quota_exceeded: refuse answers Azure's token_limit_exceeded while the deployment's enqueued tokens are taken, and accepts the batch once they are released", async () => {
      const portico = await startPortico(quotaConfig(simulator, 'refuse'), { dialect });
      try {
        const client = portico.client();
        // ~208 tokens each: one fits a quota of 300, two do not.
        const file = await uploadBatchFile(client, 'gpt-4o-mini', [{ characters: 800 }]);
        const first = await createBatch(client, file.id);
        await assert.rejects(createBatch(client, file.id), isTokenLimitExceeded);
        await completeAtProvider(portico, first.id);
        const second = await createBatch(client, file.id);
        assert.equal(second.status, 'validating');
      } finally {
        await portico.close();
      }
    });

    test('a model group of several deployments with quotas spreads batches to the deployments with room before refusing any', async () => {
      const portico = await startPortico(spreadConfig(simulator), { dialect });
      try {
        const client = portico.client();
        // ~208 estimated tokens: one batch fills a deployment's quota of 300.
        const file = await uploadBatchFile(client, 'gpt-4o-mini', [{ characters: 800 }]);
        // d1's weight would take nearly every pick: the second and third go elsewhere only because d1 is full.
        const created = [await createBatch(client, file.id), await createBatch(client, file.id), await createBatch(client, file.id)];
        const kysely = portico.services.database.kysely;
        const rows = await kysely.selectFrom('batches').select(['id', 'deployment_id', 'waiting_for_quota']).where('id', 'in', created.map((b) => b.id)).execute();
        assert.deepEqual(rows.map((row) => row.deployment_id).sort(), ['d1', 'd2', 'd3']);
        assert.deepEqual(rows.map((row) => Number(row.waiting_for_quota)), [0, 0, 0]);
        // Every deployment full: refused, in Azure's words.
        await assert.rejects(createBatch(client, file.id), isTokenLimitExceeded);
        // d2's batch ends (expired upstream, the others still running): the next batch goes there,
        // the one deployment with room, whatever the weights.
        const onD2 = rows.find((row) => row.deployment_id === 'd2')!.id;
        const upstream = await kysely.selectFrom('batches').select('provider_batch_id').where('id', '=', onD2).executeTakeFirstOrThrow();
        simulator.expireBatch(upstream.provider_batch_id!);
        await eventually('the batch on d2 expired', async () => (await client.batches.retrieve(onD2)).status === 'expired');
        const next = await createBatch(client, file.id);
        assert.equal((await kysely.selectFrom('batches').select('deployment_id').where('id', '=', next.id).executeTakeFirstOrThrow()).deployment_id, 'd2');
      } finally {
        await portico.close();
      }
    });

    test('a batch waiting for quota starts as soon as the batch holding it completes, without waiting for the quota poll', async () => {
      const portico = await startPortico(quotaConfig(simulator, 'wait', NO_POLL_MS), { dialect });
      try {
        const client = portico.client();
        const file = await uploadBatchFile(client, 'gpt-4o-mini', [{ characters: 800 }]);
        const upstreamBefore = simulator.batches.size;
        const holder = await createBatch(client, file.id);
        const waiting = await createBatch(client, file.id);
        assert.equal(simulator.batches.size, upstreamBefore + 1, 'the second batch waits');
        // Nothing polls: the client's retrieves refresh the holder to its end (refresh_after_seconds: 0).
        await eventually('the holder completed', async () => {
          await simulator.advanceBatches();
          return (await client.batches.retrieve(holder.id)).status === 'completed';
        });
        await eventually('the waiting batch started upstream', async () => simulator.batches.size === upstreamBefore + 2);
        const started = await portico.services.database.kysely.selectFrom('batches').select(['provider_batch_id', 'waiting_for_quota']).where('id', '=', waiting.id).executeTakeFirstOrThrow();
        assert.ok(started.provider_batch_id !== null);
        assert.equal(Number(started.waiting_for_quota), 0);
      } finally {
        await portico.close();
      }
    });

    test('quota_exceeded: wait keeps the batch validating, starts it when the quota frees, expires it past its window, and cancels waiting batches on cancel and key deletion', async () => {
      const portico = await startPortico(quotaConfig(simulator, 'wait'), { dialect });
      try {
        const key = await portico.generateKey({});
        const client = portico.client(key.key);
        const file = await uploadBatchFile(client, 'gpt-4o-mini', [{ characters: 800 }]);
        const upstreamBefore = simulator.batches.size;
        const first = await createBatch(client, file.id);
        const waiting = await createBatch(client, file.id);
        const cancelled = await createBatch(client, file.id);
        const orphaned = await createBatch(client, file.id);
        assert.equal(waiting.status, 'validating');
        assert.equal(simulator.batches.size, upstreamBefore + 1, 'only the first batch went upstream');
        assert.equal((await client.batches.retrieve(waiting.id)).status, 'validating', 'a retrieve leaves a waiting batch waiting');

        // A batch still waiting when its completion window ends is expired, its hold released.
        const late = await createBatch(client, file.id);
        const kysely = portico.services.database.kysely;
        await kysely.updateTable('batches').set({ expires_at: Math.floor(Date.now() / 1000) - 1, next_sync_at: Date.now() / 1000 }).where('id', '=', late.id).execute();
        await eventually('the late waiting batch expired', async () => (await client.batches.retrieve(late.id)).status === 'expired');
        const expired = await client.batches.retrieve(late.id);
        assert.equal(expired.errors?.data?.[0]?.code, 'batch_expired');
        assert.equal(await kysely.selectFrom('batch_holds').select('batch_id').where('batch_id', '=', late.id).executeTakeFirst(), undefined);

        const cancelling = await client.batches.cancel(cancelled.id);
        assert.equal(cancelling.status, 'cancelling');
        await eventually('the cancelled waiting batch is cancelled', async () => (await client.batches.retrieve(cancelled.id)).status === 'cancelled');

        await completeAtProvider(portico, first.id);
        // Started upstream, and its create's answer recorded (the simulator counts the batch before Portico has the answer).
        const startedRow = () => kysely.selectFrom('batches').select(['provider_batch_id', 'waiting_for_quota', 'creating']).where('id', '=', waiting.id).executeTakeFirstOrThrow();
        await eventually('the waiting batch started upstream', async () => simulator.batches.size === upstreamBefore + 2 && (await startedRow()).provider_batch_id !== null);
        const started = await startedRow();
        assert.ok(started.provider_batch_id !== null);
        assert.deepEqual([Number(started.waiting_for_quota), Number(started.creating)], [0, 0]);
        assert.equal(simulator.batches.size, upstreamBefore + 2, 'the fourth still waits behind the second');

        const deleted = await portico.fetch('/key/delete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [key.key] }) });
        assert.equal(deleted.status, 200);
        await eventually('the deleted key\'s waiting batch is cancelled', async () => {
          const row = await kysely.selectFrom('batches').select('status').where('id', '=', orphaned.id).executeTakeFirstOrThrow();
          return row.status === 'cancelled';
        });
        assert.equal(await kysely.selectFrom('batch_holds').select('batch_id').where('batch_id', 'in', [cancelled.id, orphaned.id]).executeTakeFirst(), undefined);
      } finally {
        await portico.close();
      }
    });
  });
}
