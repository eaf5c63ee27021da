/**
 * Issue 12, webhooks: a Portico killed (SIGKILL, a real process) while its events are on their
 * way loses none. The receiver holds every request, so at the kill each batch's event is leased
 * by the dead process and sent, unanswered, its attempt never recorded; once the dead lease runs
 * out (set here instead of waited for), a new Portico sends each event again with the same id,
 * and a receiver deduplicating by `webhook-id` has every event once. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { Webhook } from 'standardwebhooks';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { spawnPortico } from './portico-process.ts';

const MASTER_KEY = 'sk-webhooks-kill-master-0123456789';
const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`;

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function completedBatch(client: OpenAI): Promise<string> {
  const jsonl = JSON.stringify({ custom_id: 'r0', method: 'POST', url: '/v1/chat/completions', body: { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] } });
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
  let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  await until(`batch ${batch.id} completes`, async () => (batch = await client.batches.retrieve(batch.id)).status === 'completed');
  return batch.id;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`webhooks across a killed Portico [${dialect}]`, () => {
    let database: TestDatabase;
    let receiver: WebhookReceiver;
    let dir: string;
    before(async () => {
      database = await createTestDatabase(dialect);
      receiver = new WebhookReceiver();
      await receiver.start();
      dir = await mkdtemp(join(tmpdir(), 'portico-webhooks-kill-'));
    });
    after(async () => {
      await receiver?.stop();
      await database?.dispose();
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('events in flight when Portico is killed are all delivered by the next one, with the same ids', async () => {
      const configPath = join(dir, 'config.yaml');
      await writeFile(
        configPath,
        `model_list:
  - model_name: mock-model
    litellm_params: { model: mock/mock-model, mock_latency_ms: 5 }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  batch: { refresh_after_seconds: 0, poll_interval_ms: 100 }
  webhooks:
    - { url: "${receiver.url}", secret: os.environ/TEST_WEBHOOK_SECRET }
  webhook_delivery: { retry_first_seconds: 0.1, retry_max_seconds: 0.5, timeout_seconds: 30, poll_interval_ms: 50 }
`,
      );
      const env = { DATABASE_URL: database.url, TEST_WEBHOOK_SECRET: SECRET };
      // Held: the dead instance's requests are never answered.
      receiver.delayMs = 120_000;
      const doomed = await spawnPortico({ configPath, env, masterKey: MASTER_KEY, name: 'doomed' });
      const batchIds: string[] = [];
      try {
        for (let i = 0; i < 3; i++) batchIds.push(await completedBatch(doomed.client()));
        await until('every event is on its way', () => batchIds.every((id) => receiver.received.some((r) => r.body.includes(id))));
      } finally {
        await doomed.kill();
      }
      const rows = await database.db.kysely.selectFrom('webhook_deliveries').selectAll().execute();
      assert.equal(rows.length, 3);
      assert.ok(rows.every((row) => row.status === 'pending' && Number(row.attempts) === 0 && row.lease_owner !== null), 'leased by the dead instance, no attempt recorded');

      // The dead instance's leases run out (instead of waiting 65 s for them).
      await database.db.kysely.updateTable('webhook_deliveries').set({ lease_expires_at: 0 }).execute();
      receiver.delayMs = 0;
      const next = await spawnPortico({ configPath, env, masterKey: MASTER_KEY, name: 'next' });
      try {
        await until('every event is delivered', async () => {
          const delivered = await database.db.kysely.selectFrom('webhook_deliveries').select('id').where('status', '=', 'delivered').execute();
          return delivered.length === 3;
        });
      } finally {
        await next.stop();
      }
      const unique = receiver.uniqueEvents();
      assert.deepEqual(unique.map((event) => event.data.id).sort(), [...batchIds].sort(), 'each batch\'s event, once after deduplication');
      for (const event of unique) {
        const requests = receiver.received.filter((r) => r.headers['webhook-id'] === event.id);
        assert.equal(requests.length, 2, 'sent by the dead instance, then again by the next');
        const last = requests[1];
        const unwrapped = await new OpenAI({ apiKey: 'unused', webhookSecret: SECRET }).webhooks.unwrap(last.body, last.headers as Record<string, string>);
        assert.equal(unwrapped.id, event.id);
        assert.equal(unwrapped.type, 'batch.completed');
        assert.deepEqual(new Webhook(SECRET).verify(last.body, last.headers as Record<string, string>), event);
        assert.equal(last.body, requests[0].body, 'the same bytes on every attempt');
      }
    });
  });
}
