/**
 * What the translation of a native staged (Anthropic) batch's lines dropped or clamped is kept
 * where the client reads the batch: one metadata pair, `portico_translation_warnings`, each
 * warning once with the number of lines it concerned; never in place of the client's own pairs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from '../../simulators/anthropic-simulator.ts';
import { uploadBatchFile } from '../managed/managed-fixtures.ts';

const KEY = 'portico_translation_warnings';

function lines(bodies: Record<string, unknown>[]): string {
  return bodies
    .map((extra, index) =>
      JSON.stringify({ custom_id: `r-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'claude', max_tokens: 20, messages: [{ role: 'user', content: `q ${index}` }], ...extra } }),
    )
    .join('\n');
}

async function config(sim: AnthropicSimulator): Promise<string> {
  const storage = await mkdtemp(join(tmpdir(), 'portico-batch-warnings-'));
  return `
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${sim.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}
portico_settings:
  files: { storage_dir: ${storage} }
`;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`translation warnings of an Anthropic batch (${dialect})`, () => {
    let sim: AnthropicSimulator;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    before(async () => {
      sim = await startAnthropicSimulator();
      portico = await startPortico(await config(sim), { dialect });
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await sim?.close();
    });

    test('are counted in the batch metadata, beside the client\'s pairs, on create and on retrieve', async () => {
      const file = await uploadBatchFile(client, lines([{ temperature: 1.5 }, { temperature: 1.5 }, {}, { seed: 7 }]));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'w' } });
      const expected =
        "temperature: temperature 1.5 is above Anthropic's maximum of 1 and was clamped to 1. (2 lines) | seed: 'seed' is not supported by Anthropic and was dropped.";
      assert.deepEqual(created.metadata, { run: 'w', [KEY]: expected });
      assert.deepEqual((await client.batches.retrieve(created.id)).metadata, { run: 'w', [KEY]: expected });
      assert.ok(portico.logs.some((line) => line.batch_id === created.id && Array.isArray(line.translation_warnings)));
    });

    test('a batch its provider takes as sent has none, and a full metadata is left as the client sent it', async () => {
      const clean = await client.batches.create({ input_file_id: (await uploadBatchFile(client, lines([{}, {}]))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal(clean.metadata?.[KEY], undefined);
      const full = Object.fromEntries(Array.from({ length: 16 }, (_, index) => [`k${index}`, 'v']));
      const file = await uploadBatchFile(client, lines([{ temperature: 2 }]));
      const kept = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: full });
      assert.deepEqual(kept.metadata, full);
    });
  });
}
