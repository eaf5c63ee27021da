/**
 * The spend ledger through the `openai` SDK on SQLite and PostgreSQL: one row per live request
 * (chat, streams with and without usage, embeddings, a failure), priced from `model_info`; one
 * row per batch written once, even when the poller sees its end first; the key's spend on
 * `/key/info`; `/spend/logs` filters and pages; `/global/spend/report`; the Prometheus counters;
 * and a burst of concurrent requests that loses no row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { createTestDatabase } from '../../helpers/databases.ts';
import { openDatabase } from '../../../src/storage/database.ts';
import { SpendLogStore } from '../../../src/storage/spend-log-store.ts';

const INPUT_PRICE = 0.000002;
const OUTPUT_PRICE = 0.000008;

const CONFIG = `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat, batch_mode: emulate }
    model_info: { input_cost_per_token: ${INPUT_PRICE}, output_cost_per_token: ${OUTPUT_PRICE}, input_cost_per_token_batches: 0.000001, output_cost_per_token_batches: 0.000004 }
  - model_name: embed
    litellm_params: { model: mock/embed, input_cost_per_token: 0.0000001 }
general_settings:
  master_key: sk-spend-master-0123456789
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`;

interface SpendLogView {
  request_id: string;
  call_type: string;
  api_key: string | null;
  spend: number;
  total_tokens: number;
  prompt_tokens: number;
  completion_tokens: number;
  model_group: string;
  model_id: string | null;
  custom_llm_provider: string | null;
  team_id: string | null;
  user: string | null;
  status: string;
  metadata: { batch_id: string | null; request_count: number; latency_ms: number };
}

async function json<T>(response: Response): Promise<T> {
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as T;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`spend ledger (${dialect})`, () => {
    let portico: PorticoUnderTest;
    const flush = () => portico.services.spend!.ledger.flushAll();
    const logs = async (query: string) => json<SpendLogView[]>(await portico.fetch(`/spend/logs?${query}`));

    before(async () => {
      portico = await startPortico(CONFIG, { dialect });
    });
    after(async () => portico?.close());

    test('chat, streams with and without usage, embeddings and a failure each write one priced row', async () => {
      const key = await portico.generateKey({ user_id: 'ada', team_id: 'research' });
      const client = portico.client(key.key);
      const answer = await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hello there' }] }, { headers: { 'x-request-id': 'req-plain' } });
      const withUsage = await client.chat.completions.create({ model: 'chat', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream please' }] }, { headers: { 'x-request-id': 'req-stream-usage' } });
      let streamedUsage: { prompt_tokens: number; completion_tokens: number } | undefined;
      for await (const chunk of withUsage) if (chunk.usage) streamedUsage = chunk.usage;
      const withoutUsage = await client.chat.completions.create({ model: 'chat', stream: true, messages: [{ role: 'user', content: 'stream without usage' }] }, { headers: { 'x-request-id': 'req-stream-bare' } });
      for await (const _chunk of withoutUsage) {
        // drained
      }
      const embedding = await client.embeddings.create({ model: 'embed', input: ['one', 'two'] }, { headers: { 'x-request-id': 'req-embed' } });
      await flush();

      const rows = await logs(`api_key=${key.key}`);
      const byId = new Map(rows.map((row) => [row.request_id, row]));
      const plain = byId.get('req-plain')!;
      assert.equal(plain.call_type, '/chat/completions');
      assert.equal(plain.status, 'success');
      assert.equal(plain.api_key, key.token);
      assert.equal(plain.user, 'ada');
      assert.equal(plain.team_id, 'research');
      assert.equal(plain.custom_llm_provider, 'mock');
      assert.ok(plain.model_id);
      assert.equal(plain.prompt_tokens, answer.usage!.prompt_tokens);
      assert.equal(plain.completion_tokens, answer.usage!.completion_tokens);
      assert.ok(Math.abs(plain.spend - (answer.usage!.prompt_tokens * INPUT_PRICE + answer.usage!.completion_tokens * OUTPUT_PRICE)) < 1e-12);
      const streamed = byId.get('req-stream-usage')!;
      assert.ok(streamedUsage);
      assert.equal(streamed.prompt_tokens, streamedUsage.prompt_tokens);
      assert.equal(streamed.completion_tokens, streamedUsage.completion_tokens);
      const bare = byId.get('req-stream-bare')!;
      assert.ok(bare.completion_tokens > 0 && bare.prompt_tokens > 0, 'a stream without usage is estimated');
      assert.ok(bare.spend > 0);
      const embedded = byId.get('req-embed')!;
      assert.equal(embedded.call_type, '/embeddings');
      assert.equal(embedded.prompt_tokens, embedding.usage.prompt_tokens);
      assert.ok(Math.abs(embedded.spend - embedding.usage.prompt_tokens * 0.0000001) < 1e-12);
      assert.equal(rows.length, 4);

      const info = await json<{ info: { spend: number } }>(await portico.fetch(`/key/info?key=${key.key}`));
      const total = rows.reduce((sum, row) => sum + row.spend, 0);
      assert.ok(Math.abs(info.info.spend - total) < 1e-12, `key spend ${info.info.spend} = ledger ${total}`);
    });

    test('a request the upstream refuses writes a failure row with no cost', async () => {
      const key = await portico.generateKey({});
      const client = portico.client(key.key);
      await assert.rejects(client.embeddings.create({ model: 'embed', input: 'x', dimensions: 1_000_000 }, { headers: { 'x-request-id': 'req-fail' } }));
      await flush();
      const rows = await logs(`api_key=${key.token}&request_id=req-fail`);
      assert.equal(rows.length, 1);
      assert.equal(rows[0].status, 'failure');
      assert.equal(rows[0].spend, 0);
      assert.equal(rows[0].call_type, '/embeddings');
    });

    test('/spend/logs filters by team, user and model, and pages; /global/spend/report groups; the counters agree', async () => {
      const key = await portico.generateKey({ user_id: 'grace', team_id: 'ops' });
      const client = portico.client(key.key);
      for (let i = 0; i < 5; i++) await client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `page ${i}` }] });
      await flush();
      assert.equal((await logs('team_id=ops')).length, 5);
      assert.equal((await logs('user_id=grace&model=chat')).length, 5);
      assert.equal((await logs('user_id=grace&model=embed')).length, 0);
      const today = new Date().toISOString().slice(0, 10);
      assert.equal((await logs(`team_id=ops&start_date=${today}&end_date=${today}`)).length, 5);
      assert.equal((await logs('team_id=ops&start_date=2000-01-01&end_date=2000-01-02')).length, 0);
      const page1 = await json<{ data: SpendLogView[]; total: number; total_pages: number }>(await portico.fetch('/spend/logs?team_id=ops&page=1&page_size=2'));
      const page3 = await json<{ data: SpendLogView[] }>(await portico.fetch('/spend/logs?team_id=ops&page=3&page_size=2'));
      assert.equal(page1.total, 5);
      assert.equal(page1.total_pages, 3);
      assert.equal(page1.data.length, 2);
      assert.equal(page3.data.length, 1);
      assert.equal((await portico.fetch('/spend/logs?start_date=yesterday')).status, 400);

      const report = await json<Array<{ group_by_day: string; teams: Array<{ team_name: string; total_spend: number; metadata: Array<{ model: string }> }> }>>(
        await portico.fetch('/global/spend/report?group_by=team'),
      );
      const ops = report.find((day) => day.group_by_day === today)!.teams.find((team) => team.team_name === 'ops')!;
      const opsRows = await logs('team_id=ops');
      assert.ok(Math.abs(ops.total_spend - opsRows.reduce((s, r) => s + r.spend, 0)) < 1e-12);
      assert.deepEqual(ops.metadata.map((m) => m.model), ['chat']);
      const byModel = await json<Array<{ models: Array<{ model: string }> }>>(await portico.fetch('/global/spend/report?group_by=model'));
      assert.ok(byModel[0].models.some((m) => m.model === 'chat'));
      const byKey = await json<Array<{ api_keys: Array<{ api_key: string }> }>>(await portico.fetch('/global/spend/report?group_by=api_key'));
      assert.ok(byKey.some((day) => day.api_keys.some((k) => k.api_key === key.token)));

      // A virtual key sees only its own rows.
      const other = await portico.generateKey({});
      assert.deepEqual(await json<SpendLogView[]>(await portico.fetch('/spend/logs?team_id=ops', { apiKey: other.key })), []);

      // LiteLLM's /global/spend, /global/spend/keys and /global/spend/models, from the same rows.
      const allRows = await logs('page_size=1000');
      const sumOf = (rows: SpendLogView[]) => rows.reduce((sum, row) => sum + row.spend, 0);
      const global = await json<{ spend: number; max_budget: null }>(await portico.fetch('/global/spend'));
      assert.ok(Math.abs(global.spend - sumOf(allRows)) < 1e-12, `${global.spend} against ${sumOf(allRows)}`);
      assert.equal(global.max_budget, null);
      assert.deepEqual(await json(await portico.fetch('/global/spend', { apiKey: other.key })), { spend: 0, max_budget: null }, "a virtual key's own spend only");
      const topKeys = await json<Array<{ api_key: string | null; total_spend: number; key_alias: string | null }>>(await portico.fetch('/global/spend/keys?limit=50'));
      assert.ok(topKeys.every((entry, i) => i === 0 || topKeys[i - 1].total_spend >= entry.total_spend), 'most first');
      const grace = topKeys.find((entry) => entry.api_key === key.token)!;
      assert.ok(Math.abs(grace.total_spend - sumOf(opsRows)) < 1e-12);
      assert.equal((await json<unknown[]>(await portico.fetch('/global/spend/keys?limit=1'))).length, 1);
      const topModels = await json<Array<{ model: string; total_spend: number }>>(await portico.fetch('/global/spend/models'));
      const chat = topModels.find((entry) => entry.model === 'chat')!;
      assert.ok(Math.abs(chat.total_spend - sumOf(allRows.filter((row) => row.model_group === 'chat'))) < 1e-12);
      assert.equal((await portico.fetch('/global/spend/models?limit=0')).status, 400);

      const metrics = await (await portico.fetch('/metrics')).text();
      assert.match(metrics, /portico_spend_usd_total\{model="chat",call_type="\/chat\/completions"\} [0-9.e-]+/);
      assert.match(metrics, /portico_tokens_total\{model="chat",kind="prompt"\} \d+/);
    });

    test('a batch writes one row with its line totals, once, when the poller sees its end first; its cost reaches its key, user and team', async () => {
      const admin = (path: string, body: unknown) => portico.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal((await admin('/team/new', { team_id: 'batchers' })).status, 200);
      assert.equal((await admin('/user/new', { user_id: 'batch-user', auto_create_key: false })).status, 200);
      const key = await portico.generateKey({ team_id: 'batchers', user_id: 'batch-user' });
      const client = portico.client(key.key);
      const lines = Array.from({ length: 3 }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'chat', messages: [{ role: 'user', content: `line ${i}` }] } })).join('\n');
      const file = await client.files.create({ file: await toFile(Buffer.from(lines), 'in.jsonl'), purpose: 'batch' });
      const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      // Nobody polls through the API: the background poller alone finds the end.
      const deadline = Date.now() + 30_000;
      let row: SpendLogView | undefined;
      while (Date.now() < deadline && row === undefined) {
        await portico.jobs.poller.runOnce();
        row = (await logs(`api_key=${key.token}`)).find((r) => r.call_type === 'batch');
        if (row === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.ok(row, 'the batch row is written without a client retrieve');
      assert.equal(row.request_id, batch.id);
      assert.equal(row.metadata.batch_id, batch.id);
      assert.equal(row.metadata.request_count, 3);
      assert.equal(row.team_id, 'batchers');
      assert.ok(row.prompt_tokens > 0 && row.completion_tokens > 0);
      assert.ok(Math.abs(row.spend - (row.prompt_tokens * 0.000001 + row.completion_tokens * 0.000004)) < 1e-12);
      const done = await client.batches.retrieve(batch.id);
      assert.equal(done.status, 'completed');
      await portico.jobs.poller.runOnce();
      const rows = (await logs(`api_key=${key.token}`)).filter((r) => r.call_type === 'batch');
      assert.equal(rows.length, 1, 'charged exactly once');
      const info = await json<{ info: { spend: number } }>(await portico.fetch(`/key/info?key=${key.key}`));
      assert.ok(Math.abs(info.info.spend - row.spend) < 1e-12);
      const team = await json<{ team_info: { spend: number } }>(await portico.fetch('/team/info?team_id=batchers'));
      const user = await json<{ user_info: { spend: number } }>(await portico.fetch('/user/info?user_id=batch-user'));
      assert.ok(Math.abs(team.team_info.spend - row.spend) < 1e-12, `team spend ${team.team_info.spend}, batch ${row.spend}`);
      assert.ok(Math.abs(user.user_info.spend - row.spend) < 1e-12, `user spend ${user.user_info.spend}, batch ${row.spend}`);
    });

    test('a burst of concurrent requests loses no row', async () => {
      const key = await portico.generateKey({ team_id: 'burst' });
      const client = portico.client(key.key);
      const count = 400;
      await Promise.all(Array.from({ length: count }, (_, i) => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `burst ${i}` }] })));
      await flush();
      const page = await json<{ total: number }>(await portico.fetch('/spend/logs/v2?team_id=burst&page_size=1'));
      assert.equal(page.total, count);
    });

    test('a graceful stop writes every row still queued', async () => {
      // A flush interval longer than the test: only the stop can write these rows.
      const store = await createTestDatabase(dialect);
      try {
        const instance = await startPortico(CONFIG.replace('flush_interval_ms: 20', 'flush_interval_ms: 600000'), { databaseUrl: store.url });
        const client = instance.client();
        const count = 50;
        await Promise.all(Array.from({ length: count }, (_, i) => client.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: `stop ${i}` }] })));
        assert.equal(instance.services.spend!.ledger.queued, count, 'nothing written before the stop');
        await instance.close();
        const reopened = await openDatabase(store.url);
        try {
          assert.equal(await new SpendLogStore(reopened).count({ modelGroup: 'chat' }), count);
        } finally {
          await reopened.close();
        }
      } finally {
        await store.dispose();
      }
    });
  });
}
