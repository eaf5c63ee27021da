/**
 * Issue 14, every core: `portico --num_workers 2` is one port served by two processes that share
 * state as instances do (Redis, the database): both answer, a key's rpm_limit holds across them
 * (not twice it), a key deleted through one is refused by both at once (not after the other's
 * key cache TTL), /metrics counts what every worker served, a killed worker is replaced, SIGTERM
 * stops them all. Without Redis (SQLite only), the primary holds the shared state and the same
 * holds: a key's rpm_limit, a deleted key refused by both at once, a cooldown seen by both.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { availableCpus, cgroupCpuLimit, workerCount } from '../../src/server/worker-pool.ts';
import { deleteRedisKeys, uniqueRedisPrefix, TEST_REDIS_URL } from './redis-helpers.ts';
import { spawnPortico, workersSeen as workersSeenAt, type PorticoProcess } from './portico-process.ts';

const MASTER_KEY = 'sk-workers-master-0123456789';

test('auto is the CPUs available, a container CPU limit included', () => {
  assert.equal(workerCount(undefined), 1);
  assert.equal(workerCount(3), 3);
  assert.equal(workerCount('auto', () => 6), 6);
  assert.equal(cgroupCpuLimit((path) => (path === '/sys/fs/cgroup/cpu.max' ? '200000 100000\n' : undefined)), 2);
  assert.equal(cgroupCpuLimit((path) => (path === '/sys/fs/cgroup/cpu.max' ? 'max 100000\n' : undefined)), undefined);
  assert.equal(cgroupCpuLimit((path) => ({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '150000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })[path]), 1.5);
  assert.equal(availableCpus(() => '50000 100000'), 1, 'at least one');
});

describe('portico --num_workers 2', () => {
  let dir: string;
  let configPath: string;
  let portico: PorticoProcess;
  const prefix = uniqueRedisPrefix('workers');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-workers-'));
    configPath = join(dir, 'config.yaml');
    await writeFile(
      configPath,
      `model_list:
  - model_name: mock-model
    litellm_params: { model: mock/mock-model }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  workers: 2
`,
    );
    portico = await spawnPortico({ configPath, masterKey: MASTER_KEY, name: 'workers', env: { DATABASE_URL: `file:${join(dir, 'p.db')}`, REDIS_URL: TEST_REDIS_URL, PORTICO_REDIS_PREFIX: prefix } });
  });
  after(async () => {
    await portico?.stop();
    await deleteRedisKeys(prefix).catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const liveness = async () => (await (await fetch(`${portico.url}/health/liveness`)).json()) as { pid: number; worker: number };

  const workersSeen = (tries = 200) => workersSeenAt(portico.url, 2, tries);

  test('two processes answer on the one port', async () => {
    const seen = await workersSeen();
    assert.deepEqual([...seen.keys()].sort(), [1, 2]);
    assert.notEqual(seen.get(1), seen.get(2));
    assert.ok(![...seen.values()].includes(portico.child.pid!), 'the primary serves nothing');
  });

  test("a key's rpm_limit holds across the workers, not once per worker", async () => {
    const created = await fetch(`${portico.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ rpm_limit: 4 }) });
    const { key } = (await created.json()) as { key: string };
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) {
      const answer = await fetch(`${portico.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: `hi ${i}` }] }),
      });
      statuses.push(answer.status);
      await answer.arrayBuffer();
    }
    assert.equal(statuses.filter((status) => status === 200).length, 4, statuses.join(','));
    assert.equal(statuses.filter((status) => status === 429).length, 4, statuses.join(','));
  });

  test('a key deleted through one worker is refused by both at once, not after the key cache TTL', async () => {
    const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };
    const { key } = (await (await fetch(`${portico.url}/key/generate`, { method: 'POST', headers, body: '{}' })).json()) as { key: string };
    // Fresh connections go to the workers in turn: six requests put the key in both caches.
    const chatStatuses = async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 6; i++) {
        const answer = await fetch(`${portico.baseURL}/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' },
          body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }),
        });
        statuses.push(answer.status);
        await answer.arrayBuffer();
      }
      return statuses;
    };
    assert.deepEqual(await chatStatuses(), [200, 200, 200, 200, 200, 200]);
    const deleted = await fetch(`${portico.url}/key/delete`, { method: 'POST', headers, body: JSON.stringify({ keys: [key] }) });
    assert.equal(deleted.status, 200, await deleted.text());
    // The other worker hears of it through Redis pub/sub; a moment for the message, far below the 10 s TTL.
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(await chatStatuses(), [401, 401, 401, 401, 401, 401]);
  });

  test('GET /metrics, whichever worker takes it, counts the requests of every worker', async () => {
    const chatRequests = async () => {
      const answer = await fetch(`${portico.url}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}`, connection: 'close' } });
      assert.equal(answer.status, 200);
      const text = await answer.text();
      assert.match(text, /^portico_metrics_workers_reporting 2$/m, 'both workers answered');
      let total = 0;
      for (const [, count] of text.matchAll(/^portico_requests_total\{route="\/v1\/chat\/completions",[^}]*\} (\d+)$/gm)) total += Number(count);
      return total;
    };
    const before = await chatRequests();
    for (let i = 0; i < 6; i++) {
      const answer = await fetch(`${portico.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: `count me ${i}` }] }),
      });
      assert.equal(answer.status, 200);
      await answer.arrayBuffer();
    }
    // A request is counted once its response has ended, a moment after the client has it.
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Two scrapes on fresh connections: one per worker, and both see all six.
    assert.equal(await chatRequests(), before + 6);
    assert.equal(await chatRequests(), before + 6);
  });

  test('a killed worker is replaced', async () => {
    const before = await workersSeen();
    process.kill(before.get(1)!, 'SIGKILL');
    const deadline = Date.now() + 20_000;
    let replaced: Map<number, number> = new Map();
    while (Date.now() < deadline) {
      replaced = await workersSeen(50);
      if (replaced.size === 2 && replaced.get(1) !== before.get(1)) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(replaced.size, 2);
    assert.notEqual(replaced.get(1), before.get(1), 'worker 1 is a new process');
    assert.equal(replaced.get(2), before.get(2), 'worker 2 kept running');
    assert.ok((await liveness()).pid > 0);
  });

  test('SIGTERM stops the primary and every worker', async () => {
    const workers = [...(await workersSeen()).values()];
    const { code } = await portico.stop();
    assert.equal(code, 0);
    for (const pid of workers) assert.throws(() => process.kill(pid, 0), /ESRCH/, `worker ${pid} is gone`);
  });
});

describe('portico --num_workers 2 on SQLite, without Redis: the primary holds the shared state', () => {
  let dir: string;
  let portico: PorticoProcess;
  let upstreamHits = 0;
  // The deployment that fails: an OpenAI-shaped upstream answering 500 to everything.
  const brokenUpstream = createServer((request, response) => {
    upstreamHits += 1;
    request.resume();
    response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'upstream broke', type: 'server_error', param: null, code: null } }));
  });
  const headers = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };

  before(async () => {
    await new Promise<void>((resolve) => brokenUpstream.listen(0, '127.0.0.1', resolve));
    const { port } = brokenUpstream.address() as AddressInfo;
    dir = await mkdtemp(join(tmpdir(), 'portico-workers-ipc-'));
    const configPath = join(dir, 'config.yaml');
    // `flaky` prefers its broken deployment 9 to 1: a worker that did not know of its cooldown
    // would almost surely send there again.
    await writeFile(
      configPath,
      `model_list:
  - model_name: mock-model
    litellm_params: { model: mock/mock-model }
  - model_name: flaky
    litellm_params: { model: openai/gpt-4o-mini, api_base: "http://127.0.0.1:${port}/v1", api_key: sk-upstream, weight: 9 }
  - model_name: flaky
    litellm_params: { model: mock/mock-model, weight: 1 }
router_settings: { num_retries: 1, allowed_fails: 1, cooldown_time: 60 }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  workers: 2
`,
    );
    const env: Record<string, string> = { DATABASE_URL: `file:${join(dir, 'p.db')}`, REDIS_URL: '' };
    portico = await spawnPortico({ configPath, masterKey: MASTER_KEY, name: 'workers-ipc', env });
    // Both workers listening before the checks: fresh connections then alternate between them.
    const seen = new Set<number>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const answer = await fetch(`${portico.url}/health/liveness`, { headers: { connection: 'close' } });
      seen.add(((await answer.json()) as { worker: number }).worker);
    }
    assert.equal(seen.size, 2);
  });
  after(async () => {
    await portico?.stop();
    brokenUpstream.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Statuses of `count` chat requests, each on a fresh connection (so the workers take turns). */
  async function chatStatuses(key: string, count: number, model = 'mock-model'): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < count; i++) {
      const answer = await fetch(`${portico.baseURL}/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: `hi ${i}` }] }),
      });
      statuses.push(answer.status);
      await answer.arrayBuffer();
    }
    return statuses;
  }

  test("a key's rpm_limit of 3 lets exactly 3 requests through across both workers, then 429s", async () => {
    const { key } = (await (await fetch(`${portico.url}/key/generate`, { method: 'POST', headers, body: JSON.stringify({ rpm_limit: 3 }) })).json()) as { key: string };
    assert.deepEqual(await chatStatuses(key, 6), [200, 200, 200, 429, 429, 429]);
  });

  test('a key deleted through one worker is refused by both from the delete answer on', async () => {
    const { key } = (await (await fetch(`${portico.url}/key/generate`, { method: 'POST', headers, body: '{}' })).json()) as { key: string };
    assert.deepEqual(await chatStatuses(key, 4), [200, 200, 200, 200], 'the key is in both key caches');
    const deleted = await fetch(`${portico.url}/key/delete`, { method: 'POST', headers: { ...headers, connection: 'close' }, body: JSON.stringify({ keys: [key] }) });
    assert.equal(deleted.status, 200, await deleted.text());
    // No pause: the delete answers once the primary has told both workers, and the primary hands
    // the next connections to them over the same ordered channel, after that message.
    assert.deepEqual(await chatStatuses(key, 4), [401, 401, 401, 401]);
  });

  test('a deployment cooled down in one worker is skipped by the other', async () => {
    // Until one request meets the broken deployment (it falls back to the healthy one: 200).
    for (let i = 0; i < 20 && upstreamHits === 0; i++) assert.deepEqual(await chatStatuses(MASTER_KEY, 1, 'flaky'), [200]);
    assert.equal(upstreamHits, 1);
    // allowed_fails 1: that failure cooled it down in every worker before its answer was sent.
    assert.deepEqual(await chatStatuses(MASTER_KEY, 6, 'flaky'), [200, 200, 200, 200, 200, 200]);
    assert.equal(upstreamHits, 1, 'neither worker sent to the cooling deployment again');
    for (let i = 0; i < 2; i++) {
      const view = (await (await fetch(`${portico.url}/deployments`, { headers: { ...headers, connection: 'close' } })).json()) as { data: Array<{ model_name: string; provider: string; status: string }> };
      const broken = view.data.find((deployment) => deployment.model_name === 'flaky' && deployment.provider === 'openai');
      assert.equal(broken?.status, 'cooling_down', 'each worker\'s /deployments shows it');
    }
  });
});
