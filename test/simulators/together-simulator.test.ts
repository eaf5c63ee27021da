/**
 * The Together simulator answers Together's own Node SDK (`together-ai`): a file uploaded (as the
 * reference documents), a batch created, run, listed, its output and error files read; a batch
 * cancelled.
 * The SDK is the client here, so the simulator's wire format is the SDK's, not Portico's guess.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, describe, it } from 'node:test';
import { startTogetherSimulator, TOGETHER_SIMULATOR_API_KEY, type TogetherSimulator } from './together-simulator.ts';

type TogetherClient = import('together-ai').Together;

function chatLine(customId: string, text: string): string {
  return JSON.stringify({ custom_id: customId, body: { model: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', messages: [{ role: 'user', content: text }], max_tokens: 50 } });
}

describe('Together simulator, driven by the together-ai SDK', () => {
  let sim: TogetherSimulator;
  let client: TogetherClient;
  before(async () => {
    sim = await startTogetherSimulator();
    // CommonJS: the ES module build's `lib/node-unsafe-imports` calls `require`, which it lacks.
    const { Together } = createRequire(import.meta.url)('together-ai') as typeof import('together-ai');
    client = new Together({ apiKey: TOGETHER_SIMULATOR_API_KEY, baseURL: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  /**
   * The reference's upload, `POST /files/upload` (multipart). The SDK's own `files.upload` (0.52)
   * cannot run on Node 24: its presigned PUT sends a stream body without `duplex`, which Node's
   * fetch refuses ("RequestInit: duplex option is required when sending a body").
   */
  async function uploadInput(lines: string[]): Promise<{ id: string; purpose: string; filename: string }> {
    const form = new FormData();
    form.set('purpose', 'batch-api');
    form.set('file_name', 'input.jsonl');
    form.set('file_type', 'jsonl');
    form.set('file', new Blob([lines.join('\n')]), 'input.jsonl');
    const response = await fetch(`${sim.url}/files/upload`, { method: 'POST', headers: { authorization: `Bearer ${TOGETHER_SIMULATOR_API_KEY}` }, body: form });
    assert.equal(response.status, 200);
    const file = (await response.json()) as { id: string; purpose: string; filename: string };
    // The SDK reads what was uploaded.
    const retrieved = await client.files.retrieve(file.id);
    assert.equal(retrieved.filename, 'input.jsonl');
    assert.ok((await client.files.list()).data.some((listed) => listed.id === file.id));
    return file;
  }

  it('runs a batch: output lines keyed by custom_id, the failed line in the error file', async () => {
    const file = await uploadInput([chatLine('a', 'alpha'), chatLine('b', 'FAIL')]);
    assert.equal(file.purpose, 'batch-api');
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    assert.equal(created.job?.status, 'VALIDATING');
    const id = created.job!.id!;
    await sim.advanceBatches();
    assert.equal((await client.batches.retrieve(id)).status, 'IN_PROGRESS');
    await sim.advanceBatches();
    const done = await client.batches.retrieve(id);
    assert.equal(done.status, 'COMPLETED');
    assert.ok(done.completed_at && !Number.isNaN(Date.parse(done.completed_at)));
    const output = (await (await client.files.content(done.output_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(output.map((l) => l.custom_id), ['a']);
    assert.equal(output[0].response.status_code, 200);
    assert.equal(output[0].response.body.choices[0].message.content, 'alpha');
    const errors = (await (await client.files.content(done.error_file_id!)).text()).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(errors.map((l) => l.custom_id), ['b']);
    assert.equal(typeof errors[0].error.message, 'string');
    const listed = await client.batches.list();
    assert.ok(Array.isArray(listed) && listed.some((b) => b.id === id));
  });

  it('cancels a batch that has not run', async () => {
    const file = await uploadInput([chatLine('a', 'alpha')]);
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions' });
    const cancelled = await client.batches.cancel(created.job!.id!);
    assert.equal(cancelled.status, 'CANCELLED');
    await sim.advanceBatches();
    assert.equal((await client.batches.retrieve(created.job!.id!)).status, 'CANCELLED');
  });

  it('refuses an input file uploaded for another purpose', async () => {
    const file = await uploadInput([chatLine('a', 'alpha')]);
    sim.files.get(file.id)!.purpose = 'fine-tune';
    await assert.rejects(client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions' }), (error: { status?: number }) => error.status === 400);
  });
});
