/**
 * `store_model_in_db` with `--num_workers 2` and no Redis: a model added through one worker is
 * served by the other at once (told through the primary process), long before its poll (set to
 * 600 s here), on a connection whose worker was read first from `/health/liveness`.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { freePort, spawnPortico, workersSeen, type PorticoProcess } from './portico-process.ts';

const MASTER_KEY = 'sk-workers-stored-models-master-0123';

function send(agent: http.Agent, url: string, options: { method?: string; body?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { agent, method: options.method ?? 'GET', headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' } }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end(options.body);
  });
}

describe('portico --num_workers 2 without Redis: stored models', () => {
  let dir: string;
  let portico: PorticoProcess;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portico-workers-models-'));
    const configPath = join(dir, 'config.yaml');
    await writeFile(
      configPath,
      `model_list:
  - {model_name: from-file, litellm_params: {model: mock/from-file}}
general_settings:
  master_key: ${MASTER_KEY}
  store_model_in_db: true
portico_settings:
  workers: 2
  stored_models_poll_seconds: 600
`,
    );
    portico = await spawnPortico({ configPath, port: await freePort(), masterKey: MASTER_KEY, name: 'workers-models', env: { DATABASE_URL: `file:${join(dir, 'p.db')}`, REDIS_URL: '' } });
    assert.equal((await workersSeen(portico.url, 2)).size, 2, 'both workers listen');
  });
  after(async () => {
    await portico?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Asks `path` on a fresh connection of each worker in turn until both have answered; their answers by worker. */
  async function onEachWorker(path: string, body?: string): Promise<Map<number, { status: number; body: string }>> {
    const answers = new Map<number, { status: number; body: string }>();
    for (let tries = 0; answers.size < 2 && tries < 200; tries++) {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      try {
        const { worker } = JSON.parse((await send(agent, `${portico.url}/health/liveness`)).body) as { worker: number };
        if (answers.has(worker)) continue;
        answers.set(worker, await send(agent, `${portico.url}${path}`, body === undefined ? {} : { method: 'POST', body }));
      } finally {
        agent.destroy();
      }
    }
    assert.equal(answers.size, 2, 'both workers answered');
    return answers;
  }

  test('a model added through one worker is served by both at once; deleted, by neither', async () => {
    const agent = new http.Agent({ keepAlive: false });
    const created = await send(agent, `${portico.url}/model/new`, { method: 'POST', body: JSON.stringify({ model_name: 'added', litellm_params: { model: 'mock/added' } }) });
    assert.equal(created.status, 200, created.body);
    const { model_id: id } = JSON.parse(created.body) as { model_id: string };
    const chat = JSON.stringify({ model: 'added', messages: [{ role: 'user', content: 'hi' }] });
    for (const [worker, answer] of await onEachWorker('/v1/chat/completions', chat)) assert.equal(answer.status, 200, `worker ${worker}: ${answer.body}`);
    const deleted = await send(agent, `${portico.url}/model/delete`, { method: 'POST', body: JSON.stringify({ id }) });
    assert.equal(deleted.status, 200, deleted.body);
    for (const [worker, answer] of await onEachWorker('/v1/chat/completions', chat)) assert.equal(answer.status, 404, `worker ${worker}: ${answer.body}`);
  });
});
