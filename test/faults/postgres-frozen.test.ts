/**
 * PostgreSQL frozen (SIGSTOP to the postmaster and every backend: a hung server, or a network
 * cut) under a running Portico process (a private server: the shared one on 5432 serves other
 * suites). Its connections stay open and nothing answers, so a query already sent on one would
 * wait on TCP for ever: `portico_settings.database.query_timeout_seconds` bounds it (1 s here),
 * the request gets a 503 `database_unavailable`, and the connection is dropped, not pooled again.
 * Live chat with a key looked up before keeps working; after SIGCONT everything answers again.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { spawnPortico, type PorticoProcess } from '../scale-out/portico-process.ts';
import { waitFor } from '../scale-out/redis-helpers.ts';
import { startPrivatePostgres, type PrivatePostgres } from './fault-helpers-store.ts';

const MASTER_KEY = 'sk-faults-pg-frozen-master-0123456789abcdef';
const QUERY_TIMEOUT_SECONDS = 1;
/**
 * The query timeout plus slack for a busy machine; below the 10 s connect timeout, so an answer
 * within it came from the bound on the query sent, not from a new connection that timed out.
 */
const ANSWER_WITHIN_MS = QUERY_TIMEOUT_SECONDS * 1000 + 4_000;

function config(workDir: string): string {
  return `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files: { storage_dir: ${join(workDir, 'files')} }
  database: { query_timeout_seconds: ${QUERY_TIMEOUT_SECONDS} }
`;
}

async function request(portico: PorticoProcess, path: string, key = MASTER_KEY): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  try {
    const response = await fetch(`${portico.url}${path}`, { headers: { authorization: `Bearer ${key}` }, signal: AbortSignal.timeout(15_000) });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {}
    return { status: response.status, body, ms: Date.now() - started };
  } catch (error) {
    // No answer at all: the request hung on the frozen database.
    return { status: 0, body: String(error), ms: Date.now() - started };
  }
}

describe('faults: PostgreSQL frozen', () => {
  let database: PrivatePostgres | string;
  let workDir: string;
  let portico: PorticoProcess | undefined;

  before(async () => {
    database = await startPrivatePostgres();
    if (typeof database === 'string') {
      console.log(`# skipped: ${database}`);
      return;
    }
    workDir = await mkdtemp(join(tmpdir(), 'portico-faults-pg-frozen-'));
    await writeFile(join(workDir, 'config.yaml'), config(workDir));
  });

  after(async () => {
    await portico?.kill();
    if (typeof database !== 'string') await database?.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('a query sent to a frozen server ends in a 503 within query_timeout_seconds; cached keys still chat; all answers again after SIGCONT', async (t) => {
    if (typeof database === 'string') return t.skip(database);
    const pg = database;
    portico = await spawnPortico({ name: 'pg-frozen', configPath: join(workDir, 'config.yaml'), masterKey: MASTER_KEY, env: { DATABASE_URL: pg.url } });
    const generated = await fetch(`${portico.url}/key/generate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const keyed = portico.client(((await generated.json()) as { key: string }).key);
    const chat = () => keyed.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await chat();
    // Several requests at once: the pool keeps several connections open and idle.
    for (const answer of await Promise.all(Array.from({ length: 4 }, () => request(portico as PorticoProcess, '/v1/files')))) assert.equal(answer.status, 200);

    await pg.freeze();
    try {
      const files = await request(portico, '/v1/files');
      console.log(`# GET /v1/files answered ${files.status} after ${files.ms} ms with the database frozen`);
      assert.equal(files.status, 503, JSON.stringify(files.body));
      assert.deepEqual(Object.keys(files.body.error).sort(), ['code', 'message', 'param', 'type']);
      assert.equal(files.body.error.code, 'database_unavailable');
      assert.ok(files.ms < ANSWER_WITHIN_MS, `answered after ${files.ms} ms`);
      // Live chat needs no database: the key is cached.
      const asked = Date.now();
      await chat();
      assert.ok(Date.now() - asked < ANSWER_WITHIN_MS, `chat answered after ${Date.now() - asked} ms`);
    } finally {
      await pg.thaw();
    }
    await waitFor(async () => (await request(portico as PorticoProcess, '/health/readiness')).status === 200, 20_000, 'readiness after SIGCONT');
    // Every pooled connection answers (the timed-out one was dropped, not left mid-query in the pool).
    for (const answer of await Promise.all(Array.from({ length: 6 }, () => request(portico as PorticoProcess, '/v1/files')))) assert.equal(answer.status, 200, JSON.stringify(answer.body));
    await chat();
    assert.equal((await portico.stop()).code, 0);
  });
});
