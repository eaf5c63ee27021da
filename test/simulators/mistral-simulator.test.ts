/**
 * The Mistral simulator answers Mistral's own Node SDK (`@mistralai/mistralai`), whose response
 * schemas validate every answer: a batch file uploaded, a job created, run, listed, its output and
 * error files downloaded; a job cancelled.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Mistral } from '@mistralai/mistralai';
import { MISTRAL_SIMULATOR_API_KEY, startMistralSimulator, type MistralSimulator } from './mistral-simulator.ts';

function line(customId: string, text: string): string {
  return JSON.stringify({ custom_id: customId, body: { max_tokens: 50, messages: [{ role: 'user', content: text }] } });
}

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe('Mistral simulator, driven by the @mistralai/mistralai SDK', () => {
  let sim: MistralSimulator;
  let client: Mistral;
  before(async () => {
    sim = await startMistralSimulator();
    client = new Mistral({ apiKey: MISTRAL_SIMULATOR_API_KEY, serverURL: sim.origin });
  });
  after(() => sim.close());

  async function uploadBatchFile(lines: string[]) {
    return client.files.upload({ file: { fileName: 'input.jsonl', content: Buffer.from(lines.join('\n')) }, purpose: 'batch' });
  }

  it('runs a job: counts, output lines keyed by custom_id, the failed line in the error file', async () => {
    const file = await uploadBatchFile([line('a', 'alpha'), line('b', 'FAIL')]);
    assert.equal(file.purpose, 'batch');
    assert.equal(file.sizeBytes, sim.files.get(file.id)!.content.length, 'the wire says bytes, the SDK sizeBytes');
    const created = await client.batch.jobs.create({ inputFiles: [file.id], model: 'mistral-small-latest', endpoint: '/v1/chat/completions', metadata: { team: 'a' } });
    assert.equal(created.status, 'QUEUED');
    assert.equal(created.totalRequests, 2);
    await sim.advanceBatches();
    assert.equal((await client.batch.jobs.get({ jobId: created.id })).status, 'RUNNING');
    await sim.advanceBatches();
    const done = await client.batch.jobs.get({ jobId: created.id });
    assert.equal(done.status, 'SUCCESS');
    assert.deepEqual([done.succeededRequests, done.failedRequests], [1, 1]);
    assert.deepEqual(done.metadata, { team: 'a' });
    const output = (await text(await client.files.download({ fileId: done.outputFile! }))).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(output.map((l) => l.custom_id), ['a']);
    assert.equal(output[0].response.status_code, 200);
    assert.equal(output[0].response.body.choices[0].message.content, 'alpha');
    assert.equal(output[0].response.body.model, 'mistral-small-latest', "the job's model");
    const errors = (await text(await client.files.download({ fileId: done.errorFile! }))).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(errors.map((l) => l.custom_id), ['b']);
    assert.equal(errors[0].response.status_code, 400);
    const listed = await client.batch.jobs.list({});
    assert.ok(listed.data?.some((job) => job.id === created.id));
    const files = await client.files.list({});
    assert.ok(files.data.some((f) => f.id === file.id));
    assert.equal((await client.files.delete({ fileId: file.id })).deleted, true);
  });

  it('cancels a job: cancellation requested, then cancelled', async () => {
    const file = await uploadBatchFile([line('a', 'alpha')]);
    const created = await client.batch.jobs.create({ inputFiles: [file.id], model: 'mistral-small-latest', endpoint: '/v1/chat/completions' });
    const cancelling = await client.batch.jobs.cancel({ jobId: created.id });
    assert.equal(cancelling.status, 'CANCELLATION_REQUESTED');
    await sim.advanceBatches();
    assert.equal((await client.batch.jobs.get({ jobId: created.id })).status, 'CANCELLED');
  });

  it('refuses a job without a model', async () => {
    const file = await uploadBatchFile([line('a', 'alpha')]);
    await assert.rejects(client.batch.jobs.create({ inputFiles: [file.id], endpoint: '/v1/chat/completions' }), (error: { statusCode?: number }) => error.statusCode === 422);
  });
});
