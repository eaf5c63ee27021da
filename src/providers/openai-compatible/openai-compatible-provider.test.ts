import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
import { startSimulatorServer, type SimulatorServer } from '../../../test/simulators/common/simulator-server.ts';
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

  it('a hosted_vllm deployment reranks at {api_base}/rerank: the body passed with the upstream model, the answer as the server gave it, billed as one search', async () => {
    // vLLM's rerank answer (`POST /rerank`, `/v1/rerank`): Cohere's results, `usage` instead of `meta`.
    const vllm: SimulatorServer = await startSimulatorServer({
      routes: [
        {
          method: 'POST',
          path: /^\/v1\/rerank$/,
          handle: (req) => ({
            status: 200,
            json: { id: 'rerank-1', model: (req.json as { model: string }).model, usage: { total_tokens: 12 }, results: [{ index: 1, document: { text: 'b' }, relevance_score: 0.9 }, { index: 0, document: { text: 'a' }, relevance_score: 0.1 }] },
          }),
        },
      ],
      notFound: () => ({ status: 404, json: { detail: 'Not Found' } }),
      authenticate: () => null,
      failureBody: (status) => ({ object: 'error', message: `failed ${status}`, code: status }),
      responseHeaders: () => ({}),
    });
    try {
      const client = providerFor('hosted_vllm')!.createClient(...withSettings(deploymentFrom(`{model: hosted_vllm/BAAI/bge-reranker-v2-m3, api_base: "${vllm.origin}/v1"}`)));
      const answer = await client.rerank!({ model: 'reranker', query: 'q', documents: ['a', 'b'], top_n: 2, return_documents: true });
      assert.equal(answer.status, 200);
      assert.equal(answer.billedQueries, 1);
      assert.deepEqual((answer.body as { results: unknown[] }).results, [{ index: 1, document: { text: 'b' }, relevance_score: 0.9 }, { index: 0, document: { text: 'a' }, relevance_score: 0.1 }]);
      const request = vllm.requests.at(-1)!;
      assert.equal(request.path, '/v1/rerank');
      assert.deepEqual(request.json, { model: 'BAAI/bge-reranker-v2-m3', query: 'q', documents: ['a', 'b'], top_n: 2, return_documents: true });
    } finally {
      await vllm.close();
    }
  });

  it('only the self-hosted presets rerank: a hosted service or Ollama has no rerank', () => {
    const rerankOf = (model: string) => providerFor(model.split('/')[0])!.createClient(...withSettings(deploymentFrom(`{model: ${model}, api_base: "http://127.0.0.1:9/v1"}`))).rerank;
    for (const model of ['hosted_vllm/m', 'openai_compatible/m', 'openai_like/m', 'custom_openai/m']) assert.equal(typeof rerankOf(model), 'function', model);
    for (const model of ['groq/m', 'ollama/m', 'openrouter/m', 'text-completion-openai/m', 'openai/m']) assert.equal(rerankOf(model), undefined, model);
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
