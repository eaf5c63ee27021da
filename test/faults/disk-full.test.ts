/**
 * The blob directory runs out of space (a 2 MiB tmpfs mounted by the test; it needs root, and
 * is skipped with the reason otherwise). An upload that does not fit is a 507
 * `insufficient_storage` in OpenAI's envelope (a server-side condition the client may retry, not
 * a 500), registers no file and leaves no temp file; once space is freed, an upload that fits
 * works again; a batch whose output does not fit waits for room instead of ending without it.
 * The same with `blob_store: database`, on a private PostgreSQL whose data files are on a tmpfs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { spawnPortico, type PorticoProcess } from '../scale-out/portico-process.ts';
import { assertServerErrorEnvelope } from './fault-helpers-outage.ts';
import { mountTmpfs, postgresUser, startPrivatePostgres, type PrivatePostgres, type Tmpfs } from './fault-helpers-store.ts';

const MASTER_KEY = 'sk-faults-disk-master-0123456789abcdef';
const MiB = 1024 * 1024;

async function upload(portico: PorticoProcess, name: string, bytes: Buffer, purpose = 'user_data'): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('purpose', purpose);
  form.append('file', new Blob([new Uint8Array(bytes)]), name);
  const response = await fetch(`${portico.baseURL}/files`, { method: 'POST', headers: { authorization: `Bearer ${MASTER_KEY}` }, body: form, signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: await response.json() };
}

function assertStorageFull(answer: { status: number; body: any }, what: string): void {
  assertServerErrorEnvelope(answer, 507, 'insufficient_storage', what);
}

/** Writes `yaml` to `<workDir>/config.yaml` and starts Portico on it, its database at `databaseUrl`. */
async function spawnWithConfig(name: string, workDir: string, yaml: string, databaseUrl: string): Promise<PorticoProcess> {
  const configPath = join(workDir, 'config.yaml');
  await writeFile(configPath, yaml);
  return spawnPortico({ name, configPath, masterKey: MASTER_KEY, env: { DATABASE_URL: databaseUrl } });
}

/** A JSONL batch input of about `bytes` bytes. */
function batchInput(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const line = JSON.stringify({ custom_id: `disk-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'chat', messages: [{ role: 'user', content: 'x'.repeat(1000) }] } });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n'));
}

describe('faults: the blob directory out of space', () => {
  let disk: Tmpfs | string;
  let workDir: string;
  let portico: PorticoProcess | undefined;

  before(async () => {
    disk = await mountTmpfs('2m');
    if (typeof disk === 'string') {
      console.log(`# skipped: ${disk}`);
      return;
    }
    workDir = await mkdtemp(join(tmpdir(), 'portico-faults-disk-'));
    portico = await spawnWithConfig(
      'disk-full',
      workDir,
      `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat }
  - model_name: verbose
    litellm_params: { model: mock/verbose, mock_response: "${'v'.repeat(4000)}" }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files: { storage_dir: ${disk.dir} }
  batch: { poll_interval_ms: 100, refresh_after_seconds: 0 }
`,
      `file:${join(workDir, 'portico.db')}`,
    );
  });

  after(async () => {
    await portico?.stop();
    if (typeof disk !== 'string') await disk?.unmount();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('an upload that does not fit is a clean 507, leaves nothing, and uploads work again once space is freed', async (t) => {
    if (typeof disk === 'string' || !portico) return t.skip(typeof disk === 'string' ? disk : 'not started');
    const dir = disk.dir;
    const client = portico.client();

    const first = await upload(portico, 'first.bin', Buffer.alloc(MiB, 1));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const blobsAfterFirst = await readdir(dir);
    assert.equal(blobsAfterFirst.length, 1);

    assertStorageFull(await upload(portico, 'too-big.bin', Buffer.alloc(3 * MiB, 2)), 'a file larger than the free space');
    assertStorageFull(await upload(portico, 'too-big.jsonl', batchInput(3 * MiB), 'batch'), 'a batch input larger than the free space');
    assert.deepEqual(await readdir(dir), blobsAfterFirst, 'no temp file and no partial blob is left');
    assert.deepEqual((await client.files.list()).data.map((file) => file.filename), ['first.bin'], 'no file registered');

    // Space comes back: the failed uploads took none of it, and a freed file's bytes are reusable.
    const fits = await upload(portico, 'fits.bin', Buffer.alloc(Math.floor(0.8 * MiB), 3));
    assert.equal(fits.status, 200, JSON.stringify(fits.body));
    await client.files.delete(first.body.id);
    const after = await upload(portico, 'after.bin', Buffer.alloc(MiB, 4));
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal(Buffer.compare(Buffer.from(await (await client.files.content(after.body.id)).arrayBuffer()), Buffer.alloc(MiB, 4)), 0);
    assert.equal((await fetch(`${portico.url}/health/readiness`)).status, 200);
  });

  test('a batch whose output does not fit waits, and completes with every line once when space is freed', async (t) => {
    if (typeof disk === 'string' || !portico) return t.skip(typeof disk === 'string' ? disk : 'not started');
    const dir = disk.dir;
    const client = portico.client();
    for (const file of (await client.files.list()).data) await client.files.delete(file.id);
    const ballast = await upload(portico, 'ballast.bin', Buffer.alloc(1.2 * MiB, 5));
    assert.equal(ballast.status, 200, JSON.stringify(ballast.body));
    // 250 lines of about 200 bytes; each answer carries 4,000 characters: an output of about 1.1 MB.
    const lines = Array.from({ length: 250 }, (_, i) => JSON.stringify({ custom_id: `out-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'verbose', messages: [{ role: 'user', content: `line ${i}` }] } }));
    const input = await upload(portico, 'verbose.jsonl', Buffer.from(lines.join('\n')), 'batch');
    assert.equal(input.status, 200, JSON.stringify(input.body));
    const batch = await client.batches.create({ input_file_id: input.body.id, endpoint: '/v1/chat/completions', completion_window: '24h' });

    let current = batch;
    const waitUntil = async (done: () => boolean, what: string) => {
      const deadline = Date.now() + 30_000;
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${current.status}, ${JSON.stringify(current.request_counts)})`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        current = await client.batches.retrieve(batch.id);
      }
    };
    await waitUntil(() => current.request_counts?.completed === 250, 'every line to run');
    // Its output cannot be written: the batch waits, it does not end without its results.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    current = await client.batches.retrieve(batch.id);
    assert.ok(['in_progress', 'finalizing'].includes(current.status), `still waiting for room, not ${current.status}`);

    await client.files.delete(ballast.body.id);
    await waitUntil(() => current.status === 'completed', 'the batch to complete once space was freed');
    const output = (await (await client.files.content(current.output_file_id as string)).text()).trim().split('\n');
    assert.deepEqual(output.map((line) => (JSON.parse(line) as { custom_id: string }).custom_id).sort(), lines.map((_, i) => `out-${i}`).sort());
    const files = (await client.files.list()).data;
    assert.equal((await readdir(dir)).length, files.length, 'one blob per live file: nothing left of the failed writes');
  });
});

describe('faults: PostgreSQL out of space under the database blob store', () => {
  let disk: Tmpfs | string = 'not mounted';
  let database: PrivatePostgres | string = 'not started';
  let workDir: string;
  let portico: PorticoProcess | undefined;

  before(async () => {
    if (process.getuid?.() !== 0) {
      disk = 'mounting a tmpfs needs root';
    } else {
      // initdb's files take about 23 MB and the database 8 MB: some 16 MB are left for blobs.
      disk = await mountTmpfs('48m', await postgresUser());
    }
    if (typeof disk === 'string') {
      console.log(`# skipped: ${disk}`);
      return;
    }
    database = await startPrivatePostgres({ dataDir: disk.dir });
    if (typeof database === 'string') {
      console.log(`# skipped: ${database}`);
      return;
    }
    workDir = await mkdtemp(join(tmpdir(), 'portico-faults-pgdisk-'));
    portico = await spawnWithConfig(
      'pg-disk-full',
      workDir,
      `
model_list:
  - model_name: chat
    litellm_params: { model: mock/chat }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files: { blob_store: database }
`,
      database.url,
    );
  });

  after(async () => {
    await portico?.stop();
    if (typeof database !== 'string') await database.dispose();
    if (typeof disk !== 'string') await disk.unmount();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  test('an upload that does not fit is a clean 507 and leaves no chunk; uploads work again once the volume has room', async (t) => {
    if (typeof disk === 'string' || typeof database === 'string' || !portico) return t.skip(typeof disk === 'string' ? disk : typeof database === 'string' ? database : 'not started');
    const client = portico.client();
    const small = await upload(portico, 'small.bin', randomBytes(MiB));
    assert.equal(small.status, 200, JSON.stringify(small.body));

    // Random bytes: PostgreSQL cannot compress them into the space that is left.
    assertStorageFull(await upload(portico, 'too-big.bin', randomBytes(40 * MiB)), 'a file larger than the free space');
    assert.deepEqual((await client.files.list()).data.map((file) => file.filename), ['small.bin'], 'no file registered');
    const db = new pg.Client({ connectionString: database.url });
    await db.connect();
    try {
      const { rows } = await db.query('SELECT count(*)::int AS blobs, (SELECT count(*)::int FROM blob_chunks) AS chunks FROM blobs');
      assert.deepEqual(rows[0], { blobs: 1, chunks: 1 }, 'only the small file is stored: the failed upload left no row and no chunk');
    } finally {
      await db.end();
    }
    // Space comes back: the volume is given more room (PostgreSQL cannot even VACUUM a full disk).
    await disk.resize('64m');
    const after = await upload(portico, 'after.bin', randomBytes(2 * MiB));
    assert.equal(after.status, 200, JSON.stringify(after.body));
    assert.equal((await fetch(`${portico.url}/health/readiness`)).status, 200);
  });
});
