/**
 * A client that closes its socket in the middle of `POST /v1/files` must leave nothing open or
 * half-written behind: no descriptor on the blob store's temporary file, no temporary file, no
 * unfinished blob row; on the directory store (SQLite), the database store (PostgreSQL) and
 * S3 (s3rver: no unfinished multipart upload, no object).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { objectStoreFiles, startS3Emulator } from '../../helpers/object-storage.ts';
import { startPorticoWithStorage, type PorticoUnderTest } from '../../helpers/portico.ts';
import { mockFilesConfig } from './managed-fixtures.ts';

const MASTER_KEY = 'sk-interrupted-upload-master-0123';
const BOUNDARY = '----portico-interrupted-upload';

/** This process's descriptors that point into `dir` (the gateway runs in-process). */
async function descriptorsInto(dir: string): Promise<string[]> {
  const targets = await Promise.all((await readdir('/proc/self/fd')).map((fd) => readlink(`/proc/self/fd/${fd}`).catch(() => '')));
  return targets.filter((target) => target.startsWith(`${dir}/`));
}

async function unfinishedBlobRows(portico: PorticoUnderTest): Promise<number> {
  const rows = await portico.services.database.kysely.selectFrom('blobs').select('key').where('completed_at', 'is', null).execute();
  return rows.length;
}

async function until(what: string, condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

/** Sends the headers and the start of a large multipart upload, then (when `started` says so) destroys the socket. */
async function interruptedUpload(portico: PorticoUnderTest, started: () => Promise<boolean>, sendBytes = 512 * 1024): Promise<void> {
  const { port } = new URL(portico.url);
  const socket = connect(Number(port), '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  const head =
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n`;
  const line = (i: number) => `${JSON.stringify({ custom_id: `request-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] } })}\n`;
  socket.write(
    `POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${MASTER_KEY}\r\n` +
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${10 * 1024 * 1024}\r\n\r\n`,
  );
  socket.write(head);
  // Of the promised ten megabytes, enough that the store has begun writing (half a megabyte;
  // past the first 5 MiB part on S3).
  socket.write(Array.from({ length: Math.ceil(sendBytes / line(0).length) }, (_, i) => line(i)).join(''));
  await until('the upload to reach the blob store', started);
  socket.destroy();
}

test('an upload interrupted mid-body leaves no open descriptor and no temporary file (directory store)', async () => {
  const portico = await startPorticoWithStorage((dir) => mockFilesConfig(MASTER_KEY, 'directory', dir));
  const { storageDir } = portico;
  try {
    for (let i = 0; i < 3; i += 1) {
      await interruptedUpload(portico, async () => (await readdir(storageDir).catch(() => [])).some((name) => name.startsWith('.tmp-')));
    }
    await until('every descriptor into the blob directory to be closed', async () => (await descriptorsInto(storageDir)).length === 0);
    await until('every temporary file to be removed', async () => (await readdir(storageDir)).length === 0);
    // The gateway still takes uploads afterwards.
    const file = await portico.client().files.create({ file: new File(['hello'], 'notes.txt'), purpose: 'user_data' });
    assert.equal(file.bytes, 5);
  } finally {
    await portico.close();
  }
});

test('an upload interrupted mid-body leaves no unfinished blob (database store)', async () => {
  const portico = await startPorticoWithStorage((dir) => mockFilesConfig(MASTER_KEY, 'database', dir), { dialect: 'postgres' });
  try {
    for (let i = 0; i < 3; i += 1) {
      await interruptedUpload(portico, async () => (await unfinishedBlobRows(portico)) > 0);
      await until('the unfinished blob to be deleted', async () => (await unfinishedBlobRows(portico)) === 0);
    }
    const chunks = await portico.services.database.kysely.selectFrom('blob_chunks').select('seq').execute();
    assert.equal(chunks.length, 0);
  } finally {
    await portico.close();
  }
});

test('an upload interrupted mid-body leaves no unfinished multipart upload and no object (S3)', async () => {
  const s3 = await startS3Emulator();
  const uploads = join(s3.dir, s3.bucket, '._S3rver_uploads');
  const unfinishedUploads = async () => (await readdir(uploads).catch(() => [])).length;
  const portico = await startPorticoWithStorage((dir) => mockFilesConfig(MASTER_KEY, 's3', dir, objectStoreFiles(s3)));
  try {
    for (let i = 0; i < 2; i += 1) {
      await interruptedUpload(portico, async () => (await unfinishedUploads()) > 0, 6 * 1024 * 1024);
      await until('the multipart upload to be aborted', async () => (await unfinishedUploads()) === 0);
    }
    assert.deepEqual(await portico.services.managed!.blobs.listOlderThan(0, 100), []);
    const file = await portico.client().files.create({ file: new File(['hello'], 'notes.txt'), purpose: 'user_data' });
    assert.equal(file.bytes, 5);
  } finally {
    await portico.close();
    await s3.close();
  }
});
