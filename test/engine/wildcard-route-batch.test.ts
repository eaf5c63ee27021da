/**
 * An emulated batch on a wildcard route (LiteLLM's `model_name: "vllm-*"`): the batch runs on
 * the deployment derived for the requested name, which every later step (the engine, the
 * synchroniser, a restart's lookups) finds again from its id alone.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { BatchOutputLine } from '../../src/spec/openai-objects.ts';
import { forEachDatabase } from '../helpers/databases.ts';
import { startOpenAISimulator, OPENAI_SIMULATOR_API_KEY, type OpenAISimulator } from '../simulators/openai-simulator.ts';
import { chatLines, customIds, startEngineHarness, type EngineHarness } from './engine-harness.ts';

let upstream: OpenAISimulator;
before(async () => {
  upstream = await startOpenAISimulator();
});
after(async () => {
  await upstream.close();
});

forEachDatabase('emulated batches on a wildcard route', (ctx) => {
  let h: EngineHarness;
  before(async () => {
    h = await startEngineHarness(
      ctx.db,
      `
model_list:
  - model_name: "vllm-*"
    litellm_params: {model: "hosted_vllm/*", api_base: "${upstream.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, batch_concurrency: 2}
`,
    );
    h.engine.start();
  });
  after(async () => {
    await h.close();
  });

  test('runs every line on the derived deployment, with the requested name filled in upstream', async () => {
    const before = upstream.requests.length;
    const lines = chatLines(6, 'vllm-gpt-4o-mini');
    const id = await h.createBatch(lines);
    const batch = await h.waitForStatus(id, ['completed', 'failed', 'expired', 'cancelled']);
    assert.equal(batch.status, 'completed');
    const { output } = await h.results(batch);
    assert.deepEqual(customIds(output as BatchOutputLine[]), customIds(lines));
    const stored = await h.managed.batchStore.getById(id);
    const deploymentId = stored?.deploymentId ?? '';
    assert.ok(deploymentId.endsWith('~gpt-4o-mini'), deploymentId);
    assert.equal(h.router.deployment(deploymentId)?.upstreamModel, 'gpt-4o-mini');
    const models = upstream.requests.slice(before).map((request) => (request.json as { model?: unknown } | undefined)?.model).filter((model) => model !== undefined);
    assert.ok(models.length >= 6);
    assert.ok(models.every((model) => model === 'gpt-4o-mini'), JSON.stringify(models));
  });
});
