/**
 * The webhook outbox and its delivery job on a real database (SQLite and PostgreSQL) with a real
 * receiver, the clock in the test's hand: hours of the default retry schedule (5 s doubling to an
 * hour apart, for 24 h) pass in a second. Asserts what was attempted and in which order, never
 * how long anything took.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import OpenAI from 'openai';
import { Webhook } from 'standardwebhooks';
import { parseConfig } from '../../src/config/load-config.ts';
import type { WebhookSettings } from '../../src/config/types.ts';
import { createWebhookDelivery, type WebhookDeliveryJob } from '../../src/jobs/webhook-delivery.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { BatchStore } from '../../src/storage/batch-store.ts';
import type { Database } from '../../src/storage/database.ts';
import { FileStore } from '../../src/storage/file-store.ts';
import { WebhookStore } from '../../src/storage/webhook-store.ts';
import type { WebhookEvent } from '../../src/webhooks/webhook-events.ts';
import { WebhookOutbox } from '../../src/webhooks/webhook-outbox.ts';
import { signedHeaders } from '../../src/webhooks/webhook-signing.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { refusingPort, WebhookReceiver } from '../helpers/webhook-receiver.ts';
import { newBatch, newFile, uniqueId } from '../storage/fixtures.ts';

const SECRET = `whsec_${Buffer.from('a test secret of 32 bytes, ok!!!').toString('base64')}`;
const TEAM_SECRET = `whsec_${Buffer.from('the team secret, 32 bytes long..').toString('base64')}`;
const HOUR = 3600;

/** Settings as the config loader makes them: the defaults unless `delivery` says otherwise. */
function settingsFor(endpoints: Array<{ url: string; secret?: string; events?: string[]; team_id?: string }>, delivery = ''): WebhookSettings {
  const yaml = `model_list: [{model_name: m, litellm_params: {model: mock/m}}]
portico_settings:
  webhooks: ${JSON.stringify(endpoints.map((e) => ({ secret: SECRET, ...e })))}
${delivery ? `  webhook_delivery: { ${delivery} }\n` : ''}`;
  return parseConfig(yaml).webhooks;
}

class TestClock {
  now: number;
  constructor(now: number) {
    this.now = now;
  }
  read = (): number => this.now;
}

const quietLogger = createLogger({ level: 'silent' });

function deliveryJob(db: Database, settings: WebhookSettings, clock: TestClock, instanceId = 'test-instance', concurrency?: number): WebhookDeliveryJob {
  return createWebhookDelivery({ store: new WebhookStore(db), settings, logger: quietLogger, instanceId, clock: clock.read, random: () => 0.5, ...(concurrency && { concurrency }) });
}

async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function soonestDue(db: Database): Promise<number | undefined> {
  const row = await db.kysely.selectFrom('webhook_deliveries').select((eb) => eb.fn.min('next_attempt_at').as('due')).where('status', '=', 'pending').executeTakeFirst();
  return row?.due === null || row?.due === undefined ? undefined : Number(row.due);
}

/** Moves the clock to each next due attempt and runs a pass, until `done` or nothing is pending. */
async function driveRetries(db: Database, job: WebhookDeliveryJob, clock: TestClock, done: () => boolean | Promise<boolean> = () => false, maxPasses = 200): Promise<void> {
  for (let pass = 0; pass < maxPasses && !(await done()); pass++) {
    const due = await soonestDue(db);
    if (due === undefined) return;
    clock.now = Math.max(clock.now, due);
    await job.runOnce();
  }
}

async function insertBatch(db: Database, owner: string): Promise<string> {
  const input = newFile({ owner });
  await new FileStore(db).insert(input);
  const batch = newBatch(input.id, { owner, status: 'in_progress' });
  await new BatchStore(db).insert(batch);
  return batch.id;
}

forEachDatabase('webhook outbox and delivery', (ctx) => {
  test('a terminal status and its event are stored in one transaction, once: a second finalisation stores neither, a failed event write leaves the status unstored', async () => {
    const receiver = 'http://127.0.0.1:9/unused';
    const settings = settingsFor([{ url: receiver }]);
    const outbox = new WebhookOutbox(new WebhookStore(ctx.db), settings);
    const batches = new BatchStore(ctx.db);
    const store = new WebhookStore(ctx.db);
    const batchId = await insertBatch(ctx.db, 'user:alice');
    const batch = { id: batchId, owner: 'user:alice' };

    assert.equal(await batches.storeTerminal(batchId, { status: 'completed', completedAt: 1 }, {}, outbox.batchEnded(batch, 'completed')), true);
    assert.equal((await batches.getById(batchId))?.status, 'completed');
    const rows = (await store.list({ limit: 100 })).filter((d) => JSON.parse(d.payload).data.id === batchId);
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(JSON.parse(rows[0].payload)), ['object', 'id', 'type', 'created_at', 'data']);
    assert.equal(JSON.parse(rows[0].payload).type, 'batch.completed');

    // Finalised again (a lease that ran out under a slow finaliser): no status change, no second event.
    assert.equal(await batches.storeTerminal(batchId, { status: 'cancelled', cancelledAt: 2 }, {}, outbox.batchEnded(batch, 'cancelled')), false);
    assert.equal((await batches.getById(batchId))?.status, 'completed');
    assert.equal((await store.list({ limit: 100 })).filter((d) => JSON.parse(d.payload).data.id === batchId).length, 1);

    // The event cannot be written: the terminal status is not stored either (the sync retries both).
    const other = await insertBatch(ctx.db, 'user:alice');
    const failing = { write: async () => Promise.reject(new Error('disk full')) };
    await assert.rejects(batches.storeTerminal(other, { status: 'failed', failedAt: 1 }, {}, failing), /disk full/);
    assert.equal((await batches.getById(other))?.status, 'in_progress');
  });

  test('an endpoint with a team_id gets only that team\'s events; one without gets every event', async () => {
    const settings = settingsFor([
      { url: 'http://127.0.0.1:9/all' },
      { url: 'http://127.0.0.1:9/team-a', secret: TEAM_SECRET, team_id: 'team-a' },
    ]);
    const outbox = new WebhookOutbox(new WebhookStore(ctx.db), settings);
    const batches = new BatchStore(ctx.db);
    const ofTeamA = await insertBatch(ctx.db, 'team:team-a');
    const ofTeamB = await insertBatch(ctx.db, 'team:team-b');
    await batches.storeTerminal(ofTeamA, { status: 'expired', expiredAt: 1 }, {}, outbox.batchEnded({ id: ofTeamA, owner: 'team:team-a' }, 'expired'));
    await batches.storeTerminal(ofTeamB, { status: 'expired', expiredAt: 1 }, {}, outbox.batchEnded({ id: ofTeamB, owner: 'team:team-b' }, 'expired'));
    await outbox.emit('budget.exceeded', { id: 'team-a', max_budget: 10 }, { owner: 'team:team-a', occurrence: 'period-1' });
    await outbox.emit('budget.exceeded', { id: 'team-a', max_budget: 10 }, { owner: 'team:team-a', occurrence: 'period-1' });
    const rows = await new WebhookStore(ctx.db).list({ limit: 100 });
    const endpointsOf = (subject: string, type: string) =>
      rows
        .filter((d) => d.eventType === type && JSON.parse(d.payload).data.id === subject)
        .map((d) => new URL(d.endpointUrl).pathname)
        .sort();
    assert.deepEqual(endpointsOf(ofTeamA, 'batch.expired'), ['/all', '/team-a']);
    assert.deepEqual(endpointsOf(ofTeamB, 'batch.expired'), ['/all']);
    // The same budget event written twice (same occurrence) is one event.
    assert.deepEqual(endpointsOf('team-a', 'budget.exceeded'), ['/all', '/team-a']);
  });

  test('a receiver down for an hour on the default schedule gets the event when it is back: same id on every attempt, attempts in order, verified by both libraries', async () => {
    const port = await refusingPort();
    const url = `http://127.0.0.1:${port}/hooks`;
    const settings = settingsFor([{ url }]);
    assert.deepEqual([settings.retryFirstMs, settings.retryMaxMs, settings.giveUpAfterMs], [5_000, 3_600_000, 24 * 3_600_000], 'the default schedule');
    const clock = new TestClock(2_000_000_000);
    const outbox = new WebhookOutbox(new WebhookStore(ctx.db), settings, clock.read);
    const event = await outbox.emit('batch.completed', { id: uniqueId('batch_') });
    assert.ok(event);
    const job = deliveryJob(ctx.db, settings, clock);
    const start = clock.now;
    const deliveryOf = async () => (await new WebhookStore(ctx.db).list({ limit: 100 })).find((d) => d.eventId === event.id)!;

    // Down: every attempt is refused, for an hour of the schedule.
    await driveRetries(ctx.db, job, clock, () => clock.now >= start + HOUR);
    const whileDown = await deliveryOf();
    assert.equal(whileDown.status, 'pending');
    assert.match(whileDown.lastError ?? '', /ECONNREFUSED|connect/i);
    // 5, 10, 20, ... s apart: an hour of them is about a dozen attempts, not thousands.
    assert.ok(whileDown.attempts >= 8 && whileDown.attempts <= 14, `${whileDown.attempts} attempts in the hour`);

    const receiver = new WebhookReceiver();
    await receiver.start(port);
    try {
      await driveRetries(ctx.db, job, clock, () => receiver.received.length > 0);
      const delivered = await deliveryOf();
      assert.equal(delivered.status, 'delivered');
      assert.equal(receiver.received.length, 1);
      const request = receiver.received[0];
      assert.equal(request.headers['webhook-id'], event.id);
      const unwrapped = await new OpenAI({ apiKey: 'unused', webhookSecret: SECRET }).webhooks.unwrap(request.body, request.headers as Record<string, string>);
      assert.deepEqual(unwrapped, event);
      assert.deepEqual(new Webhook(SECRET).verify(request.body, request.headers as Record<string, string>), event);
      const attempts = await new WebhookStore(ctx.db).attemptsOf(delivered.id);
      assert.deepEqual(attempts.map((a) => a.attempt), Array.from({ length: delivered.attempts }, (_, i) => i + 1));
      assert.ok(attempts.slice(0, -1).every((a) => a.statusCode === null && a.error !== null), 'every attempt before was refused');
      assert.equal(attempts.at(-1)?.statusCode, 200);
      // Backoff: each wait at least as long as the one before (doubling, then capped).
      const gaps = attempts.slice(1).map((a, i) => a.startedAt - attempts[i].startedAt);
      assert.ok(gaps.every((gap, i) => i === 0 || gap >= gaps[i - 1]), `gaps ${gaps.join(', ')}`);
    } finally {
      await job.stop();
      await receiver.stop();
    }
  });

  test('an event its receiver never takes is given up after 24 h of the default schedule, and not tried again', async () => {
    const receiver = new WebhookReceiver();
    await receiver.start();
    receiver.answer = () => 500;
    const settings = settingsFor([{ url: receiver.url }]);
    const clock = new TestClock(2_100_000_000);
    const outbox = new WebhookOutbox(new WebhookStore(ctx.db), settings, clock.read);
    const event = (await outbox.emit('batch.failed', { id: uniqueId('batch_') }))!;
    const job = deliveryJob(ctx.db, settings, clock);
    try {
      await driveRetries(ctx.db, job, clock);
      const delivery = (await new WebhookStore(ctx.db).list({ status: 'failed', limit: 100 })).find((d) => d.eventId === event.id);
      assert.ok(delivery, 'marked failed');
      assert.equal(receiver.received.length, delivery.attempts);
      assert.ok(delivery.attempts > 20, `${delivery.attempts} attempts over the day`);
      assert.ok(clock.now - event.created_at <= 24 * HOUR, 'no attempt after the 24 h');
      assert.ok(receiver.received.every((r) => r.headers['webhook-id'] === event.id));
      clock.now += 7 * 24 * HOUR;
      await job.runOnce();
      assert.equal(receiver.received.length, delivery.attempts, 'nothing sent after giving up');
    } finally {
      await job.stop();
      await receiver.stop();
    }
  });

  test('an instance that died while delivering: its lease runs out and another sends the event again, with the same id', async () => {
    const receiver = new WebhookReceiver();
    await receiver.start();
    const settings = settingsFor([{ url: receiver.url }], 'timeout_seconds: 2');
    const clock = new TestClock(2_200_000_000);
    const store = new WebhookStore(ctx.db);
    const event = (await new WebhookOutbox(store, settings, clock.read).emit('batch.completed', { id: uniqueId('batch_') }))!;
    // The dead instance leased the delivery and sent it, then died before recording the attempt.
    const [leased] = await store.claimDue('dead-instance:webhooks', 16, 9_000, clock.now);
    assert.equal(leased.eventId, event.id);
    await fetch(receiver.url, { method: 'POST', headers: signedHeaders(SECRET, leased.eventId, leased.payload), body: leased.payload });
    const job = deliveryJob(await ctx.openAnother({ migrate: false }), settings, clock, 'survivor');
    try {
      await job.runOnce();
      assert.equal(receiver.received.length, 1, 'not sent while the lease holds');
      clock.now += 9;
      await job.runOnce();
      assert.equal(receiver.received.length, 2);
      assert.deepEqual(receiver.received.map((r) => r.headers['webhook-id']), [event.id, event.id]);
      assert.deepEqual(receiver.uniqueEvents(), [event], 'a receiver deduplicating by id sees it once');
      const delivered = (await store.list({ status: 'delivered', limit: 100 })).find((d) => d.eventId === event.id);
      assert.equal(delivered?.attempts, 1);
    } finally {
      await job.stop();
      await receiver.stop();
    }
  });

  test('a receiver that holds its requests does not hold back deliveries to another', async () => {
    const slow = new WebhookReceiver();
    const fast = new WebhookReceiver();
    await slow.start();
    await fast.start();
    slow.delayMs = 120_000;
    const settings = settingsFor([{ url: slow.url, events: ['batch.expired'] }, { url: fast.url, events: ['batch.completed'] }], 'timeout_seconds: 30, poll_interval_ms: 20');
    const store = new WebhookStore(ctx.db);
    const outbox = new WebhookOutbox(store, settings);
    const job = createWebhookDelivery({ store, settings, logger: quietLogger, instanceId: 'hol' });
    outbox.onWritten(() => job.wake());
    job.start();
    try {
      const held = (await outbox.emit('batch.expired', { id: uniqueId('batch_') }))!;
      await until(() => slow.received.length === 1, 'the slow receiver holds its request');
      const quick = (await outbox.emit('batch.completed', { id: uniqueId('batch_') }))!;
      await until(async () => (await store.list({ status: 'delivered', limit: 100 })).some((d) => d.eventId === quick.id), 'the other event is delivered');
      const stillHeld = (await store.list({ limit: 100 })).find((d) => d.eventId === held.id);
      assert.deepEqual([stillHeld?.status, stillHeld?.attempts], ['pending', 0], 'delivered while the first is still in flight');
      await slow.stop(); // the held request fails now, and is recorded before stop() returns
    } finally {
      await job.stop();
      await slow.stop();
      await fast.stop();
    }
    const failedOnce = (await store.list({ limit: 100 })).find((d) => d.eventType === 'batch.expired' && d.endpointUrl === slow.url);
    assert.equal(failedOnce?.attempts, 1, 'the interrupted attempt is recorded');
  });

  test('two instances delivering one outbox: each event sent by one at a time, every event delivered once', async () => {
    const receiver = new WebhookReceiver();
    await receiver.start();
    receiver.delayMs = 20;
    const settings = settingsFor([{ url: receiver.url }]);
    const clock = new TestClock(2_300_000_000);
    const outbox = new WebhookOutbox(new WebhookStore(ctx.db), settings, clock.read);
    const events: WebhookEvent[] = [];
    for (let i = 0; i < 24; i++) events.push((await outbox.emit('batch.completed', { id: uniqueId('batch_') }))!);
    const jobs = [deliveryJob(ctx.db, settings, clock, 'first', 4), deliveryJob(await ctx.openAnother({ migrate: false }), settings, clock, 'second', 4)];
    try {
      for (let round = 0; round < 20 && receiver.received.length < events.length; round++) await Promise.all(jobs.map((job) => job.runOnce()));
      assert.equal(receiver.maxConcurrentPerId, 1, 'never two requests for one event at once');
      assert.deepEqual(receiver.events().map((e) => e.id).sort(), events.map((e) => e.id).sort(), 'each event once');
      const rows = (await new WebhookStore(ctx.db).list({ limit: 100 })).filter((d) => events.some((e) => e.id === d.eventId));
      assert.ok(rows.every((d) => d.status === 'delivered' && d.attempts === 1));
    } finally {
      await Promise.all(jobs.map((job) => job.stop()));
      await receiver.stop();
    }
  });
});
