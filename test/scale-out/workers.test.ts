/**
 * Issue 14, every core: `portico --num_workers 2` is one port served by two processes that share
 * state as instances do (Redis, the database): both answer, a key's rpm_limit holds across them
 * (not twice it), a key deleted through one is refused by both at once (not after the other's
 * key cache TTL), /metrics counts what every worker served, a killed worker is replaced, SIGTERM stops them all. Without Redis more than
 * one worker is refused, naming why.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { availableCpus, cgroupCpuLimit, workerCount } from '../../src/server/worker-pool.ts';
import { deleteRedisKeys, uniqueRedisPrefix, TEST_REDIS_URL } from './redis-helpers.ts';
import { PINNED_NODE, REPO_ROOT, spawnPortico, type PorticoProcess } from './portico-process.ts';

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

  async function workersSeen(tries = 200): Promise<Map<number, number>> {
    const seen = new Map<number, number>();
    for (let i = 0; i < tries && seen.size < 2; i++) {
      // A fresh connection each time: the primary hands connections out in turn. A connection
      // handed to a worker just killed is lost: the client times out and tries again.
      try {
        const answer = await fetch(`${portico.url}/health/liveness`, { headers: { connection: 'close' }, signal: AbortSignal.timeout(1_000) });
        const body = (await answer.json()) as { pid: number; worker: number };
        seen.set(body.worker, body.pid);
      } catch {
        // next try
      }
    }
    return seen;
  }

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

test('more than one worker without Redis is refused, saying why', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-workers-'));
  try {
    const configPath = join(dir, 'config.yaml');
    await writeFile(configPath, 'model_list:\n  - model_name: m\n    litellm_params: { model: mock/m }\n');
    const env: NodeJS.ProcessEnv = { ...process.env, DATABASE_URL: `file:${join(dir, 'p.db')}` };
    delete env.REDIS_URL;
    const child = spawn(PINNED_NODE, ['bin/portico.js', '--config', configPath, '--num_workers', '2', '--port', '0'], { cwd: REPO_ROOT, env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /2 workers need Redis/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
