/**
 * An emulated batch does not wait for the batch poller at either end (issue 15): its create
 * asks for a sync at once (the lines are loaded, the batch moves to `in_progress` and the engine
 * starts it), and the engine asks for one as soon as the last line is recorded (`finalizing`
 * and `completed` in the same sync). The poller's interval is set to a minute and retrieves
 * never refresh here, so a batch that completes within seconds proves neither waited for it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { toFile } from 'openai';
import type { SqlDialectName } from '../../src/storage/database.ts';
import { startPorticoWithStorage, type PorticoWithStorage } from '../helpers/portico.ts';

const MASTER_KEY = 'sk-engine-at-once-master-0123456789';

function jsonl(count: number): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ custom_id: `request-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'mock-model', messages: [{ role: 'user', content: `Say ${i}` }] } }),
  ).join('\n');
}

for (const dialect of ['sqlite', 'postgres'] as SqlDialectName[]) {
  describe(`emulated batches start and finish without waiting for the poller [${dialect}]`, () => {
    let portico: PorticoWithStorage;
    before(async () => {
      portico = await startPorticoWithStorage(
        (storageDir) => `
  model_list:
    - model_name: mock-model
      litellm_params:
        model: mock/mock-model
  general_settings:
    master_key: ${MASTER_KEY}
  portico_settings:
    files:
      storage_dir: ${storageDir}
    batch:
      refresh_after_seconds: 3600
      poll_interval_ms: 60000
  `,
        { dialect },
      );
    });
    after(() => portico.close());

    test('a batch goes from create to completed, with its output file, within seconds', async () => {
      const client = portico.client();
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl(30)), 'requests.jsonl'), purpose: 'batch' });
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal(created.status, 'validating');
      let batch = created;
      const deadline = Date.now() + 10_000;
      while (batch.status !== 'completed' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        batch = await client.batches.retrieve(created.id);
      }
      assert.equal(batch.status, 'completed', `still ${batch.status} after 10 s (the poller runs once a minute here)`);
      assert.deepEqual(batch.request_counts, { total: 30, completed: 30, failed: 0 });
      const output = (await (await client.files.content(batch.output_file_id!)).text()).trim().split('\n');
      assert.equal(output.length, 30);
    });
  });
}
