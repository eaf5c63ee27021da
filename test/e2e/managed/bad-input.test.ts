/**
 * Input a client got wrong is a 4xx in OpenAI's envelope that writes nothing, never a 500:
 * repeated query keys on the list routes, a repeated multipart field, a key duration past any
 * representable date; and a file whose name is not plain ASCII downloads like any other.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_DIALECTS } from '../../helpers/databases.ts';
import { startPorticoWithStorage, type PorticoWithStorage } from '../../helpers/portico.ts';
import { mockFilesConfig, storedFilesAndBlobs } from './managed-fixtures.ts';

const MASTER_KEY = 'sk-bad-input-master-key-0123456';

async function expectClientError(response: Response, status: number, param?: string): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  const body = JSON.parse(text) as { error: { message: string; type: string; param: string | null; code: string | null } };
  assert.equal(body.error.type, 'invalid_request_error');
  if (param !== undefined) assert.equal(body.error.param, param);
  return body.error;
}

const batchLine = `${JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] } })}\n`;

for (const dialect of ALL_DIALECTS) {
  describe(`bad input [${dialect}]`, () => {
    let portico: PorticoWithStorage;

    before(async () => {
      portico = await startPorticoWithStorage((storageDir) => mockFilesConfig(MASTER_KEY, dialect === 'postgres' ? 'database' : 'directory', storageDir), { dialect });
    });
    after(() => portico?.close());

    const fileRows = async () => (await storedFilesAndBlobs(portico)).files;
    const blobCount = async () => (await storedFilesAndBlobs(portico)).blobs;

    test('a repeated query key on a list route is a 400 naming it', async () => {
      await expectClientError(await portico.fetch('/v1/files?purpose=batch&purpose=user_data'), 400, 'purpose');
      await expectClientError(await portico.fetch('/v1/files?order=asc&order=desc'), 400, 'order');
      await expectClientError(await portico.fetch('/files?after=file-a&after=file-b'), 400, 'after');
      await expectClientError(await portico.fetch('/v1/batches?after=batch_a&after=batch_b'), 400, 'after');
      await expectClientError(await portico.fetch('/v1/batches?target_model_names=a&target_model_names=b'), 400, 'target_model_names');
      assert.equal((await portico.fetch('/v1/files?purpose=batch')).status, 200);
    });

    test('a multipart field repeated around the file part is a 400 and stores nothing', async () => {
      const filesBefore = await fileRows();
      for (const [first, second] of [
        ['user_data', 'batch'],
        ['batch', 'user_data'],
      ]) {
        const form = new FormData();
        form.append('purpose', first);
        form.append('file', new File([batchLine], 'input.jsonl'));
        form.append('purpose', second);
        await expectClientError(await portico.fetch('/v1/files', { method: 'POST', body: form }), 400, 'purpose');
      }
      assert.equal(await fileRows(), filesBefore);
      assert.equal(await blobCount(), filesBefore);
    });

    test("a file named with RFC 5987's filename* downloads, with a safe Content-Disposition", async () => {
      const name = 'résumé "final" 数据.jsonl';
      const boundary = '----portico-rfc5987';
      const body =
        `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename*=UTF-8''${encodeURIComponent(name)}\r\n` +
        `Content-Type: application/jsonl\r\n\r\n${batchLine}\r\n--${boundary}--\r\n`;
      const uploaded = await portico.fetch('/v1/files', { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
      assert.equal(uploaded.status, 200, await uploaded.clone().text());
      const file = (await uploaded.json()) as { id: string; filename: string };
      assert.equal(file.filename, name);

      const download = await portico.fetch(`/v1/files/${file.id}/content`);
      assert.equal(download.status, 200);
      assert.equal(await download.text(), batchLine);
      const disposition = download.headers.get('content-disposition') ?? '';
      assert.match(disposition, /^attachment; filename="[\x20-\x7e]*"; filename\*=UTF-8''[A-Za-z0-9%._~!$&+^`|-]*$/);
      assert.doesNotMatch(disposition.split(';')[1], /"[^"]*"[^"]*"/, 'the ASCII fallback keeps no inner quote');
      assert.equal(decodeURIComponent(disposition.split("UTF-8''")[1]), name);
    });

    test('a key duration past any representable date is a 400 and writes no key', async () => {
      const keyRows = async () => (await portico.services.database.kysely.selectFrom('api_keys').select('id').execute()).length;
      const before = await keyRows();
      for (const duration of ['300000y', '999999999y', '999999999mo']) {
        const response = await portico.fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration }) });
        await expectClientError(response, 400, 'duration');
      }
      assert.equal(await keyRows(), before);
      const ok = await portico.generateKey({ duration: '100y' });
      assert.match(String(ok.expires), /^\d{4}-/);
    });

    // PostgreSQL cannot hold the NUL character in text or jsonb: a value with one is the client's
    // 400 there (SQLite stores it). Found by the fuzz suite: these were 500s on PostgreSQL.
    test('the NUL character in a key, an id, a filter or metadata is never a 500', async () => {
      const nul = '\u0000';
      const answers = [
        await portico.fetch('/key/delete', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ keys: [nul, `sk-${nul}`] }) }),
        await portico.fetch(`/key/info?key=${encodeURIComponent(`sk-${nul}`)}`),
        await portico.fetch(`/v1/files?purpose=${encodeURIComponent(nul)}`),
        await portico.fetch('/key/generate', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user_id: `a${nul}`, metadata: { note: nul } }) }),
      ];
      for (const response of answers) {
        const text = await response.text();
        assert.ok(response.status < 500, `${response.status} ${text}`);
        if (response.status >= 400) assert.equal((JSON.parse(text) as { error: { type: string } }).error.type, 'invalid_request_error', text);
      }
    });
  });
}
