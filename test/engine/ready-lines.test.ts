/**
 * Issue 15: the engine leases a few lines ahead of its free slots and holds them ready, so a
 * finished call's slot is taken in the same turn instead of after the next lease query. Ready
 * lines never exceed `batch_concurrency` calls upstream, are given back to `pending` when the
 * engine stops, and every line still runs exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { forEachDatabase } from '../helpers/databases.ts';
import { chatLines, customIds, startEngineHarness, waitUntil, type EngineHarness } from './engine-harness.ts';

const MODEL_LIST = `
model_list:
  - model_name: ready-mock
    litellm_params:
      model: mock/ready
      mock_latency_ms: 150
      batch_concurrency: 4
    model_info: { id: ready-mock }
`;

forEachDatabase('lines held ready for free slots', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    // Half the concurrency held ready: two lines beside four calls.
    h = await startEngineHarness(ctx.db, MODEL_LIST, { engine: { readyAhead: 0.5 } });
  });
  after(async () => h.close());

  test('a slot freed by a finished call is taken by a ready line, even while leasing is held up', async () => {
    const lines = chatLines(12, 'ready-mock', { prefix: 'gate' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    // Every lease after the first waits until the test opens the gate: only lines leased ahead
    // can take the slots that free up meanwhile.
    const items = h.items as { leaseItems: typeof h.items.leaseItems };
    const realLease = h.items.leaseItems.bind(h.items);
    let leases = 0;
    let openGate!: () => void;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    items.leaseItems = async (...args) => {
      if (leases++ > 0) await gate;
      return realLease(...args);
    };
    const engine = h.newEngine({ readyAhead: 0.5 });
    const callsOf = () => h.attempts.filter((a) => a.requestId?.includes(id)).length;
    try {
      engine.start();
      // Four calls from free slots, then the two ready lines once the first calls end.
      await waitUntil(() => callsOf() >= 6, 20_000, 'six calls with one lease');
      assert.ok(engine.calling <= 4, `${engine.calling} calls at once on a deployment with batch_concurrency 4`);
    } finally {
      openGate();
      delete (items as Partial<typeof items>).leaseItems;
    }
    try {
      const batch = await h.waitForStatus(id, ['completed']);
      const { output } = await h.results(batch);
      assert.deepEqual(customIds(output), customIds(lines));
    } finally {
      await engine.stop();
    }
    assert.equal(callsOf(), 12, 'each line was called once');
  });

  test('ready lines are given back at a stop, and every line still runs once', async () => {
    const lines = chatLines(40, 'ready-mock', { prefix: 'ready' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    const first = h.newEngine({ readyAhead: 0.5 });
    first.start();
    await waitUntil(async () => (await h.items.countByState(id)).succeeded >= 8, 20_000, 'some lines done');
    await first.stop();
    const stopped = await h.items.countByState(id);
    assert.equal(stopped.running, 0, 'a stopped engine holds no lease, ready lines included');
    assert.equal(stopped.pending, 40 - stopped.succeeded);

    // Another engine finishes the batch: each line ran once.
    const next = h.newEngine({ readyAhead: 0.5 });
    next.start();
    try {
      const batch = await h.waitForStatus(id, ['completed']);
      const { output, errors } = await h.results(batch);
      assert.equal(errors.length, 0);
      assert.deepEqual(customIds(output), customIds(lines));
    } finally {
      await next.stop();
    }
    const calls = h.attempts.filter((a) => a.requestId?.includes(id));
    assert.equal(calls.length, 40, 'no line was called twice');
  });
});

const BUSY_LANE = `
model_list:
  - model_name: busy-mock
    litellm_params:
      model: mock/busy
      mock_latency_ms: 20
      batch_concurrency: 16
    model_info: { id: busy-mock }
`;

forEachDatabase('a busy lane leases its lines in groups', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(ctx.db, BUSY_LANE);
  });
  after(async () => h.close());

  test('with the default lines ahead, a lane of 16 leases once per 4 finished lines or more, not once per line or two', async () => {
    const lines = chatLines(240, 'busy-mock', { prefix: 'busy' });
    const id = await h.createBatch(lines);
    await h.waitForStatus(id, ['in_progress']);
    const items = h.items as { leaseItems: typeof h.items.leaseItems };
    const realLease = h.items.leaseItems.bind(h.items);
    const leased: number[] = [];
    items.leaseItems = async (...args) => {
      const got = await realLease(...args);
      if (args[0] === id && got.length > 0) leased.push(got.length);
      return got;
    };
    const engine = h.newEngine();
    try {
      engine.start();
      const batch = await h.waitForStatus(id, ['completed']);
      const { output } = await h.results(batch);
      assert.deepEqual(customIds(output), customIds(lines));
    } finally {
      delete (items as Partial<typeof items>).leaseItems;
      await engine.stop();
    }
    // Half a lane ahead (8 lines), refilled once half of them are used: groups of 4 at least
    // while calls run (the first fill takes 24, the last ones what is left). One query per two
    // lines (an eighth of the lane each) would be 100 leases or more.
    assert.equal(leased.reduce((a, b) => a + b, 0), 240);
    assert.ok(leased.length <= 240 / 4 + 4, `${leased.length} leases for 240 lines: ${leased.join(' ')}`);
  });
});
