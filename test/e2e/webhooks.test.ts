/**
 * Issue 12, webhooks: a batch's terminal state becomes an event in the outbox, delivered to a
 * receiver started by the test, signed per Standard Webhooks and verified with both the `openai`
 * SDK's `webhooks.unwrap` and the `standardwebhooks` library; retried with backoff while the
 * receiver fails or is down, with the same event id every time; never lost across a restart;
 * delivered once at a time by two instances on one PostgreSQL. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { Webhook } from 'standardwebhooks';
import { parseConfig } from '../../src/config/load-config.ts';
import { retryDelayMs } from '../../src/webhooks/webhook-delivery.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const MASTER_KEY = 'sk-webhooks-master-0123456789';
const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`;
const OTHER_SECRET = `whsec_${Buffer.from('another secret, 32 bytes long...').toString('base64')}`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A webhook receiver: records every request, answers what `answer` says (default 200). */
class Receiver {
  readonly received: Received[] = [];
  answer: (request: Received) => number = () => 200;
  delayMs = 0;
  #server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const request = { headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
        this.received.push(request);
        setTimeout(() => {
          res.statusCode = this.answer(request);
          res.end('ok');
        }, this.delayMs);
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async stop(): Promise<void> {
    this.#server?.closeAllConnections();
    await new Promise((resolve) => this.#server?.close(resolve));
  }

  eventsOf(type: string): Array<{ id: string; type: string; data: { id: string } }> {
    return this.received.map((r) => JSON.parse(r.body) as { id: string; type: string; data: { id: string } }).filter((event) => event.type === type);
  }
}

function config(receivers: Array<{ url: string; secret?: string; events?: string[] }>, delivery = 'retry_first_seconds: 0.05, retry_max_seconds: 0.2, poll_interval_ms: 50'): string {
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
${receivers.map((r) => `    - { url: "${r.url}", secret: "${r.secret ?? SECRET}"${r.events ? `, events: [${r.events.join(', ')}]` : ''} }`).join('\n')}
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
  const ok = parseConfig(yaml(`{url: "https://x.example/h", secret: "${SECRET}", events: [batch.failed]}`));
  assert.deepEqual(ok.webhooks.endpoints, [{ url: 'https://x.example/h', secret: SECRET, events: ['batch.failed'] }]);
});

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`webhooks [${dialect}]`, () => {
    let receiver: Receiver;
    let picky: Receiver;
    let portico: PorticoUnderTest;

    before(async () => {
      receiver = new Receiver();
      picky = new Receiver();
      await receiver.start();
      await picky.start();
      portico = await startPortico(config([{ url: receiver.url }, { url: picky.url, secret: OTHER_SECRET, events: ['batch.failed'] }]), { dialect });
    });
    after(async () => {
      await portico?.close();
      await receiver?.stop();
      await picky?.stop();
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
      const listed = (await (await portico.fetch('/webhooks/deliveries?status=delivered&type=batch.completed')).json()) as { data: Array<{ event_id: string; status: string; attempts: number }> };
      assert.ok(listed.data.some((d) => d.event_id === event.id && d.attempts === 1));
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
    const probe = new Receiver();
    await probe.start();
    const port = probe.port;
    await probe.stop();
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
