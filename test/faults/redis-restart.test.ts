/**
 * Redis killed and restarted (empty) under a running Portico process (a private server: the
 * shared one on 6379 serves other suites). While it is down, limits fail open: chat keeps being
 * served at once, with a warning in the log, and an emulated batch on a deployment with an rpm
 * (whose lines the engine takes from Redis counters) goes on; once Redis is back, a key's rpm
 * holds again, and the batch has every line exactly once. A Redis that hangs (SIGSTOP) costs the
 * first request the command timeout, and no later one anything (the circuit breaker treats it as
 * down until a probe is answered). A SIGTERM while Redis is down ends the process within the
 * grace period.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { spawnPortico, type PorticoProcess } from '../scale-out/portico-process.ts';
import { untilRateLimited, waitFor } from '../scale-out/redis-helpers.ts';
import { assertSigtermWhileDownExits, chatBatchInput, customIdsOf, waitForBatchEnd } from './fault-helpers-outage.ts';
import { startPrivateRedis, upstreamExecutions, type PrivateRedis } from './fault-helpers-store.ts';

const MASTER_KEY = 'sk-faults-redis-master-0123456789abcdef';
const GRACE_MS = 500;
/** The grace period bounds the whole stop, the batch engine's drain included; plus slack for a busy machine. */
const EXIT_WITHIN_MS = GRACE_MS + 3_000;
const LINES = 30;

function config(simulator: OpenAISimulator, workDir: string): string {
  return `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat, rpm: 100000 }
  - model_name: emulated
    litellm_params: { model: hosted_vllm/llama-3.1-8b, api_base: "${simulator.url}", api_key: os.environ/FAULTS_UPSTREAM_KEY, batch_concurrency: 3, rpm: 100000 }
    model_info: { id: emulated-vllm }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  files: { storage_dir: ${join(workDir, 'files')} }
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 100
`;
}

/** A new key with `rpm_limit`; answers one chat request with it. */
async function chatWithKey(portico: PorticoProcess, rpmLimit: number): Promise<() => Promise<unknown>> {
  const generated = await fetch(`${portico.url}/key/generate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ rpm_limit: rpmLimit }),
  });
  const keyed = portico.client(((await generated.json()) as { key: string }).key);
  return () => keyed.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
}

describe('faults: Redis restarted', () => {
  let redis: PrivateRedis | string;
  let simulator: OpenAISimulator;
  let workDir: string;
  let configPath: string;
  const started: PorticoProcess[] = [];

  before(async () => {
    redis = await startPrivateRedis();
    if (typeof redis === 'string') {
      console.log(`# skipped: ${redis}`);
      return;
    }
    simulator = await startOpenAISimulator();
    simulator.setLatency(100);
    workDir = await mkdtemp(join(tmpdir(), 'portico-faults-redis-'));
    configPath = join(workDir, 'config.yaml');
    await writeFile(configPath, config(simulator, workDir));
  });

  after(async () => {
    await Promise.all(started.map((portico) => portico.kill()));
    await simulator?.close();
    if (typeof redis !== 'string') await redis?.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const spawn = async (name: string) => {
    const portico = await spawnPortico({
      name,
      configPath,
      masterKey: MASTER_KEY,
      env: {
        DATABASE_URL: `file:${join(workDir, `${name}.db`)}`,
        REDIS_URL: (redis as PrivateRedis).url,
        FAULTS_UPSTREAM_KEY: OPENAI_SIMULATOR_API_KEY,
        PORTICO_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      },
    });
    started.push(portico);
    return portico;
  };

  test('killed mid-batch and restarted empty: limits fail open meanwhile and hold again after; the batch has every line once', async (t) => {
    if (typeof redis === 'string') return t.skip(redis);
    const server = redis;
    const portico = await spawn('redis-restart');
    const client = portico.client();
    const ask = await chatWithKey(portico, 2);
    await ask();
    await ask();
    await assert.rejects(ask(), OpenAI.RateLimitError, 'the key limit holds while redis is up');

    const file = await client.files.create({ file: await toFile(Buffer.from(chatBatchInput('redis', LINES)), 'redis.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await waitFor(() => upstreamExecutions(simulator.requests, 'redis-').size >= 5, 30_000, 'the batch to be under way');

    await server.kill();
    try {
      // Fail open: over the key's rpm, and not one request waits for redis.
      for (let i = 0; i < 5; i++) {
        const asked = Date.now();
        await ask();
        assert.ok(Date.now() - asked < 5_000, `served without waiting for redis (${Date.now() - asked} ms)`);
      }
      assert.ok(portico.logs.some((line) => line.level === 40 || line.level === 'warn'), 'the outage is logged');
      assert.equal((await fetch(`${portico.url}/health/readiness`)).status, 200, 'still ready: redis is not required');
      const during = upstreamExecutions(simulator.requests, 'redis-').size;
      await waitFor(() => upstreamExecutions(simulator.requests, 'redis-').size > during, 10_000, 'the batch to go on without redis');
    } finally {
      await server.start();
    }

    await untilRateLimited(ask, 20_000, 'the key limit to hold again');

    const ended = await waitForBatchEnd(client, batch.id, 60_000);
    assert.equal(ended.status, 'completed');
    assert.deepEqual(ended.request_counts, { total: LINES, completed: LINES, failed: 0 });
    assert.equal(new Set(await customIdsOf(client, ended)).size, LINES, 'every line once in the output');
    assert.deepEqual([...upstreamExecutions(simulator.requests, 'redis-')].filter(([, count]) => count !== 1), [], 'every line ran upstream once');
    assert.equal((await portico.stop()).code, 0);
  });

  test('frozen (SIGSTOP): once a command timed out, requests no longer wait for it (circuit breaker); limits hold again once it answers', async (t) => {
    if (typeof redis === 'string') return t.skip(redis);
    const server = redis;
    const portico = await spawn('redis-frozen');
    const ask = await chatWithKey(portico, 1);
    const redisAvailable = async () => {
      const metrics = await (await fetch(`${portico.url}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
      return /^portico_redis_available (\d)/m.exec(metrics)?.[1];
    };
    await ask();
    await assert.rejects(ask(), OpenAI.RateLimitError);
    assert.equal(await redisAvailable(), '1');
    server.freeze();
    try {
      // The first request meets the frozen Redis: it waits for the command timeout (1 s), once.
      const first = Date.now();
      await ask();
      console.log(`# first request answered in ${Date.now() - first} ms with redis frozen`);
      assert.ok(Date.now() - first < 5_000, `answered after ${Date.now() - first} ms with redis frozen`);
      assert.equal(await redisAvailable(), '0', 'the breaker is open');
      await waitFor(() => portico.logs.some((line) => String(line.msg).includes('redis: not answering')), 5_000, 'the outage to be logged');
      // Then Redis is treated as down: no request waits for a command timeout any more.
      for (let i = 0; i < 10; i++) {
        const asked = Date.now();
        await ask();
        // Without the breaker each of these waits at least one 1 s command timeout.
        assert.ok(Date.now() - asked < 700, `request ${i} answered after ${Date.now() - asked} ms with the breaker open`);
      }
    } finally {
      server.thaw();
    }
    await untilRateLimited(ask, 20_000, 'the key limit to hold again');
    assert.equal(await redisAvailable(), '1');
    await waitFor(() => portico.logs.some((line) => String(line.msg).includes('redis: answering again')), 5_000, 'the recovery to be logged');
    assert.equal((await portico.stop()).code, 0);
  });

  test('SIGTERM while Redis is down mid-batch: the process exits 0 within the grace period', async (t) => {
    if (typeof redis === 'string') return t.skip(redis);
    const server = redis;
    const outage = { down: () => server.kill(), up: () => server.start() };
    await assertSigtermWhileDownExits(await spawn('redis-sigterm'), simulator, outage, { lines: LINES, underWay: 3, exitWithinMs: EXIT_WITHIN_MS });
  });
});
