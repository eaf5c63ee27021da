/**
 * Issue 12, webhooks: a batch's terminal state becomes an event in the outbox, delivered to a
 * receiver started by the test, signed per Standard Webhooks and verified with both the `openai`
 * SDK's `webhooks.unwrap` and the `standardwebhooks` library; retried with backoff while the
 * receiver fails or is down, with the same event id every time; never lost across a restart;
 * delivered once at a time by two instances on one PostgreSQL. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { Webhook } from 'standardwebhooks';
import { parseConfig } from '../../src/config/load-config.ts';
import { WEBHOOK_EVENT_TYPES } from '../../src/config/types.ts';
import { retryDelayMs } from '../../src/jobs/webhook-delivery.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { refusingPort, WebhookReceiver as Receiver } from '../helpers/webhook-receiver.ts';

const MASTER_KEY = 'sk-webhooks-master-0123456789';
const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('another secret, 32 bytes long...').toString('base64')}`;

function config(receivers: Array<{ url: string; secret?: string; events?: string[]; team_id?: string }>, delivery = 'retry_first_seconds: 0.05, retry_max_seconds: 0.2, timeout_seconds: 0.5, poll_interval_ms: 50'): string {
  return `
model_list:
  - model_name: mock-model
    litellm_params:
      model: mock/mock-model
      mock_latency_ms: 10
  - model_name: slow-model
    litellm_params:
      model: mock/slow
      mock_latency_ms: 400
      batch_concurrency: 1
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  batch: { refresh_after_seconds: 0, poll_interval_ms: 100 }
  webhooks:
${receivers.map((r) => `    - { url: "${r.url}", secret: "${r.secret ?? SECRET}"${r.events ? `, events: [${r.events.join(', ')}]` : ''}${r.team_id ? `, team_id: ${r.team_id}` : ''} }`).join('\n')}
  webhook_delivery: { ${delivery} }
`;
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function runBatch(client: OpenAI, model: string, lines: number, options: { cancel?: boolean } = {}): Promise<OpenAI.Batches.Batch> {
  const jsonl = Array.from({ length: lines }, (_, i) => JSON.stringify({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `q${i}` }] } })).join('\n');
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
  let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  if (options.cancel) batch = await client.batches.cancel(batch.id);
  await until(`batch ${batch.id} ends`, async () => ['completed', 'failed', 'expired', 'cancelled'].includes((batch = await client.batches.retrieve(batch.id)).status));
  return batch;
}

test('retry delays double from the first, are capped, and carry +-20% jitter', () => {
  const settings = { retryFirstMs: 1_000, retryMaxMs: 5_000 };
  assert.equal(retryDelayMs(1, settings, () => 0.5), 1_000);
  assert.equal(retryDelayMs(3, settings, () => 0.5), 4_000);
  assert.equal(retryDelayMs(9, settings, () => 0.5), 5_000);
  assert.equal(retryDelayMs(1, settings, () => 0), 800);
  assert.ok(Math.abs(retryDelayMs(1, settings, () => 0.999_999) - 1_200) < 0.01);
});

test('webhook config: a bad URL, a secret not in Standard Webhooks form, an unknown event are errors naming the path', () => {
  const yaml = (entry: string) => `model_list: [{model_name: m, litellm_params: {model: mock/m}}]\nportico_settings:\n  webhooks:\n    - ${entry}\n`;
  assert.throws(() => parseConfig(yaml(`{url: "ftp://x", secret: "${SECRET}"}`)), /portico_settings\.webhooks\[0\]\.url: "ftp:\/\/x" is not an http\(s\) URL/);
  assert.throws(() => parseConfig(yaml('{url: "https://x.example", secret: "hunter2"}')), /portico_settings\.webhooks\[0\]\.secret: must be a Standard Webhooks secret/);
  assert.throws(() => parseConfig(yaml(`{url: "https://x.example", secret: "${SECRET}", events: [batch.done]}`)), /webhooks\[0\]\.events: unknown event type "batch\.done"/);
  assert.throws(
    () => parseConfig(`model_list: [{model_name: m, litellm_params: {model: mock/m}}]\nportico_settings:\n  webhooks:\n    - {url: "https://x.example/h", secret: "${SECRET}"}\n    - {url: "https://x.example/h", secret: "${OTHER_SECRET}"}\n`),
    /webhooks\[1\]\.url: "https:\/\/x\.example\/h" is listed twice/,
  );
  assert.throws(() => parseConfig(yaml('{url: "https://x.example", secret: os.environ/UNSET_WEBHOOK_SECRET}'), {}), /UNSET_WEBHOOK_SECRET/);
  const ok = parseConfig(yaml(`{url: "https://x.example/h", secret: "${SECRET}", events: [batch.failed]}`));
  assert.deepEqual(ok.webhooks.endpoints, [{ url: 'https://x.example/h', secret: SECRET, events: ['batch.failed'], teamId: null }]);
  const fromEnv = parseConfig(yaml('{url: "https://x.example/t", secret: os.environ/TEAM_HOOK_SECRET, team_id: team-a}'), { TEAM_HOOK_SECRET: OTHER_SECRET });
  assert.deepEqual(fromEnv.webhooks.endpoints, [{ url: 'https://x.example/t', secret: OTHER_SECRET, events: [...WEBHOOK_EVENT_TYPES], teamId: 'team-a' }]);
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`webhooks [${dialect}]`, () => {
    let receiver: Receiver;
    let picky: Receiver;
    let teamReceiver: Receiver;
    let portico: PorticoUnderTest;

    before(async () => {
      receiver = new Receiver();
      picky = new Receiver();
      teamReceiver = new Receiver();
      await receiver.start();
      await picky.start();
      await teamReceiver.start();
      portico = await startPortico(
        config([{ url: receiver.url }, { url: picky.url, secret: OTHER_SECRET, events: ['batch.failed'] }, { url: teamReceiver.url, secret: OTHER_SECRET, team_id: 'team-hooks' }]),
        { dialect },
      );
    });
    after(async () => {
      await portico?.close();
      await receiver?.stop();
      await picky?.stop();
      await teamReceiver?.stop();
    });

    test("a team's endpoint gets the events of batches its keys made, and no one else's", async () => {
      const teamKey = await portico.generateKey({ team_id: 'team-hooks' });
      const ofTeam = await runBatch(portico.client(teamKey.key), 'mock-model', 1);
      const ofMaster = await runBatch(portico.client(), 'mock-model', 1);
      await until('both events reach the endpoint without a team', () => [ofTeam.id, ofMaster.id].every((id) => receiver.eventsOf('batch.completed').some((e) => e.data.id === id)));
      await until("the team's event reaches the team's endpoint", () => teamReceiver.eventsOf('batch.completed').some((e) => e.data.id === ofTeam.id));
      const request = teamReceiver.received.find((r) => r.body.includes(ofTeam.id))!;
      const event = await new OpenAI({ apiKey: 'unused', webhookSecret: OTHER_SECRET }).webhooks.unwrap(request.body, request.headers as Record<string, string>);
      assert.equal((event.data as { id: string }).id, ofTeam.id);
      assert.deepEqual(teamReceiver.events().map((e) => e.data.id), [ofTeam.id], 'only its own batch');
    });

    test('a receiver that does not answer in time is retried (the attempt recorded as a timeout) until it answers', async () => {
      receiver.delayMs = 5_000;
      const batch = await runBatch(portico.client(), 'mock-model', 1);
      await until('two attempts timed out', () => receiver.received.filter((r) => r.body.includes(batch.id)).length >= 2);
      receiver.delayMs = 0;
      const list = (await (await portico.fetch('/webhooks/deliveries?type=batch.completed')).json()) as { data: Array<{ id: string; event: { data: { id: string } } }> };
      const delivery = list.data.find((d) => d.event.data.id === batch.id)!;
      await until('delivered', async () => ((await (await portico.fetch(`/webhooks/deliveries/${delivery.id}`)).json()) as { status: string }).status === 'delivered');
      const detail = (await (await portico.fetch(`/webhooks/deliveries/${delivery.id}`)).json()) as { attempt_history: Array<{ status_code: number | null; error: string | null }> };
      assert.ok(detail.attempt_history.length >= 3);
      assert.ok(detail.attempt_history.slice(0, 2).every((a) => a.status_code === null && /timeout|abort/i.test(a.error ?? '')), JSON.stringify(detail.attempt_history));
      assert.deepEqual(detail.attempt_history.at(-1), { ...detail.attempt_history.at(-1), status_code: 200, error: null });
      const ids = new Set(receiver.received.filter((r) => r.body.includes(batch.id)).map((r) => r.headers['webhook-id']));
      assert.equal(ids.size, 1, 'the same event id on every attempt');
    });

    test("a completed batch's event arrives signed, verified by the openai SDK and by standardwebhooks", async () => {
      const batch = await runBatch(portico.client(), 'mock-model', 3);
      assert.equal(batch.status, 'completed');
      await until('the event arrives', () => receiver.eventsOf('batch.completed').some((event) => event.data.id === batch.id));
      const request = receiver.received.find((r) => r.body.includes(batch.id))!;
      const verifier = new OpenAI({ apiKey: 'unused', webhookSecret: SECRET });
      const event = await verifier.webhooks.unwrap(request.body, request.headers as Record<string, string>);
      assert.equal(event.type, 'batch.completed');
      assert.equal(event.data.id, batch.id);
      assert.equal(event.object, 'event');
      assert.match(event.id, /^evt_[0-9a-f]{32}$/);
      assert.equal(request.headers['webhook-id'], event.id);
      assert.deepEqual(new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>), JSON.parse(request.body));
      // Signed with this endpoint's secret only: another secret does not verify it.
      await assert.rejects(new OpenAI({ apiKey: 'unused', webhookSecret: OTHER_SECRET }).webhooks.unwrap(request.body, request.headers as Record<string, string>));
      // The picky endpoint wants batch.failed only.
      assert.deepEqual(picky.received, []);
      // The receiver has the request before Portico has its answer: the attempt is recorded just after.
      await until('the delivery is listed as delivered after one attempt', async () => {
        const listed = (await (await portico.fetch('/webhooks/deliveries?status=delivered&type=batch.completed')).json()) as { data: Array<{ event_id: string; status: string; attempts: number }> };
        return listed.data.some((d) => d.event_id === event.id && d.attempts === 1);
      });
    });

    test('a failing receiver gets the event again with backoff, with the same id, until it answers 2xx; the attempts are listed', async () => {
      let calls = 0;
      receiver.answer = () => (++calls <= 2 ? 503 : 200);
      const batch = await runBatch(portico.client(), 'slow-model', 1, { cancel: true });
      assert.equal(batch.status, 'cancelled');
      await until('the third attempt succeeds', () => calls >= 3);
      receiver.answer = () => 200;
      const attempts = receiver.received.filter((r) => r.body.includes(batch.id));
      assert.equal(attempts.length, 3);
      assert.equal(new Set(attempts.map((r) => r.headers['webhook-id'])).size, 1, 'one event id on every attempt');
      // A receiver that deduplicates by id sees one event.
      assert.equal(new Set(receiver.eventsOf('batch.cancelled').filter((e) => e.data.id === batch.id).map((e) => e.id)).size, 1);
      const list = (await (await portico.fetch('/webhooks/deliveries?type=batch.cancelled')).json()) as { data: Array<{ id: string; event: { data: { id: string } } }> };
      const delivery = list.data.find((d) => d.event.data.id === batch.id)!;
      await until('the delivery is recorded as delivered', async () => ((await (await portico.fetch(`/webhooks/deliveries/${delivery.id}`)).json()) as { status: string }).status === 'delivered');
      const detail = (await (await portico.fetch(`/webhooks/deliveries/${delivery.id}`)).json()) as { attempts: number; attempt_history: Array<{ attempt: number; status_code: number; error: string | null }> };
      assert.equal(detail.attempts, 3);
      assert.deepEqual(detail.attempt_history.map((a) => [a.attempt, a.status_code]), [[1, 503], [2, 503], [3, 200]]);
      assert.match(detail.attempt_history[0].error!, /^HTTP 503/);
      assert.equal(detail.attempt_history[2].error, null);
    });

    test('the delivery API is the master key\'s, and an unknown delivery is a 404 in OpenAI\'s envelope', async () => {
      const key = await portico.generateKey({});
      assert.equal((await portico.fetch('/webhooks/deliveries', { apiKey: key.key })).status, 403);
      const missing = await portico.fetch('/webhooks/deliveries/whd_nope');
      assert.equal(missing.status, 404);
      assert.equal(((await missing.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
      assert.equal((await portico.fetch('/webhooks/deliveries?limit=1000')).status, 400);
    });
  });
}

describe('webhooks across a restart, a receiver that is down, and two instances [postgres]', () => {
  let database: TestDatabase;
  before(async () => {
    database = await createTestDatabase('postgres');
  });
  after(async () => database?.dispose());

  test('an event written while the receiver is down survives a restart and is delivered when the receiver comes up', async () => {
    // A port with nothing listening yet: connections are refused.
    const port = await refusingPort();
    const url = `http://127.0.0.1:${port}/hooks`;
    let portico = await startPortico(config([{ url }]), { databaseUrl: database.url });
    let batchId: string;
    try {
      batchId = (await runBatch(portico.client(), 'mock-model', 2)).id;
      await until('an attempt failed', async () => {
        const list = (await (await portico.fetch('/webhooks/deliveries')).json()) as { data: Array<{ attempts: number; event: { data: { id: string } } }> };
        return list.data.some((d) => d.event.data.id === batchId && d.attempts >= 1);
      });
    } finally {
      await portico.close();
    }
    const receiver = new Receiver();
    await receiver.start(port);
    portico = await startPortico(config([{ url }]), { databaseUrl: database.url });
    try {
      await until('the event arrives after the restart', () => receiver.eventsOf('batch.completed').some((e) => e.data.id === batchId));
      const request = receiver.received.find((r) => r.body.includes(batchId))!;
      const event = await new OpenAI({ apiKey: 'unused', webhookSecret: SECRET }).webhooks.unwrap(request.body, request.headers as Record<string, string>);
      assert.equal((event.data as { id: string }).id, batchId);
    } finally {
      await portico.close();
      await receiver.stop();
    }
  });

  test('two instances on one database deliver each event once at a time; an event never delivered in time is given up', async () => {
    const receiver = new Receiver();
    await receiver.start();
    receiver.delayMs = 150;
    const yaml = config([{ url: receiver.url }], 'retry_first_seconds: 0.05, retry_max_seconds: 0.2, poll_interval_ms: 20');
    const first = await startPortico(yaml, { databaseUrl: database.url });
    const second = await startPortico(yaml, { databaseUrl: database.url });
    try {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push((await runBatch((i % 2 === 0 ? first : second).client(), 'mock-model', 1)).id);
      await until('every event arrived', () => ids.every((id) => receiver.eventsOf('batch.completed').some((e) => e.data.id === id)));
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const id of ids) assert.equal(receiver.eventsOf('batch.completed').filter((e) => e.data.id === id).length, 1, `batch ${id}: delivered once`);
    } finally {
      await first.close();
      await second.close();
    }

    receiver.answer = () => 500;
    receiver.delayMs = 0;
    const impatient = await startPortico(config([{ url: receiver.url }], 'retry_first_seconds: 0.05, retry_max_seconds: 0.1, give_up_after_hours: 0.0002, poll_interval_ms: 20'), { databaseUrl: database.url });
    try {
      const batchId = (await runBatch(impatient.client(), 'mock-model', 1)).id;
      await until('the delivery is given up', async () => {
        const list = (await (await impatient.fetch('/webhooks/deliveries?status=failed')).json()) as { data: Array<{ event: { data: { id: string } } }> };
        return list.data.some((d) => d.event.data.id === batchId);
      });
      const attempts = receiver.received.filter((r) => r.body.includes(batchId)).length;
      assert.ok(attempts >= 2, `${attempts} attempts before giving up`);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(receiver.received.filter((r) => r.body.includes(batchId)).length, attempts, 'no attempt after giving up');
    } finally {
      await impatient.close();
      await receiver.stop();
    }
  });
});
