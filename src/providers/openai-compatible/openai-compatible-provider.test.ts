import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
import { parseConfig } from '../../config/load-config.ts';
import { ConfigError, UpstreamError } from '../../spec/errors.ts';
import { deploymentFrom, withSettings } from '../testing/provider-test-helpers.ts';
import { providerFor } from '../registry.ts';

describe('OpenAI-compatible servers', () => {
  let sim: OpenAISimulator;
  before(async () => {
    // The OpenAI simulator stands in for a vLLM server: same wire format.
    sim = await startOpenAISimulator();
  });
  after(async () => {
    await sim.close();
  });

  it('a hosted_vllm deployment chats through the OpenAI wire format, with the model after the prefix', async () => {
    const client = providerFor('hosted_vllm')!.createClient(...withSettings(
      deploymentFrom(`{model: hosted_vllm/meta-llama/Llama-3-8B, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}`),
    ));
    const answer = await client.chatCompletions({ messages: [{ role: 'user', content: 'hello vllm' }] });
    assert.equal((answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, 'hello vllm');
    const request = sim.requests.at(-1)!;
    assert.equal(request.path, '/v1/chat/completions');
    assert.equal((request.json as { model: string }).model, 'meta-llama/Llama-3-8B');
    assert.equal(client.files, undefined, 'no files capability');
    assert.equal(client.batches, undefined, 'no native batches');
    assert.equal(client.deployment.batchMode, 'emulate');
  });

  it('sends no Authorization header when no key is configured', async () => {
    const client = providerFor('hosted_vllm')!.createClient(...withSettings(deploymentFrom(`{model: hosted_vllm/m, api_base: "${sim.url}"}`)));
    await assert.rejects(client.chatCompletions({ messages: [] }), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 401);
    assert.equal(sim.requests.at(-1)!.headers.authorization, undefined);
  });

  it('an ollama api_base at the server root gains /v1 (Ollama serves the OpenAI API there)', async () => {
    const client = providerFor('ollama')!.createClient(...withSettings(deploymentFrom(`{model: ollama/llama3, api_base: "${sim.origin}", api_key: ${OPENAI_SIMULATOR_API_KEY}}`)));
    await client.chatCompletions({ messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(sim.requests.at(-1)!.path, '/v1/chat/completions');
  });

  it('a server without a default api_base must name one, and batch_mode native is refused', () => {
    assert.throws(
      () => parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: hosted_vllm/m, batch_mode: native}}\n', {}),
      (error: unknown) =>
        error instanceof ConfigError &&
        /model_list\[0\]\.litellm_params\.api_base: hosted_vllm deployments need api_base/.test(error.message) &&
        /model_list\[0\]\.litellm_params\.batch_mode: hosted_vllm has no OpenAI-format batch API/.test(error.message),
    );
    const ollama = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: ollama/llama3}}\n', {});
    assert.equal(ollama.deployments[0].apiBase, undefined, 'the default base is applied by the provider, not written into the config');
  });
});
