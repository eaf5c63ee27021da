import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
import { parseConfig } from '../../config/load-config.ts';
import { providerFor } from '../registry.ts';
import { chatStreamText, collectSseData, withSettings } from '../testing/provider-test-helpers.ts';
import { routerModelOf } from './huggingface-config.ts';

const deploymentOf = (litellmParams: string, env: Record<string, string> = {}) =>
  parseConfig(`model_list:\n  - {model_name: hf, litellm_params: {${litellmParams}}}\n`, env).deployments[0];

describe('Hugging Face (huggingface/)', () => {
  it("names the inference provider as the router's model:provider; a Hub id goes as it is", () => {
    assert.equal(routerModelOf('together/deepseek-ai/DeepSeek-R1'), 'deepseek-ai/DeepSeek-R1:together');
    assert.equal(routerModelOf('openai/gpt-oss-20b'), 'openai/gpt-oss-20b', 'an org named like a provider is still an org');
    assert.equal(routerModelOf('meta-llama/Llama-3.3-70B-Instruct'), 'meta-llama/Llama-3.3-70B-Instruct');
  });

  it("chats with the router's OpenAI API (HF_TOKEN, the router's /v1 by default), the provider in the model", async () => {
    const sim = await startOpenAISimulator({ basePath: '/v1' });
    try {
      const provider = providerFor('huggingface');
      assert.ok(provider);
      const byDefault = deploymentOf('model: huggingface/together/deepseek-ai/DeepSeek-R1', { HF_TOKEN: 'hf_token' });
      assert.equal(byDefault.apiKey, 'hf_token');
      assert.equal(byDefault.batchMode, 'emulate');
      // The router's root, as LiteLLM's configs write it (api_base: https://router.huggingface.co), gains /v1.
      const client = provider.createClient(...withSettings(deploymentOf(`model: huggingface/together/deepseek-ai/DeepSeek-R1, api_base: "${sim.origin}", api_key: ${OPENAI_SIMULATOR_API_KEY}`)));
      const answer = await client.chatCompletions({ messages: [{ role: 'user', content: 'hello hf' }] });
      assert.equal((answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, 'hello hf');
      const request = sim.requests.at(-1)!;
      assert.equal(request.path, '/v1/chat/completions');
      assert.equal((request.json as { model: string }).model, 'deepseek-ai/DeepSeek-R1:together');
      assert.equal(request.headers.authorization, `Bearer ${OPENAI_SIMULATOR_API_KEY}`);
      const stream = await client.chatCompletionsStream({ messages: [{ role: 'user', content: 'streamed' }] });
      assert.equal(chatStreamText(await collectSseData(stream.body)), 'streamed');
      // A dedicated endpoint's URL given with /v1 stays as it is; embeddings go to its /v1/embeddings (TEI).
      const endpoint = provider.createClient(...withSettings(deploymentOf(`model: huggingface/BAAI/bge-small-en-v1.5, api_base: "${sim.origin}/v1/", api_key: ${OPENAI_SIMULATOR_API_KEY}`)));
      await endpoint.embeddings!({ input: ['a', 'b'] });
      assert.equal(sim.requests.at(-1)!.path, '/v1/embeddings');
      assert.equal((sim.requests.at(-1)!.json as { model: string }).model, 'BAAI/bge-small-en-v1.5');
    } finally {
      await sim.close();
    }
  });
});
