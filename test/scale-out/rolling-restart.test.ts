/**
 * Graceful shutdown under load: two Portico processes (one PostgreSQL, one Redis) behind a tiny
 * round-robin client, and a rolling restart while requests flow: SIGTERM the first, start its
 * replacement on the same port, then the same for the second. Every request succeeds, exactly
 * once upstream.
 *
 * The client is a load balancer's minimum: each request on a new connection; it moves a request
 * to the other instance only when the first one provably never took it (connection refused: the
 * instance no longer listens; or 503 `shutting_down`: it refused it before doing anything). Any
 * other failure counts as a dropped request. The upstream sees each request id exactly once.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { freePort, spawnPortico, type PorticoProcess } from './portico-process.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from './redis-helpers.ts';

const MASTER_KEY = 'sk-rolling-restart-master-0123456789';

interface Outcome {
  id: string;
  ok: boolean;
  /** Instances (ports) tried, in order. */
  ports: number[];
  detail: string;
}

interface Answer {
  status: number;
  body: string;
}

/** One POST on a fresh connection; rejects with the socket error when there is no answer. */
function post(port: number, path: string, body: unknown, requestId: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json', 'x-request-id': requestId, connection: 'close' },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(body));
  });
}

/**
 * Whether the instance provably did not take the request, so another may: the port refused the
 * connection, Portico answered 503 `shutting_down`, or the connection was reset and the upstream
 * never saw the request. The last is the kernel's doing, not Portico's: a connection that finished
 * its handshake in the listen backlog just as the stopping instance closed its listener is reset
 * without the process ever reading it (Linux resets the backlog when a listener closes).
 */
function neverTaken(outcome: Answer | Error, upstreamSaw: () => boolean): boolean {
  if (outcome instanceof Error) {
    const code = (outcome as NodeJS.ErrnoException).code;
    return code === 'ECONNREFUSED' || (code === 'ECONNRESET' && !upstreamSaw());
  }
  return outcome.status === 503 && outcome.body.includes('"shutting_down"');
}

/** Whether the answer is the complete, right answer to `text`. */
function answered(answer: Answer, text: string, streamed: boolean): boolean {
  if (answer.status !== 200) return false;
  if (!streamed) return (JSON.parse(answer.body) as { choices: Array<{ message: { content: string } }> }).choices[0].message.content.includes(text);
  if (!answer.body.trimEnd().endsWith('data: [DONE]')) return false;
  const content = answer.body
    .split('\n\n')
    .filter((event) => event.startsWith('data: {'))
    .map((event) => (JSON.parse(event.slice(6)) as { choices: Array<{ delta?: { content?: string } }> }).choices[0]?.delta?.content ?? '')
    .join('');
  return content.includes(text);
}

describe('rolling restart', () => {
  let simulator: OpenAISimulator;
  let database: TestDatabase;
  let workDir: string;
  let configPath: string;
  const redisPrefix = uniqueRedisPrefix('rolling');
  const running: PorticoProcess[] = [];

  const start = async (name: string, port: number) => {
    const instance = await spawnPortico({
      name,
      configPath,
      port,
      masterKey: MASTER_KEY,
      env: { DATABASE_URL: database.url, REDIS_URL: TEST_REDIS_URL, PORTICO_REDIS_PREFIX: redisPrefix, ROLLING_UPSTREAM_KEY: OPENAI_SIMULATOR_API_KEY, PORTICO_SHUTDOWN_GRACE_MS: '10000' },
    });
    running.push(instance);
    return instance;
  };

  before(async () => {
    simulator = await startOpenAISimulator();
    // Every request is in flight for a while: a stop always finds some to drain.
    simulator.setLatency(250);
    database = await createTestDatabase('postgres');
    workDir = await mkdtemp(join(tmpdir(), 'portico-rolling-'));
    configPath = join(workDir, 'config.yaml');
    await writeFile(
      configPath,
      `
model_list:
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: os.environ/ROLLING_UPSTREAM_KEY }
    model_info: { id: rolling-openai }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  files:
    storage_dir: ${join(workDir, 'files')}
`,
    );
  });

  after(async () => {
    await Promise.all(running.map((instance) => instance.kill()));
    await database?.dispose();
    await simulator?.close();
    await deleteRedisKeys(redisPrefix);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('a rolling restart of two instances under load drops no request, plain or streamed, and exits 0', async () => {
    const ports = [await freePort(), await freePort()];
    const first = await start('first', ports[0]);
    const second = await start('second', ports[1]);

    let sequence = 0;
    let flowing = true;
    const outcomes: Outcome[] = [];
    const send = async (): Promise<Outcome> => {
      const n = sequence++;
      const id = `rolling-${n}`;
      const text = `request number ${n}`;
      const streamed = n % 3 === 0;
      const body = { model: 'gpt-4o-mini', stream: streamed, messages: [{ role: 'user', content: text }] };
      const tried: number[] = [];
      let detail = '';
      // Round robin, then the other instance, and back: an instance restarting comes back soon.
      for (let attempt = 0; attempt < 20; attempt++) {
        const port = ports[(n + attempt) % 2];
        tried.push(port);
        const result = await post(port, '/v1/chat/completions', body, id).catch((error: Error) => error);
        if (!(result instanceof Error) && answered(result, text, streamed)) return { id, ok: true, ports: tried, detail: '' };
        detail = result instanceof Error ? `${(result as NodeJS.ErrnoException).code ?? result.message}` : `${result.status} ${result.body.slice(0, 200)}`;
        if (!neverTaken(result, () => simulator.requests.some((request) => request.headers['x-client-request-id'] === id))) break;
        if (attempt % 2 === 1) await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return { id, ok: false, ports: tried, detail };
    };
    const worker = async () => {
      while (flowing) outcomes.push(await send());
    };
    const workers = Array.from({ length: 8 }, () => worker());

    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(800);
    const firstExit = await first.stop();
    const firstAgain = await start('first-again', ports[0]);
    await pause(800);
    const secondExit = await second.stop();
    const secondAgain = await start('second-again', ports[1]);
    await pause(800);
    flowing = false;
    await Promise.all(workers);

    const failed = outcomes.filter((outcome) => !outcome.ok);
    assert.deepEqual(failed, [], `${failed.length} of ${outcomes.length} requests failed`);
    assert.ok(outcomes.length >= 40, `only ${outcomes.length} requests were sent`);
    assert.deepEqual(firstExit, { code: 0, signal: null });
    assert.deepEqual(secondExit, { code: 0, signal: null });

    // Each request reached the upstream exactly once: a moved request had never been taken.
    const seen = new Map<string, number>();
    for (const request of simulator.requests) {
      const id = request.headers['x-client-request-id'];
      if (typeof id === 'string' && id.startsWith('rolling-')) seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    assert.equal(seen.size, outcomes.length);
    assert.deepEqual([...seen.entries()].filter(([, count]) => count !== 1), []);

    // The stopped instances finished requests after they were told to stop (they drained).
    for (const stopped of [first, second]) {
      const signalled = stopped.logs.findIndex((line) => line.msg === 'shutting down: draining in-flight requests');
      assert.ok(signalled >= 0);
      const drained = stopped.logs.slice(signalled).filter((line) => line.msg === 'request' && line.status === 200);
      assert.ok(drained.length > 0, `${stopped.name} finished no request after SIGTERM`);
    }
    // And the replacements served traffic.
    for (const replacement of [firstAgain, secondAgain]) {
      assert.ok(replacement.logs.some((line) => line.msg === 'request' && line.status === 200), `${replacement.name} served nothing`);
    }
  });
});
