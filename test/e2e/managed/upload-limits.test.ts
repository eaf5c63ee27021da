/**
 * What bounds the memory uploads may take: the longest batch input line
 * (`max_batch_line_bytes`), the longest `custom_id`, and how many uploads one instance reads at
 * once, in all and per key (`max_concurrent_uploads`, `max_concurrent_uploads_per_key`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ALL_DIALECTS } from '../../helpers/databases.ts';
import { startPorticoWithStorage, type PorticoUnderTest, type PorticoWithStorage } from '../../helpers/portico.ts';
import { mockFilesConfig, storedFilesAndBlobs } from './managed-fixtures.ts';

const MASTER_KEY = 'sk-upload-limits-master-key-0123';
const BOUNDARY = '----portico-upload-limits';
const MAX_LINE_BYTES = 4096;

function config(storageDir: string, blobStore: 'directory' | 'database'): string {
  return mockFilesConfig(
    MASTER_KEY,
    blobStore,
    storageDir,
    `    max_batch_line_bytes: ${MAX_LINE_BYTES}
    max_concurrent_uploads: 2
    max_concurrent_uploads_per_key: 1
`,
  );
}

const line = (customId: string, content = 'hi') =>
  `${JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content }] } })}\n`;

function batchUpload(text: string, purposeFirst = true): FormData {
  const form = new FormData();
  if (purposeFirst) form.append('purpose', 'batch');
  form.append('file', new File([text], 'input.jsonl'));
  if (!purposeFirst) form.append('purpose', 'batch');
  return form;
}

async function errorOf(response: Response, status: number): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return (JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
}

for (const dialect of ALL_DIALECTS) {
  describe(`upload limits [${dialect}]`, () => {
    let portico: PorticoWithStorage;
    before(async () => {
      portico = await startPorticoWithStorage((storageDir) => config(storageDir, dialect === 'postgres' ? 'database' : 'directory'), { dialect });
    });
    after(() => portico?.close());

    const stored = () => storedFilesAndBlobs(portico);

    test('a line longer than max_batch_line_bytes is a 400 naming the line, and nothing is stored', async () => {
      const before = await stored();
      const long = line('b', 'x'.repeat(MAX_LINE_BYTES));
      for (const purposeFirst of [true, false]) {
        const error = await errorOf(await portico.fetch('/v1/files', { method: 'POST', body: batchUpload(line('a') + long + line('c'), purposeFirst) }), 400);
        assert.match(error.message, /line 2: This line is too long \(more than 4096 bytes\)/);
        assert.equal(error.type, 'invalid_request_error');
      }
      // The line limit is only for batch input; other purposes take any bytes.
      const form = new FormData();
      form.append('purpose', 'user_data');
      form.append('file', new File([long], 'notes.txt'));
      assert.equal((await portico.fetch('/v1/files', { method: 'POST', body: form })).status, 200);
      assert.deepEqual(await stored(), { files: before.files + 1, blobs: before.blobs + 1 });
    });

    test('a custom_id over 512 characters is a 400 naming it and the line', async () => {
      const before = await stored();
      const error = await errorOf(await portico.fetch('/v1/files', { method: 'POST', body: batchUpload(line('a') + line('x'.repeat(513))) }), 400);
      assert.equal(error.param, 'custom_id');
      assert.match(error.message, /line 2: The custom_id is too long/);
      assert.deepEqual(await stored(), before);
      // 512 is fine, and duplicates of long ids are still found.
      const long = 'y'.repeat(512);
      assert.equal((await portico.fetch('/v1/files', { method: 'POST', body: batchUpload(line(long)) })).status, 200);
      assert.equal((await errorOf(await portico.fetch('/v1/files', { method: 'POST', body: batchUpload(line(long) + line(long)) }), 400)).code, 'duplicate_custom_id');
    });
  });
}

/** An upload whose body never finishes: it holds its slot until the socket is destroyed. */
async function heldUpload(portico: PorticoUnderTest, apiKey: string): Promise<Socket> {
  const socket = connect(Number(new URL(portico.url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  socket.write(
    `POST /v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${apiKey}\r\n` +
      `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 1000000\r\n\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\n\r\n${line('held')}`,
  );
  return socket;
}

describe('concurrent uploads', () => {
  let portico: PorticoWithStorage;
  before(async () => {
    portico = await startPorticoWithStorage((storageDir) => config(storageDir, 'directory'));
  });
  after(() => portico?.close());

  const upload = (apiKey: string) => portico.fetch('/v1/files', { method: 'POST', body: batchUpload(line('a')), apiKey });
  const uploadsInProgress = async () => (await readdir(portico.storageDir).catch(() => [])).filter((name) => name.startsWith('.tmp-')).length;
  async function until(what: string, condition: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  test('uploads beyond the per-key and the instance limit are a 429 in the envelope until one finishes', async () => {
    const { key: first } = await portico.generateKey();
    const { key: second } = await portico.generateKey();
    const { key: third } = await portico.generateKey();

    const held = [await heldUpload(portico, first)];
    await until('the first upload to be in progress', async () => (await uploadsInProgress()) === 1);
    const perKey = await errorOf(await upload(first), 429);
    assert.equal(perKey.code, 'too_many_concurrent_uploads');
    assert.match(perKey.message, /for this key \(at most 1 at once\)/);
    assert.equal((await upload(second)).status, 200, 'another key may upload');

    held.push(await heldUpload(portico, second));
    await until('two uploads to be in progress', async () => (await uploadsInProgress()) === 2);
    const total = await errorOf(await upload(third), 429);
    assert.equal(total.type, 'rate_limit_error');
    assert.match(total.message, /Too many uploads in progress \(at most 2 at once\)/);

    for (const socket of held) socket.destroy();
    await until('the held uploads to end', async () => (await uploadsInProgress()) === 0);
    await until('a slot to be free again', async () => (await upload(third)).status === 200);
    assert.equal((await upload(first)).status, 200);
  });
});
