/**
 * OpenAI's Uploads API through Portico, driven by the official `openai` SDK, on SQLite (a blob
 * directory) and PostgreSQL (blobs in the database): a batch input file sent in parts, out of
 * order, becomes a file in the order `complete` names, which a batch then runs; what the API
 * refuses (sizes that do not add up, a wrong md5, a part too many, another tenant's upload, parts
 * after cancel); and the janitor removes the parts' bytes of finished uploads and expires
 * uploads whose hour passed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { MAX_UPLOAD_PARTS } from '../../../src/managed/files/upload-service.ts';
import { chatLines, expectStatus, GATEWAY_FILE_ID, readContent, runToEnd, startManagedGateway, type ManagedGateway } from './managed-fixtures.ts';

/** The gateway's own message of a refusal with `status`. */
async function refusal(promise: Promise<unknown>, status: number): Promise<string> {
  const error = await promise.then(
    () => assert.fail(`expected a ${status}`),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof OpenAI.APIError, String(error));
  assert.equal(error.status, status, error.message);
  return (error.error as { message: string }).message;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`the Uploads API [${dialect}]`, () => {
    let gateway: ManagedGateway;
    let client: OpenAI;
    before(async () => {
      gateway = await startManagedGateway(dialect);
      client = gateway.client;
    });
    after(() => gateway?.close());

    const partCount = async (uploadId: string) =>
      (await gateway.portico.services.database.kysely.selectFrom('upload_parts').select('id').where('upload_id', '=', uploadId).execute()).length;

    it('a batch input file sent in three parts, out of order, becomes one file in the order complete names, and runs as a batch', async () => {
      const jsonl = chatLines('gpt-4o-mini', { count: 9 });
      const bytes = Buffer.from(jsonl);
      const cuts = [0, 300, 700, bytes.length];
      const upload = await client.uploads.create({ bytes: bytes.length, filename: 'big-input.jsonl', mime_type: 'text/jsonl', purpose: 'batch' });
      assert.match(upload.id, /^upload_[A-Za-z0-9]{24}$/);
      assert.deepEqual([upload.object, upload.status, upload.bytes, upload.expires_at - upload.created_at], ['upload', 'pending', bytes.length, 3600]);
      // Sent last part first: `complete`'s order is the file's.
      const parts: string[] = [];
      for (const index of [2, 0, 1]) {
        const part = await client.uploads.parts.create(upload.id, { data: await toFile(bytes.subarray(cuts[index], cuts[index + 1]), 'part') });
        assert.deepEqual([part.object, part.upload_id], ['upload.part', upload.id]);
        parts[index] = part.id;
      }
      const completed = await client.uploads.complete(upload.id, { part_ids: parts, md5: createHash('md5').update(bytes).digest('hex') });
      assert.equal(completed.status, 'completed');
      assert.ok(completed.file);
      assert.match(completed.file.id, GATEWAY_FILE_ID);
      assert.deepEqual([completed.file.bytes, completed.file.filename, completed.file.purpose], [bytes.length, 'big-input.jsonl', 'batch']);
      assert.equal(await readContent(client, completed.file.id), jsonl);

      const batch = await client.batches.create({ input_file_id: completed.file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, gateway.upstreams, batch.id);
      assert.equal(done.status, 'completed');
      assert.equal(done.request_counts?.completed, 9);

      // The parts' bytes go once the upload is done (the file has its own).
      await gateway.portico.jobs.janitor.runOnce();
      assert.equal(await partCount(upload.id), 0);
      await expectStatus(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'part') }), 400);
    });

    it('refuses what does not add up: sizes, md5, unknown parts, a part past the declared size, a bad line, and a batch file that is not JSONL', async () => {
      const bytes = Buffer.from(chatLines('gpt-4o-mini', { count: 2 }));
      const upload = await client.uploads.create({ bytes: bytes.length, filename: 'input.jsonl', mime_type: 'text/jsonl', purpose: 'batch' });
      const half = await client.uploads.parts.create(upload.id, { data: await toFile(bytes.subarray(0, 100), 'part') });
      assert.equal(await refusal(client.uploads.complete(upload.id, { part_ids: [half.id] }), 400), `The number of bytes uploaded (100) does not match the expected number of bytes (${bytes.length}).`);
      assert.match(await refusal(client.uploads.complete(upload.id, { part_ids: [half.id, 'part_nope'] }), 400), /part_nope is not a part of the upload/);
      // More than the declared size: refused while it streams.
      assert.match(await refusal(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.alloc(bytes.length), 'part') }), 400), /at most the \d+ bytes it declared/);
      const rest = await client.uploads.parts.create(upload.id, { data: await toFile(bytes.subarray(100), 'part') });
      assert.match(await refusal(client.uploads.complete(upload.id, { part_ids: [half.id, rest.id], md5: '0'.repeat(32) }), 400), /^The md5 of the uploaded bytes is not the one given/);
      // Right order, right md5: still pending after the refusals, so it completes.
      const completed = await client.uploads.complete(upload.id, { part_ids: [half.id, rest.id], md5: createHash('md5').update(bytes).digest('hex') });
      assert.equal(completed.status, 'completed');

      const broken = Buffer.from('{"custom_id": "a", "method": "POST"}\nnot json\n');
      const bad = await client.uploads.create({ bytes: broken.length, filename: 'bad.jsonl', mime_type: 'text/jsonl', purpose: 'batch' });
      const part = await client.uploads.parts.create(bad.id, { data: await toFile(broken, 'part') });
      assert.match(await refusal(client.uploads.complete(bad.id, { part_ids: [part.id] }), 400), /line 1|line 2/i);
      assert.equal(await refusal(client.uploads.create({ bytes: 10, filename: 'input.csv', mime_type: 'text/csv', purpose: 'batch' }), 400), 'Invalid file format for Batch API. Must be .jsonl');
      assert.match(await refusal(client.uploads.create({ bytes: 9 * 1024 ** 3, filename: 'huge.jsonl', mime_type: 'text/jsonl', purpose: 'batch' }), 400), /^Invalid value for 'bytes'/);
      assert.match(await refusal(client.uploads.create({ bytes: 600 * 1024 ** 2, filename: 'big.txt', mime_type: 'text/plain', purpose: 'user_data' }), 400), /file size limit of 536870912 bytes \(portico_settings.files.max_file_bytes\)/);
      assert.match(await refusal(client.uploads.create({ bytes: 10, filename: 'x.jsonl', mime_type: 'text/jsonl', purpose: 'nonsense' as 'batch' }), 400), /is not one of/);
    });

    it(`an upload takes at most ${MAX_UPLOAD_PARTS} parts (a file as one-byte parts would be a row a byte)`, async () => {
      const upload = await client.uploads.create({ bytes: MAX_UPLOAD_PARTS + 10, filename: 'tiny-parts.txt', mime_type: 'text/plain', purpose: 'user_data' });
      // The parts a patient client would have sent one byte at a time, written directly.
      const rows = Array.from({ length: MAX_UPLOAD_PARTS }, (_, i) => ({ id: `part_cap${dialect}${i}`, upload_id: upload.id, blob_key: `blob_${createHash('md5').update(`${dialect}-${i}`).digest('hex')}`, bytes: 1, created_at: 1 }));
      for (let start = 0; start < rows.length; start += 1000) await gateway.portico.services.database.kysely.insertInto('upload_parts').values(rows.slice(start, start + 1000)).execute();
      assert.match(await refusal(client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'), 'part') }), 400), /at most 10000 parts/);
      // They have no bytes behind them: gone directly, not left to the janitor's 200 a run.
      await gateway.portico.services.database.kysely.deleteFrom('upload_parts').where('upload_id', '=', upload.id).execute();
      await client.uploads.cancel(upload.id);
    });

    it("another tenant's upload is not found; a cancelled one takes no parts and loses those it had", async () => {
      const teamA = gateway.portico.client((await gateway.portico.generateKey({ team_id: `uploads-a-${dialect}` })).key);
      const teamB = gateway.portico.client((await gateway.portico.generateKey({ team_id: `uploads-b-${dialect}` })).key);
      const upload = await teamA.uploads.create({ bytes: 20, filename: 'notes.txt', mime_type: 'text/plain', purpose: 'user_data' });
      await expectStatus(teamB.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'.repeat(20)), 'part') }), 404);
      await expectStatus(teamB.uploads.cancel(upload.id), 404);
      await expectStatus(teamB.uploads.complete(upload.id, { part_ids: ['part_x'] }), 404);
      await teamA.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('x'.repeat(10)), 'part') });
      const cancelled = await teamA.uploads.cancel(upload.id);
      assert.equal(cancelled.status, 'cancelled');
      await expectStatus(teamA.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('y'), 'part') }), 400);
      await expectStatus(teamA.uploads.cancel(upload.id), 400);
      await gateway.portico.jobs.janitor.runOnce();
      assert.equal(await partCount(upload.id), 0);
    });

    it('an upload whose hour passed expires, and its parts go', async () => {
      const upload = await client.uploads.create({ bytes: 30, filename: 'late.txt', mime_type: 'text/plain', purpose: 'user_data' });
      await client.uploads.parts.create(upload.id, { data: await toFile(Buffer.from('z'.repeat(30)), 'part') });
      await gateway.portico.services.database.kysely.updateTable('uploads').set({ expires_at: 1 }).where('id', '=', upload.id).execute();
      const late = await client.uploads.complete(upload.id, { part_ids: ['part_any'] }).catch((error: unknown) => error);
      assert.ok(late instanceof OpenAI.BadRequestError);
      assert.match(late.message, /is expired/);
      await gateway.portico.jobs.janitor.runOnce();
      const row = await gateway.portico.services.database.kysely.selectFrom('uploads').select('status').where('id', '=', upload.id).executeTakeFirstOrThrow();
      assert.equal(row.status, 'expired');
      assert.equal(await partCount(upload.id), 0);
    });
  });
}
