/**
 * LiteLLM's request tags in the spend ledger (https://docs.litellm.ai/docs/proxy/request_tags):
 * a row's `request_tags` are its request's (`tags`, `metadata.tags`, `x-litellm-tags`) and those
 * of the deployment that answered (`litellm_params.tags`); `GET /spend/tags` sums spend and rows
 * by tag, a key seeing only its own rows. On SQLite and PostgreSQL, through the `openai` SDK.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';

const MASTER_KEY = 'sk-spend-tags-master-0123456789';

const CONFIG = `
model_list:
  - model_name: priced
    litellm_params: {model: mock/priced, mock_response: "four words of answer", tags: [prod]}
    model_info: {input_cost_per_token: 0.001, output_cost_per_token: 0.002}
general_settings:
  master_key: ${MASTER_KEY}
  user_header_name: X-OpenWebUI-User-Email
`;

interface TagSpend {
  individual_request_tag: string;
  log_count: number;
  total_spend: number;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`spend by request tag (${dialect})`, () => {
    let portico: PorticoUnderTest;
    before(async () => {
      portico = await startPortico(CONFIG, { dialect });
    });
    after(async () => {
      await portico.close();
    });

    async function get<T>(path: string, key = MASTER_KEY): Promise<T> {
      const response = await fetch(`${portico.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      assert.equal(response.status, 200, await response.clone().text());
      return (await response.json()) as T;
    }

    it("records the request's and the deployment's tags on each row, and sums spend by tag", async () => {
      const client = portico.client();
      const chat = (extra: Record<string, unknown>, headers: Record<string, string> = {}) =>
        client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'hello there' }], ...extra } as never, { headers });
      await chat({ tags: ['team-a'] });
      await chat({ metadata: { tags: ['team-a', 'batch-job'] } });
      await chat({}, { 'x-litellm-tags': 'team-b' });
      const stream = await client.chat.completions.create({ model: 'priced', stream: true, messages: [{ role: 'user', content: 'x' }], tags: ['team-b'] } as never);
      for await (const _ of stream as unknown as AsyncIterable<unknown>);
      await chat({});
      await portico.services.spend!.ledger.flushAll();

      const rows = await get<Array<{ request_tags: string[]; spend: number }>>('/spend/logs');
      assert.deepEqual(rows.map((row) => row.request_tags).sort((a, b) => a.join().localeCompare(b.join())), [
        ['prod'],
        ['team-a', 'batch-job', 'prod'],
        ['team-a', 'prod'],
        ['team-b', 'prod'],
        ['team-b', 'prod'],
      ]);
      const byTag = await get<TagSpend[]>('/spend/tags');
      const total = rows.reduce((sum, row) => sum + row.spend, 0);
      assert.deepEqual([byTag[0].individual_request_tag, byTag[0].log_count], ['prod', 5], 'the tag on every row spent most: first');
      assert.deepEqual(Object.fromEntries(byTag.map((entry) => [entry.individual_request_tag, entry.log_count])), { prod: 5, 'team-a': 2, 'batch-job': 1, 'team-b': 2 });
      assert.ok(Math.abs(byTag.find((entry) => entry.individual_request_tag === 'prod')!.total_spend - total) < 1e-9, 'every row carries prod');
      const teamA = rows.filter((row) => row.request_tags.includes('team-a')).reduce((sum, row) => sum + row.spend, 0);
      assert.ok(Math.abs(byTag.find((entry) => entry.individual_request_tag === 'team-a')!.total_spend - teamA) < 1e-9);
      assert.ok(byTag[0].total_spend >= byTag.at(-1)!.total_spend, 'most spent first');
    });

    it("records who each request was for (end_user): user_header_name's header, x-litellm-end-user-id, else OpenAI's user", async () => {
      const client = portico.client();
      const ask = (extra: Record<string, unknown>, headers: Record<string, string>) => client.chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'who' }], ...extra } as never, { headers });
      await ask({ user: 'ignored-when-a-header-names-one' }, { 'X-OpenWebUI-User-Email': 'ada@example.com' });
      await ask({}, { 'x-litellm-end-user-id': 'customer-42' });
      await ask({ user: 'grace' }, {});
      await ask({}, {});
      await portico.services.spend!.ledger.flushAll();
      const rows = await get<Array<{ end_user: string }>>('/spend/logs?page_size=4');
      assert.deepEqual(rows.map((row) => row.end_user), ['', 'grace', 'customer-42', 'ada@example.com']);
    });

    it("answers a key its own rows' tags only, and takes the report's date filters", async () => {
      const key = (await portico.generateKey({})).key;
      await portico.client(key).chat.completions.create({ model: 'priced', messages: [{ role: 'user', content: 'mine' }], tags: ['mine'] } as never);
      await portico.services.spend!.ledger.flushAll();
      const own = await get<TagSpend[]>('/spend/tags', key);
      assert.deepEqual(own.map((entry) => [entry.individual_request_tag, entry.log_count]).sort(), [['mine', 1], ['prod', 1]]);
      assert.deepEqual(await get<TagSpend[]>('/spend/tags?start_date=2000-01-01&end_date=2000-01-02'), []);
    });
  });
}
