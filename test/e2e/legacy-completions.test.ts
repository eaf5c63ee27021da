/**
 * The legacy `/v1/completions` through the `openai` SDK: passed through to OpenAI-shaped upstreams
 * (OpenAI, and vLLM-style servers where batches run on Portico's engine), plain and streamed, and
 * a 400 from a provider that has no such API. Upstream: the OpenAI simulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';

const config = (simulatorUrl: string) => `
model_list:
  - model_name: instruct
    litellm_params:
      model: openai/gpt-3.5-turbo-instruct
      api_base: ${simulatorUrl}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
  - model_name: vllm-instruct
    litellm_params:
      model: hosted_vllm/served-instruct
      api_base: ${simulatorUrl}
      api_key: ${OPENAI_SIMULATOR_API_KEY}
  - model_name: mock-chat
    litellm_params:
      model: mock/chat
general_settings:
  master_key: sk-legacy-completions-master-0123
`;

describe('legacy completions through the openai SDK', () => {
  let simulator: OpenAISimulator;
  let portico: PorticoUnderTest;
  let client: OpenAI;
  before(async () => {
    simulator = await startOpenAISimulator();
    portico = await startPortico(config(simulator.url));
    client = portico.client();
  });
  after(async () => {
    await portico?.close();
    await simulator?.close();
  });

  it('answers a completion from the deployment, with the upstream model in the request it sent', async () => {
    const answer = await client.completions.create({ model: 'instruct', prompt: 'Say this is a test', max_tokens: 50 });
    assert.equal(answer.object, 'text_completion');
    assert.equal(answer.choices[0].text, 'Say this is a test');
    assert.ok((answer.usage?.total_tokens ?? 0) > 0);
    const sent = simulator.requests.findLast((request) => request.path === '/v1/completions');
    assert.equal((sent?.json as { model: string }).model, 'gpt-3.5-turbo-instruct');
  });

  it('streams a completion chunk by chunk, with its usage chunk, ending the SDK iteration', async () => {
    const stream = await client.completions.create({ model: 'instruct', prompt: 'Stream this one', max_tokens: 50, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.choices[0]?.text ?? '';
      usage = chunk.usage ?? usage;
    }
    assert.equal(text, 'Stream this one');
    assert.ok(chunks >= 3, `${chunks} chunks`);
    assert.ok((usage?.completion_tokens ?? 0) > 0);
  });

  it('checks the prompt, and answers 400 for a deployment whose provider has no completions API', async () => {
    await assert.rejects(
      client.completions.create({ model: 'instruct', prompt: 5 as unknown as string }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && error.param === 'prompt',
    );
    await assert.rejects(
      client.completions.create({ model: 'mock-chat', prompt: 'hello' }),
      (error: unknown) => error instanceof OpenAI.BadRequestError && /does not support \/v1\/completions/.test(error.message),
    );
  });

  it('runs a batch of completions on an OpenAI-compatible server through the engine', async () => {
    const lines = Array.from({ length: 4 }, (_, i) => JSON.stringify({ custom_id: `c-${i}`, method: 'POST', url: '/v1/completions', body: { model: 'vllm-instruct', prompt: `prompt ${i}`, max_tokens: 20 } }));
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'completions.jsonl'), purpose: 'batch' });
    let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/completions', completion_window: '24h' });
    const deadline = Date.now() + 20_000;
    while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      batch = await client.batches.retrieve(batch.id);
    }
    assert.equal(batch.status, 'completed', JSON.stringify(batch.errors));
    assert.deepEqual(batch.request_counts, { total: 4, completed: 4, failed: 0 });
    const output = (await (await client.files.content(batch.output_file_id!)).text()).trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(output.map((line) => line.custom_id).sort(), ['c-0', 'c-1', 'c-2', 'c-3']);
    for (const line of output) {
      assert.equal(line.response.status_code, 200);
      assert.equal(line.response.body.object, 'text_completion');
    }
    const sent = simulator.requests.filter((request) => request.path === '/v1/completions' && (request.json as { model: string }).model === 'served-instruct');
    assert.equal(sent.length, 4);
  });
});
