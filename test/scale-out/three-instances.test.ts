/**
 * Three Portico processes on one PostgreSQL database (file bytes included: `blob_store:
 * database`, no shared directory) and one Redis (a key prefix of this run's own), in front of
 * the OpenAI simulator, driven with the official
 * `openai` SDK: what one instance starts, the others see and finish; leased work (the batch
 * poller, the batch engine) is done by one instance at a time; a key's rpm limit holds across
 * the three; and an instance killed with SIGKILL in the middle of a batch loses nothing.
 *
 * Each instance reaches the upstream through `<relay>/via/<name>/v1`, so the relay in front of
 * the simulator knows which instance sent what, and when each exchange started and ended.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { spawnPortico, type PorticoProcess } from './portico-process.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from './redis-helpers.ts';
import { overlappingRequests, startTimingRelay, type TimingRelay } from './timing-relay.ts';

const MASTER_KEY = 'sk-scale-out-master-0123456789abcdef';
const NAMES = ['a', 'b', 'c'] as const;
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

function configFor(name: string, relay: TimingRelay): string {
  const apiBase = `${relay.origin}/via/${name}/v1`;
  return `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${apiBase}", api_key: os.environ/SCALE_OUT_UPSTREAM_KEY }
    model_info: { id: native-openai }
  - model_name: emulated
    litellm_params: { model: hosted_vllm/llama-3.1-8b, api_base: "${apiBase}", api_key: os.environ/SCALE_OUT_UPSTREAM_KEY, batch_concurrency: 4 }
    model_info: { id: emulated-vllm }
  - model_name: fast
    litellm_params: { model: mock/fast }
    model_info: { id: fast-mock }
  - model_name: metered
    litellm_params: { model: mock/metered, rpm: 5 }
    model_info: { id: metered-mock }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
  timeout: 30
portico_settings:
  files:
    # File bytes in PostgreSQL: the three instances share no directory.
    blob_store: database
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 100
    lease_seconds: 2
`;
}

function jsonl(model: string, tag: string, count: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ custom_id: `${tag}-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `${tag} line ${i}` }] } }),
  ).join('\n');
}

async function createBatch(client: OpenAI, model: string, tag: string, count: number): Promise<OpenAI.Batches.Batch> {
  const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(model, tag, count)), `${tag}.jsonl`), purpose: 'batch' });
  return client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
}

async function waitForEnd(client: OpenAI, id: string, timeoutMs: number, onPoll?: () => Promise<void>): Promise<OpenAI.Batches.Batch> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (TERMINAL.has(batch.status)) return batch;
    if (Date.now() > deadline) throw new Error(`batch ${id} still ${batch.status} after ${timeoutMs} ms (${JSON.stringify(batch.request_counts)})`);
    await onPoll?.();
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function outputLines(client: OpenAI, fileId: string | null | undefined): Promise<Array<{ custom_id: string; response: { status_code: number } | null }>> {
  if (!fileId) return [];
  const text = await (await client.files.content(fileId)).text();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as { custom_id: string; response: { status_code: number } | null });
}

/** A key-administration call with the master key (`body`: POST, else GET). */
async function admin(instance: PorticoProcess, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${instance.url}${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await response.json()) as unknown;
  assert.equal(response.status, 200, JSON.stringify(json));
  return json;
}

/** How many times the simulator received a chat request with this exact user text. */
function upstreamCountsByText(simulator: OpenAISimulator, prefix: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const request of simulator.requests) {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') continue;
    const messages = (request.json as { messages?: Array<{ content?: unknown }> } | undefined)?.messages ?? [];
    const text = String(messages.at(-1)?.content ?? '');
    if (text.startsWith(prefix)) counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return counts;
}

describe('three Portico instances on one PostgreSQL and one Redis', () => {
  let simulator: OpenAISimulator;
  let relay: TimingRelay;
  let database: TestDatabase;
  let workDir: string;
  const redisPrefix = uniqueRedisPrefix('scale-out');
  const instances: PorticoProcess[] = [];
  let clients: OpenAI[];

  before(async () => {
    simulator = await startOpenAISimulator();
    relay = await startTimingRelay(simulator.origin);
    database = await createTestDatabase('postgres');
    workDir = await mkdtemp(join(tmpdir(), 'portico-scale-out-'));
    const started = await Promise.all(
      NAMES.map(async (name) => {
        const configPath = join(workDir, `${name}.yaml`);
        await writeFile(configPath, configFor(name, relay));
        return spawnPortico({
          name,
          configPath,
          masterKey: MASTER_KEY,
          env: { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, PORTICO_REDIS_PREFIX: redisPrefix, SCALE_OUT_UPSTREAM_KEY: OPENAI_SIMULATOR_API_KEY },
        });
      }),
    );
    instances.push(...started);
    clients = instances.map((instance) => instance.client());
  });

  after(async () => {
    const exits = await Promise.all(instances.map((instance) => instance.stop()));
    await database?.dispose();
    await relay?.close();
    await simulator?.close();
    await deleteRedisKeys(redisPrefix);
    if (workDir) await rm(workDir, { recursive: true, force: true });
    // The survivors stopped gracefully (exit 0); the killed one was reaped already.
    for (const [i, exit] of exits.entries()) if (exit.signal !== 'SIGKILL') assert.equal(exit.code, 0, `${instances[i].name} exited ${exit.code}`);
  });

  test('a batch created through one instance is retrieved, listed and cancelled through the others', async () => {
    const [a, b, c] = clients;
    const created = await createBatch(a, 'gpt-4o-mini', 'shared', 3);

    const seenByB = await b.batches.retrieve(created.id);
    assert.equal(seenByB.id, created.id);
    assert.equal(seenByB.input_file_id, created.input_file_id);

    const listedByC = await c.batches.list({ limit: 100 });
    assert.ok(listedByC.data.some((batch) => batch.id === created.id), 'the batch is in the list of another instance');
    // The bytes were written by A; C serves them from the shared blob directory.
    assert.equal(await (await c.files.content(created.input_file_id)).text(), jsonl('gpt-4o-mini', 'shared', 3));

    const cancelled = await b.batches.cancel(created.id);
    assert.equal(cancelled.id, created.id);
    assert.ok(['cancelling', 'cancelled'].includes(cancelled.status), cancelled.status);
    const ended = await waitForEnd(c, created.id, 10_000, () => simulator.advanceBatches());
    assert.equal(ended.status, 'cancelled');
    assert.equal((await a.batches.retrieve(created.id)).status, 'cancelled');
  });

  test('a running provider batch is refreshed by one instance at a time, though all three poll and retrieve it', async () => {
    simulator.setLatency(30);
    try {
      const firstRequest = relay.requests.length;
      const created = await createBatch(clients[0], 'gpt-4o-mini', 'polled', 4);
      let batch = created;
      for (let round = 0; round < 8 && !TERMINAL.has(batch.status); round++) {
        // Twelve retrieves at once, spread over the instances: each wants to refresh the batch.
        await Promise.all(Array.from({ length: 12 }, (_, i) => clients[i % 3].batches.retrieve(created.id)));
        await simulator.advanceBatches();
        await new Promise((resolve) => setTimeout(resolve, 150));
        batch = await clients[round % 3].batches.retrieve(created.id);
      }
      assert.equal(batch.status, 'completed');
      assert.equal((await outputLines(clients[2], batch.output_file_id)).length, 4);

      // The provider retrieves of this batch (the earlier one is terminal: served from the database).
      const retrieves = relay.requests.slice(firstRequest).filter((request) => request.method === 'GET' && /^\/v1\/batches\/[^/?]+$/.test(request.path));
      assert.equal(new Set(retrieves.map((request) => request.path)).size, 1);
      assert.ok(retrieves.length >= 4, `the provider batch was refreshed ${retrieves.length} times`);
      assert.ok(new Set(retrieves.map((request) => request.instance)).size >= 2, 'more than one instance refreshed it');
      assert.deepEqual(overlappingRequests(retrieves, (request) => request.path), [], 'no provider batch was refreshed by two instances at once');
    } finally {
      simulator.setLatency(0);
    }
  });

  test('the batch engines of the three instances share an emulated batch, and every line runs exactly once', async () => {
    simulator.setLatency(100);
    try {
      const created = await createBatch(clients[1], 'emulated', 'shared-work', 48);
      const batch = await waitForEnd(clients[2], created.id, 30_000);
      assert.equal(batch.status, 'completed');
      assert.deepEqual(batch.request_counts, { total: 48, completed: 48, failed: 0 });
      const output = await outputLines(clients[0], batch.output_file_id);
      assert.deepEqual(output.map((line) => line.custom_id).sort(), Array.from({ length: 48 }, (_, i) => `shared-work-${i}`).sort());

      const upstream = upstreamCountsByText(simulator, 'shared-work line ');
      assert.equal(upstream.size, 48);
      assert.deepEqual([...upstream.values()].filter((count) => count !== 1), [], 'a line went upstream more than once');
      const lineCalls = relay.requests.filter((request) => request.method === 'POST' && request.path === '/v1/chat/completions');
      const workers = new Set(lineCalls.map((request) => request.instance));
      assert.ok(workers.size >= 2, `lines were run by ${[...workers].join(', ')}`);
    } finally {
      simulator.setLatency(0);
    }
  });

  test('a key with rpm_limit 10 gets exactly 10 of 30 requests spread over the three instances; the rest are 429', async () => {
    const key = (await admin(instances[0], '/key/generate', { models: ['fast'], rpm_limit: 10 })) as { key: string; rpm_limit: number };
    assert.equal(key.rpm_limit, 10);
    const keyed = instances.map((instance) => instance.client(key.key));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => keyed[i % 3].chat.completions.create({ model: 'fast', messages: [{ role: 'user', content: `request ${i}` }] })),
    );
    const succeeded = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected').map((outcome) => outcome.reason as unknown);
    assert.equal(succeeded, 10);
    assert.equal(refused.length, 20);
    for (const error of refused) {
      assert.ok(error instanceof OpenAI.RateLimitError, `expected a 429, got ${String(error)}`);
      assert.equal(error.status, 429);
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.equal(error.type, 'rate_limit_error');
      assert.ok(Number(error.headers?.get('retry-after')) >= 1, 'retry-after is set');
    }
    const info = (await admin(instances[2], `/key/info?key=${encodeURIComponent(key.key)}`)) as { info: { rpm_limit: number } };
    assert.equal(info.info.rpm_limit, 10);
  });

  test('a deployment with rpm 5 serves exactly 5 of 15 requests spread over the three instances', async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 15 }, (_, i) => clients[i % 3].chat.completions.create({ model: 'metered', messages: [{ role: 'user', content: `metered ${i}` }] })),
    );
    assert.equal(outcomes.filter((outcome) => outcome.status === 'fulfilled').length, 5);
    for (const outcome of outcomes) {
      if (outcome.status === 'rejected') assert.ok(outcome.reason instanceof OpenAI.RateLimitError, String(outcome.reason));
    }
  });

  test('an instance killed with SIGKILL in the middle of a batch loses nothing: every custom_id exactly once', async () => {
    simulator.setLatency(150);
    try {
      const count = 90;
      const created = await createBatch(clients[0], 'emulated', 'killed', count);
      const victim = instances[2];
      const victimLines = () => relay.requests.filter((request) => request.instance === 'c' && request.path === '/v1/chat/completions').length;
      const before = victimLines();
      const deadline = Date.now() + 20_000;
      while (victimLines() - before < 4) {
        assert.ok(Date.now() < deadline, 'the third instance never took part in the batch');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await victim.kill();
      const midway = await clients[0].batches.retrieve(created.id);
      assert.notEqual(midway.status, 'completed', 'the instance was killed in the middle of the batch');

      const batch = await waitForEnd(clients[1], created.id, 30_000);
      assert.equal(batch.status, 'completed');
      assert.deepEqual(batch.request_counts, { total: count, completed: count, failed: 0 });
      const output = await outputLines(clients[0], batch.output_file_id);
      const ids = output.map((line) => line.custom_id);
      assert.equal(ids.length, count, 'no line twice, none lost');
      assert.deepEqual([...new Set(ids)].sort(), Array.from({ length: count }, (_, i) => `killed-${i}`).sort());
      assert.ok(output.every((line) => line.response?.status_code === 200));
    } finally {
      simulator.setLatency(0);
    }
  });
});
