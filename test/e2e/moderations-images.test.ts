/**
 * OpenAI's `/v1/moderations` and `/v1/images/generations` through Portico with the `openai` SDK:
 * live, and as batches (OpenAI's Batch API takes both), natively on OpenAI and on Portico's engine
 * for an OpenAI-compatible server; Azure OpenAI's image generation under its deployment; a
 * deployment without the API (Azure's moderations, Anthropic's images) is a 400 naming it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { AZURE_SIMULATOR_API_KEY, type AzureSimulator, startAzureSimulator } from '../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

describe('moderations and image generation', () => {
  let openai: OpenAISimulator;
  let vllm: OpenAISimulator;
  let azure: AzureSimulator;
  let anthropic: AnthropicSimulator;
  let portico: PorticoUnderTest;
  let client: OpenAI;

  before(async () => {
    [openai, vllm, azure, anthropic] = await Promise.all([
      startOpenAISimulator(),
      startOpenAISimulator(),
      startAzureSimulator({ deployments: ['dalle', 'gpt-4o-prod'] }),
      startAnthropicSimulator(),
    ]);
    portico = await startPortico(`
model_list:
  - {model_name: moderation, litellm_params: {model: openai/omni-moderation-latest, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: image, litellm_params: {model: openai/gpt-image-1, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: local-moderation, litellm_params: {model: hosted_vllm/omni-moderation-latest, api_base: "${vllm.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: azure-image, litellm_params: {model: azure/dalle, api_base: "${azure.url}", api_key: ${AZURE_SIMULATOR_API_KEY}, api_version: "2024-10-21"}}
  - {model_name: azure-moderation, litellm_params: {model: azure/gpt-4o-prod, api_base: "${azure.url}", api_key: ${AZURE_SIMULATOR_API_KEY}, api_version: "2024-10-21"}}
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}}
general_settings:
  master_key: sk-moderations-images-master-0123
`);
    client = portico.client();
  });
  after(async () => {
    await portico.close();
    await Promise.all([openai.close(), vllm.close(), azure.close(), anthropic.close()]);
  });

  it('moderations: live, the deployment’s model sent upstream, the results as OpenAI gave them', async () => {
    const answer = await client.moderations.create({ model: 'moderation', input: ['a calm sentence', 'we attack at dawn'] });
    assert.deepEqual(answer.results.map((result) => result.flagged), [false, true]);
    assert.equal(answer.results[1].categories.violence, true);
    assert.equal(openai.requests.at(-1)!.path, '/v1/moderations');
    assert.equal((openai.requests.at(-1)!.json as { model: string }).model, 'omni-moderation-latest');
    const local = await client.moderations.create({ model: 'local-moderation', input: 'hello' });
    assert.equal(local.results[0].flagged, false);
  });

  it('image generation: live on OpenAI (b64 with token usage) and on Azure (under its deployment)', async () => {
    const image = await client.images.generate({ model: 'image', prompt: 'a lighthouse at night', n: 2 });
    assert.equal(image.data?.length, 2);
    assert.equal(Buffer.from(image.data![0].b64_json!, 'base64').subarray(1, 4).toString(), 'PNG');
    assert.equal(image.usage?.output_tokens, 544);
    assert.equal((openai.requests.at(-1)!.json as { model: string }).model, 'gpt-image-1');
    const onAzure = await client.images.generate({ model: 'azure-image', prompt: 'a boat', response_format: 'b64_json' });
    assert.equal(onAzure.data?.length, 1);
    assert.equal(azure.requests.at(-1)!.path, '/openai/deployments/dalle/images/generations');
  });

  it('refuses what a deployment cannot do, and a streamed image, with 400s in the envelope', async () => {
    const azureModeration = await client.moderations.create({ model: 'azure-moderation', input: 'x' }).catch((error: unknown) => error);
    assert.ok(azureModeration instanceof OpenAI.BadRequestError);
    assert.match(azureModeration.message, /does not support \/v1\/moderations/);
    const claudeImage = await client.images.generate({ model: 'claude', prompt: 'x' }).catch((error: unknown) => error);
    assert.ok(claudeImage instanceof OpenAI.BadRequestError);
    assert.match(claudeImage.message, /does not support \/v1\/images\/generations/);
    const streamed = await client.images.generate({ model: 'image', prompt: 'x', stream: true } as never).catch((error: unknown) => error);
    assert.ok(streamed instanceof OpenAI.BadRequestError);
    assert.equal((streamed.error as { param: string }).param, 'stream');
    const noModel = await client.moderations.create({ input: 'x' }).catch((error: unknown) => error);
    assert.ok(noModel instanceof OpenAI.BadRequestError, 'Portico routes by model: a moderation names its model group');
  });

  async function batchOf(endpoint: '/v1/moderations' | '/v1/images/generations', lines: Array<Record<string, unknown>>): Promise<{ batch: OpenAI.Batches.Batch; output: Array<Record<string, any>> }> {
    const jsonl = lines.map((body, index) => JSON.stringify({ custom_id: `line-${index}`, method: 'POST', url: endpoint, body })).join('\n');
    const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'input.jsonl'), purpose: 'batch' });
    let batch = await client.batches.create({ input_file_id: file.id, endpoint, completion_window: '24h' });
    const deadline = Date.now() + 20_000;
    while (!TERMINAL.has(batch.status) && Date.now() < deadline) {
      await openai.advanceBatches();
      await new Promise((resolve) => setTimeout(resolve, 50));
      batch = await client.batches.retrieve(batch.id);
    }
    const text = batch.output_file_id ? await (await client.files.content(batch.output_file_id)).text() : '';
    return { batch, output: text.split('\n').filter(Boolean).map((line) => JSON.parse(line)) };
  }

  it('runs moderation and image batches natively on OpenAI, and moderations on the engine for a compatible server', async () => {
    const native = await batchOf('/v1/moderations', [
      { model: 'moderation', input: 'we attack' },
      { model: 'moderation', input: 'hello' },
    ]);
    assert.equal(native.batch.status, 'completed');
    assert.equal((native.batch as unknown as { portico: { execution: string } }).portico.execution, 'native_file');
    assert.deepEqual(native.output.map((line) => [line.custom_id, line.response.body.results[0].flagged]).sort(), [['line-0', true], ['line-1', false]]);
    const images = await batchOf('/v1/images/generations', [{ model: 'image', prompt: 'a boat' }]);
    assert.equal(images.batch.status, 'completed');
    assert.equal(images.output[0].response.body.data.length, 1);
    const emulated = await batchOf('/v1/moderations', [{ model: 'local-moderation', input: 'we attack' }]);
    assert.equal(emulated.batch.status, 'completed');
    assert.equal((emulated.batch as unknown as { portico: { execution: string } }).portico.execution, 'emulated');
    assert.equal(emulated.output[0].response.body.results[0].flagged, true);
    assert.equal(vllm.requests.at(-1)!.path, '/v1/moderations');
  });
});
