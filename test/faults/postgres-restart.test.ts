/**
 * PostgreSQL restarted under a running Portico process (a private server: the shared one on
 * 5432 serves other suites). While it is down for 10 s: requests that need the database get a
 * 503 `database_unavailable` in OpenAI's envelope at once (not a 500, not a hang), live chat with
 * a key looked up before keeps working, an upload leaves nothing behind. Once it is back, the
 * emulated batch it interrupted finishes with every line exactly once, in the output and
 * upstream (a line whose answer arrived while the database was down is recorded, not run again),
 * and a native batch that finished upstream meanwhile is picked up with its output.
 * And a SIGTERM while the database is down still ends the process within the grace period (the batch engine waits no longer for results it cannot write).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { spawnPortico, type PorticoProcess } from '../scale-out/portico-process.ts';
import { waitFor } from '../scale-out/redis-helpers.ts';
import { assertServerErrorEnvelope, assertSigtermWhileDownExits, chatBatchInput, customIdsOf, waitForBatchEnd } from './fault-helpers-outage.ts';
import { startPrivatePostgres, upstreamExecutions, type PrivatePostgres } from './fault-helpers-store.ts';

const MASTER_KEY = 'sk-faults-pg-master-0123456789abcdef';
const OUTAGE_MS = 10_000;
const GRACE_MS = 500;
/** The grace period bounds the whole stop, the batch engine's drain included; plus slack for a busy machine. */
const EXIT_WITHIN_MS = GRACE_MS + 3_000;
const LINES = 40;

function config(simulator: OpenAISimulator, storageDir: string): string {
  return `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat }
  - model_name: native
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: os.environ/FAULTS_UPSTREAM_KEY }
    model_info: { id: native-openai }
  - model_name: emulated
    litellm_params: { model: hosted_vllm/llama-3.1-8b, api_base: "${simulator.url}", api_key: os.environ/FAULTS_UPSTREAM_KEY, batch_concurrency: 4 }
    model_info: { id: emulated-vllm }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  files: { storage_dir: ${storageDir} }
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 100
    # Longer than the outage: a line whose lease ran out may legitimately run again.
    lease_seconds: 30
`;
}

async function request(portico: PorticoProcess, path: string, init: RequestInit & { key?: string } = {}): Promise<{ status: number; body: any; ms: number }> {
  const started = Date.now();
  const response = await fetch(`${portico.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${init.key ?? MASTER_KEY}`, ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}) },
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, ms: Date.now() - started };
}

function assertDatabaseUnavailable(answer: { status: number; body: any; ms: number }, what: string): void {
  assertServerErrorEnvelope(answer, 503, 'database_unavailable', what);
  // A refused connection answers at once; the bound only tells a hang from an answer.
  assert.ok(answer.ms < 10_000, `${what} answered after ${answer.ms} ms`);
}

describe('faults: PostgreSQL restarted', () => {
  let database: PrivatePostgres | string;
  let simulator: OpenAISimulator;
  let workDir: string;
  let storageDir: string;
  let configPath: string;
  const started: PorticoProcess[] = [];

  before(async () => {
    database = await startPrivatePostgres();
    if (typeof database === 'string') {
      console.log(`# skipped: ${database}`);
      return;
    }
    // Native batches advance upstream on their own, during the outage too.
    simulator = await startOpenAISimulator({ batchStepMs: 300 });
    // Slow enough that lines are still running when the database stops.
    simulator.setLatency(250);
    workDir = await mkdtemp(join(tmpdir(), 'portico-faults-pg-'));
    storageDir = join(workDir, 'files');
    configPath = join(workDir, 'config.yaml');
    await writeFile(configPath, config(simulator, storageDir));
  });

  after(async () => {
    await Promise.all(started.map((portico) => portico.kill()));
    await simulator?.close();
    if (typeof database !== 'string') await database?.dispose();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  const spawn = async (name: string) => {
    const portico = await spawnPortico({
      name,
      configPath,
      masterKey: MASTER_KEY,
      env: { DATABASE_URL: (database as PrivatePostgres).url, FAULTS_UPSTREAM_KEY: OPENAI_SIMULATOR_API_KEY, PORTICO_SHUTDOWN_GRACE_MS: String(GRACE_MS) },
    });
    started.push(portico);
    return portico;
  };

  test('down for 10 s mid-batch: 503s in the envelope, cached keys still chat, the batch resumes with every line exactly once', async (t) => {
    if (typeof database === 'string') return t.skip(database);
    const pg = database;
    const portico = await spawn('pg-restart');
    const client = portico.client();
    const key = await request(portico, '/key/generate', { method: 'POST', body: '{}' });
    assert.equal(key.status, 200);
    const keyed = portico.client(key.body.key);
    const chat = () => keyed.chat.completions.create({ model: 'chat', messages: [{ role: 'user', content: 'hi' }] });
    await chat();

    const file = await client.files.create({ file: await toFile(Buffer.from(chatBatchInput('pg', LINES)), 'pg.jsonl'), purpose: 'batch' });
    const batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const nativeFile = await client.files.create({ file: await toFile(Buffer.from(chatBatchInput('native', 10, 'native')), 'native.jsonl'), purpose: 'batch' });
    const native = await client.batches.create({ input_file_id: nativeFile.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    await waitFor(() => [...upstreamExecutions(simulator.requests, 'pg-').values()].length >= 8, 30_000, 'the batch to be under way');
    const blobsBefore = (await readdir(storageDir)).length;

    await pg.stop();
    const downSince = Date.now();
    try {
      // Sessions terminated under running queries and transactions: nothing may end the process.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual([portico.child.exitCode, portico.child.signalCode], [null, null], 'Portico survives the database going away');
      await chat();
      assertDatabaseUnavailable(await request(portico, '/v1/files'), 'GET /v1/files');
      assertDatabaseUnavailable(await request(portico, `/v1/batches/${batch.id}`), 'GET /v1/batches/{id}');
      assertDatabaseUnavailable(await request(portico, '/key/generate', { method: 'POST', body: '{}' }), 'POST /key/generate');
      assertDatabaseUnavailable(await request(portico, '/v1/models', { key: 'sk-never-seen-before-0123456789abcdef0123456' }), 'an unknown key');
      const form = new FormData();
      form.append('purpose', 'batch');
      form.append('file', new Blob([chatBatchInput('upload', 3)]), 'during.jsonl');
      assertDatabaseUnavailable(await request(portico, '/v1/files', { method: 'POST', body: form }), 'POST /v1/files');
      assert.equal((await request(portico, '/health/readiness')).status, 503);
      assert.equal((await readdir(storageDir)).length, blobsBefore, 'the failed upload left no blob and no temp file');
      // Live chat keeps working through the whole outage, served from the key cache.
      while (Date.now() - downSince < OUTAGE_MS) {
        await chat();
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    } finally {
      await pg.start();
    }

    await waitFor(async () => (await request(portico, '/health/readiness')).status === 200, 15_000, 'readiness after the restart');
    const ended = await waitForBatchEnd(client, batch.id, 60_000);
    assert.equal(ended.status, 'completed');
    assert.deepEqual(ended.request_counts, { total: LINES, completed: LINES, failed: 0 });
    assert.deepEqual(await customIdsOf(client, ended), Array.from({ length: LINES }, (_, i) => `pg-${i}`).sort(), 'every line once in the output');
    const nativeEnded = await waitForBatchEnd(client, native.id, 30_000);
    assert.equal(nativeEnded.status, 'completed', 'the native batch, finished upstream during the outage, is picked up');
    assert.deepEqual(await customIdsOf(client, nativeEnded), Array.from({ length: 10 }, (_, i) => `native-${i}`).sort());
    const outputs = (await client.files.list({ purpose: 'batch_output' })).data.map((f) => f.id).sort();
    assert.deepEqual(outputs, [ended.output_file_id, nativeEnded.output_file_id].sort(), 'one output file per batch, registered once');
    const executions = upstreamExecutions(simulator.requests, 'pg-');
    const twice = [...executions].filter(([, count]) => count !== 1);
    assert.deepEqual(twice, [], 'every line ran upstream exactly once');
    assert.equal(executions.size, LINES);
    assert.equal((await client.files.list()).data.filter((f) => f.filename === 'during.jsonl').length, 0, 'no file registered from the failed upload');
    await chat();
    assert.equal((await portico.stop()).code, 0);
  });

  test('SIGTERM while PostgreSQL is down mid-batch: the process exits 0 within the grace period', async (t) => {
    if (typeof database === 'string') return t.skip(database);
    const pg = database;
    const outage = { down: () => pg.stop(), up: () => pg.start() };
    await assertSigtermWhileDownExits(await spawn('pg-sigterm'), simulator, outage, { lines: LINES, underWay: 4, exitWithinMs: EXIT_WITHIN_MS });
  });
});
