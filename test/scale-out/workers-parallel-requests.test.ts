/**
 * Issues 12 and 14: `max_parallel_requests` with `--num_workers 2` and no Redis is one count for
 * the whole Portico, held by the primary process, not one per worker. Requests are held open
 * upstream (a relay in front of the OpenAI simulator) so they overlap for as long as the test
 * needs: with a key limited to 2, two requests wait upstream and every other one is refused with
 * LiteLLM's 429, whichever worker takes it (each refusal is asked on a connection whose worker
 * was first read from `/health/liveness`); the slots come back when the answers end, and when the
 * workers holding them are killed.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { startHoldingRelay, type HoldingRelay } from './holding-relay.ts';
import { freePort, spawnPortico, workersSeen as workersSeenAt, type PorticoProcess } from './portico-process.ts';

const MASTER_KEY = 'sk-workers-parallel-master-0123456789';

interface Answer {
  status: number;
  body: string;
}

/** One request on `agent` (node:http, so the test chooses the connection). */
function send(agent: http.Agent, url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer & { reusedSocket: boolean }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body, reusedSocket: request.reusedSocket }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('portico --num_workers 2 without Redis: max_parallel_requests held by the primary', () => {
  let dir: string;
  let simulator: OpenAISimulator;
  let relay: HoldingRelay;
  let portico: PorticoProcess;
  let key: string;

  before(async () => {
    simulator = await startOpenAISimulator();
    relay = await startHoldingRelay(simulator.origin);
    dir = await mkdtemp(join(tmpdir(), 'portico-workers-parallel-'));
    const configPath = join(dir, 'config.yaml');
    await writeFile(
      configPath,
      `model_list:
  - model_name: held
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${relay.origin}/v1", api_key: ${OPENAI_SIMULATOR_API_KEY} }
router_settings: { num_retries: 0 }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  workers: 2
`,
    );
    // A port of its own, not 0: workers started after every worker died listen anew, on the same port only if it is named.
    portico = await spawnPortico({ configPath, port: await freePort(), masterKey: MASTER_KEY, name: 'workers-parallel', env: { DATABASE_URL: `file:${join(dir, 'p.db')}`, REDIS_URL: '' } });
    assert.equal((await workersSeen()).size, 2, 'both workers listen');
    const created = await fetch(`${portico.url}/key/generate`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ max_parallel_requests: 2 }) });
    assert.equal(created.status, 200);
    ({ key } = (await created.json()) as { key: string });
  });
  after(async () => {
    await portico?.stop();
    await relay?.close();
    await simulator?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const workersSeen = (tries = 200) => workersSeenAt(portico.url, 2, tries);

  const chat = (agent: http.Agent, text: string) =>
    send(agent, `${portico.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'held', messages: [{ role: 'user', content: text }] }),
    });

  /** A chat request on a fresh connection whose worker is read first; `answer` settles when the chat does. */
  async function chatOnOneWorker(text: string): Promise<{ worker: number; answer: Promise<Answer> }> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const liveness = await send(agent, `${portico.url}/health/liveness`);
    const { worker } = JSON.parse(liveness.body) as { worker: number };
    const answer = chat(agent, text).then((sent) => {
      assert.ok(sent.reusedSocket, 'the chat went to the worker that answered the liveness probe');
      return sent;
    });
    void answer.finally(() => agent.destroy()).catch(() => undefined);
    return { worker, answer };
  }

  /** Two requests held upstream, then `count` more, each answered by the worker named. */
  async function holdTwoThenAsk(count: number): Promise<{ held: Array<Promise<Answer>>; refused: Array<{ worker: number } & Answer> }> {
    const arrivedBefore = relay.arrived;
    const held = [await chatOnOneWorker('first'), await chatOnOneWorker('second')];
    await relay.waitForHeld(2);
    const refused: Array<{ worker: number } & Answer> = [];
    // A request let through would wait upstream for ever: one arriving there fails the test at once.
    const third = relay.whenArrived(arrivedBefore + 3).then(() => assert.fail(`more than 2 requests in flight (held on workers ${held.map((request) => request.worker).join(', ')})`));
    for (let i = 0; i < count; i++) {
      const { worker, answer } = await chatOnOneWorker(`more ${i}`);
      refused.push({ worker, ...(await Promise.race([answer, third])) });
    }
    assert.equal(relay.arrived - arrivedBefore, 2, 'no other request reached the upstream');
    return { held: held.map((request) => request.answer), refused };
  }

  function assertLiteLLMRefusals(refused: Array<{ worker: number } & Answer>): void {
    for (const { status, body } of refused) {
      assert.equal(status, 429, body);
      const { error } = JSON.parse(body) as { error: { message: string; type: string; code: string } };
      assert.equal(error.message, `Max parallel request limit reached. Hit limit for api_key: ${keyIdOf(error.message)}. max_parallel_requests: 2`);
      assert.equal(error.type, 'rate_limit_error');
      assert.equal(error.code, 'rate_limit_exceeded');
    }
    assert.deepEqual([...new Set(refused.map((answer) => answer.worker))].sort(), [1, 2], 'both workers refused');
  }

  test('a key limited to 2 has exactly 2 requests in flight across both workers; every other is a 429 in LiteLLM\'s words, whichever worker answers', async () => {
    const { held, refused } = await holdTwoThenAsk(4);
    assertLiteLLMRefusals(refused);
    relay.releaseAll();
    const answered = await Promise.all(held);
    assert.deepEqual(answered.map((answer) => answer.status), [200, 200]);
    assert.match(JSON.parse(answered[0].body).choices[0].message.content, /first/);
  });

  test('the slots come back when the answers end: two more are let through, not more', async () => {
    const { held, refused } = await holdTwoThenAsk(2);
    assert.deepEqual(refused.map((answer) => answer.status), [429, 429]);
    relay.releaseAll();
    assert.deepEqual((await Promise.all(held)).map((answer) => answer.status), [200, 200]);
  });

  // Both at once: the primary, left with no worker, must not exit but start two again (it once did
  // exit, when its restart timers were all that was left and did not hold its event loop).
  test('the slots of killed workers are freed by the primary when they exit', async () => {
    const before = await workersSeen();
    assert.equal(before.size, 2, 'both workers seen before they are killed');
    const held = [await chatOnOneWorker('dies 1'), await chatOnOneWorker('dies 2')];
    await relay.waitForHeld(2);
    for (const pid of before.values()) process.kill(pid, 'SIGKILL');
    // The clients lose their connections with their workers.
    for (const request of held) await assert.rejects(request.answer);
    // Generous: two workers starting at once on a loaded 2-core CI machine took over 20 s once, and
    // a fresh worker's first answers may take seconds there (each probe waits up to 5 s).
    const deadline = Date.now() + 90_000;
    let replaced = new Map<number, number>();
    while (Date.now() < deadline) {
      replaced = await workersSeenAt(portico.url, 2, 10, 5_000);
      if (replaced.size === 2 && [...replaced.values()].every((pid) => ![...before.values()].includes(pid))) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // On failure, what the primary said about its workers (their deaths and restarts).
    const workerLines = portico.logs.filter((line) => typeof line.msg === 'string' && /worker|listening/i.test(line.msg)).slice(-12);
    assert.equal(replaced.size, 2, `both workers replaced; the primary's last lines:\n${workerLines.map((line) => JSON.stringify(line)).join('\n')}`);
    // Without the primary freeing them, the dead workers' two slots would refuse these for ever.
    const { held: again, refused } = await holdTwoThenAsk(2);
    assertLiteLLMRefusals(refused);
    relay.releaseAll();
    assert.deepEqual((await Promise.all(again)).map((answer) => answer.status), [200, 200]);
  });
});

/** The key id LiteLLM's message names (`Hit limit for api_key: <id>.`). */
function keyIdOf(message: string): string {
  return /Hit limit for api_key: ([^ ]+)\. /.exec(message)?.[1] ?? 'no key id';
}
