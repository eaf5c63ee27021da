import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
import { startVoyageSimulator, VOYAGE_SIMULATOR_API_KEY } from '../../../test/simulators/voyage-simulator.ts';
import { parseConfig } from '../../config/load-config.ts';
import { encodeSseEvent, SSE_DONE } from '../http/sse.ts';
import { providerFor } from '../registry.ts';
import { chatStreamText, collectSseData, collectText, readableOf, withSettings } from '../testing/provider-test-helpers.ts';
import { chatStreamOf } from './legacy-completions.ts';
import { OPENAI_COMPATIBLE_PRESETS } from './presets.ts';

/** LiteLLM's defaults: prefix -> [api_base, key variable, base variable]. */
const HOSTED: ReadonlyArray<readonly [string, string, string, string]> = [
  ['openrouter', 'https://openrouter.ai/api/v1', 'OPENROUTER_API_KEY', 'OPENROUTER_API_BASE'],
  ['groq', 'https://api.groq.com/openai/v1', 'GROQ_API_KEY', 'GROQ_API_BASE'],
  ['mistral', 'https://api.mistral.ai/v1', 'MISTRAL_API_KEY', 'MISTRAL_API_BASE'],
  ['together_ai', 'https://api.together.xyz/v1', 'TOGETHER_API_KEY', 'TOGETHER_AI_API_BASE'],
  ['deepseek', 'https://api.deepseek.com/beta', 'DEEPSEEK_API_KEY', 'DEEPSEEK_API_BASE'],
  ['fireworks_ai', 'https://api.fireworks.ai/inference/v1', 'FIREWORKS_API_KEY', 'FIREWORKS_API_BASE'],
  ['xai', 'https://api.x.ai/v1', 'XAI_API_KEY', 'XAI_API_BASE'],
  ['perplexity', 'https://api.perplexity.ai', 'PERPLEXITYAI_API_KEY', 'PERPLEXITY_API_BASE'],
  ['cerebras', 'https://api.cerebras.ai/v1', 'CEREBRAS_API_KEY', 'CEREBRAS_API_BASE'],
  ['nvidia_nim', 'https://integrate.api.nvidia.com/v1', 'NVIDIA_NIM_API_KEY', 'NVIDIA_NIM_API_BASE'],
  ['deepinfra', 'https://api.deepinfra.com/v1/openai', 'DEEPINFRA_API_KEY', 'DEEPINFRA_API_BASE'],
  ['github', 'https://models.inference.ai.azure.com', 'GITHUB_API_KEY', 'GITHUB_API_BASE'],
];

function deploymentOf(model: string, env: Record<string, string> = {}, extra = '') {
  return parseConfig(`model_list:\n  - {model_name: g, litellm_params: {model: ${model}${extra}}}\n`, env).deployments[0];
}

describe('OpenAI-compatible presets', () => {
  for (const [prefix, apiBase, keyVariable, baseVariable] of HOSTED) {
    it(`${prefix}/ chats at LiteLLM's default base path (${apiBase}) with ${keyVariable}`, async () => {
      const path = new URL(apiBase).pathname.replace(/\/+$/, '');
      const sim = await startOpenAISimulator({ basePath: path });
      try {
        const provider = providerFor(prefix);
        assert.ok(provider, `${prefix} is a known prefix`);
        // The preset's own base when nothing overrides it...
        const client = provider.createClient(...withSettings(deploymentOf(`${prefix}/vendor/some-model`, { [keyVariable]: 'k' })));
        assert.equal(client.deployment.apiKey, 'k');
        // ...and the simulator standing in for the service at the same path, named by the base variable.
        const routed = provider.createClient(...withSettings(
          deploymentOf(`${prefix}/vendor/some-model`, { [keyVariable]: OPENAI_SIMULATOR_API_KEY, [baseVariable]: `${sim.origin}${path}` }),
        ));
        const answer = await routed.chatCompletions({ messages: [{ role: 'user', content: `hello ${prefix}` }] });
        assert.equal((answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, `hello ${prefix}`);
        const request = sim.requests.at(-1)!;
        assert.equal(request.path, `${path}/chat/completions`);
        assert.equal((request.json as { model: string }).model, 'vendor/some-model');
        assert.equal(request.headers.authorization, `Bearer ${OPENAI_SIMULATOR_API_KEY}`);
        const stream = await routed.chatCompletionsStream({ messages: [{ role: 'user', content: 'streamed' }] });
        assert.equal(chatStreamText(await collectSseData(stream.body)), 'streamed');
      } finally {
        await sim.close();
      }
    });
  }

  it('voyage/ against the Voyage simulator: embeddings with dimensions as output_dimension and OpenAI\'s usage; rerank in Cohere\'s words both ways', async () => {
    assert.equal(OPENAI_COMPATIBLE_PRESETS.voyage?.apiBase, 'https://api.voyageai.com/v1');
    const sim = await startVoyageSimulator();
    try {
      const voyage = providerFor('voyage')!.createClient(...withSettings(deploymentOf('voyage/voyage-3', { VOYAGE_API_KEY: VOYAGE_SIMULATOR_API_KEY, VOYAGE_API_BASE: sim.url })));
      const answer = await voyage.embeddings!({ input: ['a'], dimensions: 256 });
      assert.deepEqual(sim.requests.at(-1)!.json, { input: ['a'], output_dimension: 256, model: 'voyage-3' });
      const list = answer.body as { data: Array<{ embedding: number[] }>; usage: { prompt_tokens: number; total_tokens: number } };
      assert.equal(list.data[0]!.embedding.length, 256);
      assert.ok(list.usage.prompt_tokens > 0 && list.usage.prompt_tokens === list.usage.total_tokens);
      await voyage.embeddings!({ input: 'b', encoding_format: 'base64' });
      assert.deepEqual(sim.requests.at(-1)!.json, { input: 'b', encoding_format: 'base64', model: 'voyage-3' }, 'nothing to rename: sent as it is');

      const reranker = providerFor('voyage')!.createClient(...withSettings(deploymentOf('voyage/rerank-2', { VOYAGE_API_KEY: VOYAGE_SIMULATOR_API_KEY, VOYAGE_API_BASE: sim.url })));
      const ranked = await reranker.rerank!({ query: 'capital of France', documents: ['Berlin', { text: 'Paris is the capital of France' }], top_n: 1, return_documents: true });
      assert.deepEqual(sim.requests.at(-1)!.json, { query: 'capital of France', documents: ['Berlin', 'Paris is the capital of France'], model: 'rerank-2', top_k: 1, return_documents: true });
      const body = ranked.body as { results: Array<{ index: number; relevance_score: number; document: { text: string } }>; meta: { tokens: { input_tokens: number } } };
      assert.deepEqual(body.results.map((result) => [result.index, result.document.text]), [[1, 'Paris is the capital of France']]);
      assert.ok(body.meta.tokens.input_tokens > 0);
      assert.equal(ranked.billedQueries, 1);
    } finally {
      await sim.close();
    }
  });

  it('databricks/ and infinity/ take their base from the config or the environment', async () => {
    const sim = await startOpenAISimulator();
    try {
      for (const [prefix, variable] of [['databricks', 'DATABRICKS_API_BASE'], ['infinity', 'INFINITY_API_BASE']] as const) {
        const client = providerFor(prefix)!.createClient(...withSettings(deploymentOf(`${prefix}/my-endpoint`, { [variable]: sim.url, [`${prefix.toUpperCase()}_API_KEY`]: OPENAI_SIMULATOR_API_KEY })));
        await client.embeddings!({ input: 'c' });
        assert.equal(sim.requests.at(-1)!.path, '/v1/embeddings', prefix);
        assert.equal((sim.requests.at(-1)!.json as { model: string }).model, 'my-endpoint', prefix);
      }
    } finally {
      await sim.close();
    }
  });

  it("each hosted preset's default api_base is LiteLLM's, applied by the provider, not written into the config", () => {
    for (const [prefix, apiBase] of HOSTED) {
      assert.equal(OPENAI_COMPATIBLE_PRESETS[prefix]?.apiBase, apiBase, prefix);
      assert.equal(deploymentOf(`${prefix}/m`).apiBase, undefined, prefix);
    }
  });

  it('groq, together_ai and mistral run batches natively through the OpenAI file executor; the other hosted presets emulate', async () => {
    const native = new Set(['groq', 'together_ai', 'mistral']);
    for (const [prefix] of HOSTED) {
      assert.equal(deploymentOf(`${prefix}/m`).batchMode, native.has(prefix) ? 'native' : 'emulate', prefix);
    }
    assert.throws(() => deploymentOf('deepseek/m', {}, ', batch_mode: native'), /deepseek has no OpenAI-format batch API/);
    const sim = await startOpenAISimulator({ basePath: '/openai/v1' });
    try {
      const client = providerFor('groq')!.createClient(...withSettings(
        deploymentOf('groq/llama-3.1-8b-instant', { GROQ_API_KEY: OPENAI_SIMULATOR_API_KEY, GROQ_API_BASE: `${sim.origin}/openai/v1` }),
      ));
      assert.ok(client.files && client.batches?.kind === 'file');
      const line = JSON.stringify({ custom_id: 'a', method: 'POST', url: '/v1/chat/completions', body: { model: client.batchLineModel, messages: [{ role: 'user', content: 'hi' }] } });
      const input = await client.files.upload({ ...readableOf(`${line}\n`), filename: 'b.jsonl', purpose: 'batch' });
      assert.equal(sim.requests.at(-1)!.path, '/openai/v1/files');
      const created = await client.batches.create({ providerInputFileId: input.id, endpoint: '/v1/chat/completions', completionWindow: '24h' });
      assert.equal(sim.requests.at(-1)!.path, '/openai/v1/batches');
      for (let i = 0; i < 4; i++) await sim.advanceBatches();
      const done = await client.batches.retrieve(created.id);
      assert.equal(done.status, 'completed');
      const output = await collectText(await client.files.content(done.outputFileId!));
      assert.match(output, /"custom_id":"a"/);
    } finally {
      await sim.close();
    }
  });

  it('text-completion-openai sends chat to the legacy /v1/completions and answers a chat completion', async () => {
    const sim = await startOpenAISimulator();
    try {
      const client = providerFor('text-completion-openai')!.createClient(...withSettings(
        deploymentOf('text-completion-openai/gpt-3.5-turbo-instruct', { OPENAI_API_KEY: OPENAI_SIMULATOR_API_KEY, OPENAI_BASE_URL: sim.url }),
      ));
      const answer = await client.chatCompletions({ messages: [{ role: 'user', content: 'say this' }], max_completion_tokens: 50, stream: false });
      const request = sim.requests.at(-1)!;
      assert.equal(request.path, '/v1/completions');
      assert.deepEqual(request.json, { model: 'gpt-3.5-turbo-instruct', prompt: 'say this', max_tokens: 50 });
      const body = answer.body as { object: string; choices: Array<{ message: { role: string; content: string }; finish_reason: string }> };
      assert.equal(body.object, 'chat.completion');
      assert.deepEqual(body.choices[0].message, { role: 'assistant', content: 'say this' });
      assert.equal(body.choices[0].finish_reason, 'stop');
      assert.equal(client.batches, undefined);
    } finally {
      await sim.close();
    }
  });

  it("a legacy completions stream becomes chat.completion.chunk events", async () => {
    async function* upstream() {
      yield encodeSseEvent({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ text: 'Hel', index: 0, finish_reason: null }] });
      yield encodeSseEvent({ id: 'cmpl-1', object: 'text_completion', created: 1, model: 'm', choices: [{ text: 'lo', index: 0, finish_reason: 'stop' }] });
      yield SSE_DONE;
    }
    const events = await collectSseData(chatStreamOf(upstream()));
    assert.equal(events.at(-1), '[DONE]');
    assert.equal((events[0] as { object: string }).object, 'chat.completion.chunk');
    assert.equal(chatStreamText(events), 'Hello');
  });
});

/**
 * The further services LiteLLM serves through its OpenAI-like configs: prefix -> [LiteLLM's
 * default api_base, its key variable, its base variable (none for most of providers.json's rows)].
 */
const FURTHER_HOSTED: ReadonlyArray<readonly [string, string, string, string | undefined]> = [
  ['sambanova', 'https://api.sambanova.ai/v1', 'SAMBANOVA_API_KEY', 'SAMBANOVA_API_BASE'],
  ['meta_llama', 'https://api.llama.com/compat/v1', 'LLAMA_API_KEY', 'LLAMA_API_BASE'],
  ['ai21_chat', 'https://api.ai21.com/studio/v1', 'AI21_API_KEY', 'AI21_API_BASE'],
  ['volcengine', 'https://ark.cn-beijing.volces.com/api/v3', 'VOLCENGINE_API_KEY', 'VOLCENGINE_API_BASE'],
  ['codestral', 'https://codestral.mistral.ai/v1', 'CODESTRAL_API_KEY', 'CODESTRAL_API_BASE'],
  ['friendliai', 'https://api.friendli.ai/serverless/v1', 'FRIENDLIAI_API_KEY', 'FRIENDLI_API_BASE'],
  ['galadriel', 'https://api.galadriel.com/v1', 'GALADRIEL_API_KEY', 'GALADRIEL_API_BASE'],
  ['nscale', 'https://inference.api.nscale.com/v1', 'NSCALE_API_KEY', 'NSCALE_API_BASE'],
  ['dashscope', 'https://dashscope-intl.aliyuncs.com/compatible-mode/v1', 'DASHSCOPE_API_KEY', 'DASHSCOPE_API_BASE'],
  ['moonshot', 'https://api.moonshot.ai/v1', 'MOONSHOT_API_KEY', 'MOONSHOT_API_BASE'],
  ['zai', 'https://api.z.ai/api/paas/v4', 'ZAI_API_KEY', 'ZAI_API_BASE'],
  ['hyperbolic', 'https://api.hyperbolic.xyz/v1', 'HYPERBOLIC_API_KEY', 'HYPERBOLIC_API_BASE'],
  ['novita', 'https://api.novita.ai/v3/openai', 'NOVITA_API_KEY', 'NOVITA_API_BASE'],
  ['nebius', 'https://api.studio.nebius.ai/v1', 'NEBIUS_API_KEY', 'NEBIUS_API_BASE'],
  ['featherless_ai', 'https://api.featherless.ai/v1', 'FEATHERLESS_API_KEY', 'FEATHERLESS_API_BASE'],
  ['lambda_ai', 'https://api.lambda.ai/v1', 'LAMBDA_API_KEY', 'LAMBDA_API_BASE'],
  ['empower', 'https://app.empower.dev/api/v1', 'EMPOWER_API_KEY', 'EMPOWER_API_BASE'],
  ['wandb', 'https://api.inference.wandb.ai/v1', 'WANDB_API_KEY', 'WANDB_API_BASE'],
  ['vercel_ai_gateway', 'https://ai-gateway.vercel.sh/v1', 'VERCEL_AI_GATEWAY_API_KEY', 'VERCEL_AI_GATEWAY_API_BASE'],
  ['ovhcloud', 'https://oai.endpoints.kepler.ai.cloud.ovh.net/v1', 'OVHCLOUD_API_KEY', 'OVHCLOUD_API_BASE'],
  ['compactifai', 'https://api.compactif.ai/v1', 'COMPACTIFAI_API_KEY', undefined],
  ['minimax', 'https://api.minimax.io/v1', 'MINIMAX_API_KEY', 'MINIMAX_API_BASE'],
  ['modelscope', 'https://api-inference.modelscope.cn/v1', 'MODELSCOPE_API_KEY', 'MODELSCOPE_API_BASE'],
  ['inception', 'https://api.inceptionlabs.ai/v1', 'INCEPTION_API_KEY', 'INCEPTION_API_BASE'],
  ['aiml', 'https://api.aimlapi.com/v1', 'AIML_API_KEY', 'AIML_API_BASE'],
  ['cometapi', 'https://api.cometapi.com/v1', 'COMETAPI_KEY', 'COMETAPI_BASE_URL'],
  ['parasail', 'https://api.parasail.io/v1', 'PARASAIL_API_KEY', 'PARASAIL_API_BASE'],
  ['xiaomi_mimo', 'https://api.xiaomimimo.com/v1', 'XIAOMI_MIMO_API_KEY', 'XIAOMI_MIMO_API_BASE'],
  ['baseten', 'https://inference.baseten.co/v1', 'BASETEN_API_KEY', 'BASETEN_API_BASE'],
  ['v0', 'https://api.v0.dev/v1', 'V0_API_KEY', 'V0_API_BASE'],
  ['tencent', 'https://tokenhub-intl.tencentcloudmaas.com/v1', 'TENCENT_API_KEY', 'TENCENT_API_BASE'],
  ['amazon_nova', 'https://api.nova.amazon.com/v1', 'AMAZON_NOVA_API_KEY', 'AMAZON_NOVA_API_BASE'],
  ['siliconflow', 'https://api.siliconflow.com/v1', 'SILICONFLOW_API_KEY', 'SILICONFLOW_API_BASE'],
  ['jina_ai', 'https://api.jina.ai/v1', 'JINA_AI_API_KEY', 'JINA_AI_API_BASE'],
  ['publicai', 'https://api.publicai.co/v1', 'PUBLICAI_API_KEY', 'PUBLICAI_API_BASE'],
  ['helicone', 'https://ai-gateway.helicone.ai', 'HELICONE_API_KEY', undefined],
  ['veniceai', 'https://api.venice.ai/api/v1', 'VENICE_AI_API_KEY', undefined],
  ['scaleway', 'https://api.scaleway.ai/v1', 'SCW_SECRET_KEY', undefined],
  ['synthetic', 'https://api.synthetic.new/openai/v1', 'SYNTHETIC_API_KEY', undefined],
  ['apertis', 'https://api.stima.tech/v1', 'STIMA_API_KEY', undefined],
  ['nano-gpt', 'https://nano-gpt.com/api/v1', 'NANOGPT_API_KEY', undefined],
  ['poe', 'https://api.poe.com/v1', 'POE_API_KEY', undefined],
  ['chutes', 'https://llm.chutes.ai/v1', 'CHUTES_API_KEY', undefined],
  ['abliteration', 'https://api.abliteration.ai/v1', 'ABLITERATION_API_KEY', undefined],
  ['llamagate', 'https://api.llamagate.dev/v1', 'LLAMAGATE_API_KEY', undefined],
  ['gmi', 'https://api.gmi-serving.com/v1', 'GMI_API_KEY', undefined],
  ['charity_engine', 'https://api.charityengine.services/remotejobs/v2/inference', 'CHARITY_ENGINE_API_KEY', undefined],
  ['aihubmix', 'https://aihubmix.com/v1', 'AIHUBMIX_API_KEY', 'AIHUBMIX_API_BASE'],
];

/** The body the simulator last received. */
const lastJson = (sim: { requests: Array<{ json?: unknown }> }) => sim.requests.at(-1)!.json as Record<string, unknown>;

describe('OpenAI-compatible presets: the further services LiteLLM names', () => {
  it("each one's default api_base and key variable are LiteLLM's, and it chats (plain and streamed) at its base path with Bearer auth", async () => {
    for (const [prefix, apiBase, keyVariable, baseVariable] of FURTHER_HOSTED) {
      assert.equal(OPENAI_COMPATIBLE_PRESETS[prefix]?.apiBase, apiBase, prefix);
      assert.equal(OPENAI_COMPATIBLE_PRESETS[prefix]?.apiKeyVariables[0], keyVariable, prefix);
      assert.equal(OPENAI_COMPATIBLE_PRESETS[prefix]?.apiBaseVariables[0], baseVariable, prefix);
      assert.equal(deploymentOf(`${prefix}/m`).batchMode, 'emulate', prefix);
      const path = new URL(apiBase).pathname.replace(/\/+$/, '');
      const sim = await startOpenAISimulator({ basePath: path === '' ? '/' : path });
      try {
        const env = { [keyVariable]: OPENAI_SIMULATOR_API_KEY, ...(baseVariable !== undefined && { [baseVariable]: `${sim.origin}${path}` }) };
        const extra = baseVariable === undefined ? `, api_base: "${sim.origin}${path}"` : '';
        const client = providerFor(prefix)!.createClient(...withSettings(deploymentOf(`${prefix}/vendor/model-1`, env, extra)));
        const answer = await client.chatCompletions({ messages: [{ role: 'user', content: `hello ${prefix}` }] });
        assert.equal((answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content, `hello ${prefix}`, prefix);
        assert.equal(sim.requests.at(-1)!.path, `${path}/chat/completions`, prefix);
        assert.equal(lastJson(sim).model, 'vendor/model-1', prefix);
        assert.equal(sim.requests.at(-1)!.headers.authorization, `Bearer ${OPENAI_SIMULATOR_API_KEY}`, prefix);
        const stream = await client.chatCompletionsStream({ messages: [{ role: 'user', content: 'streamed' }] });
        assert.equal(chatStreamText(await collectSseData(stream.body)), 'streamed', prefix);
      } finally {
        await sim.close();
      }
    }
  });

  it('services that take only max_tokens get max_completion_tokens as max_tokens (plain, streamed); the others get it as sent', async () => {
    const sim = await startOpenAISimulator();
    try {
      const clientOf = (prefix: string) => providerFor(prefix)!.createClient(...withSettings(deploymentOf(`${prefix}/m`, {}, `, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}`)));
      const sambanova = clientOf('sambanova');
      await sambanova.chatCompletions({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 50 });
      assert.equal(lastJson(sim).max_tokens, 50);
      assert.equal('max_completion_tokens' in lastJson(sim), false);
      const stream = await sambanova.chatCompletionsStream({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 20, stream: true });
      await collectSseData(stream.body);
      assert.equal(lastJson(sim).max_tokens, 20);
      await sambanova.chatCompletions({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 50, max_tokens: 30 });
      assert.equal(lastJson(sim).max_tokens, 30, 'max_tokens, when also sent, wins');
      assert.equal('max_completion_tokens' in lastJson(sim), false);
      await clientOf('meta_llama').chatCompletions({ messages: [{ role: 'user', content: 'x' }], max_completion_tokens: 50 });
      assert.equal(lastJson(sim).max_completion_tokens, 50);
      assert.equal('max_tokens' in lastJson(sim), false);
    } finally {
      await sim.close();
    }
  });

  it('services that take text content as a string get a text-only content list joined; a list with an image is left as it is', async () => {
    const sim = await startOpenAISimulator();
    try {
      const dashscope = providerFor('dashscope')!.createClient(...withSettings(deploymentOf('dashscope/qwen-max', {}, `, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}`)));
      const image = [{ type: 'text', text: 'what is it?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }];
      await dashscope.chatCompletions({
        messages: [
          { role: 'system', content: [{ type: 'text', text: 'Be ' }, { type: 'text', text: 'brief.' }] },
          { role: 'user', content: image },
          { role: 'user', content: 'plain' },
        ],
      });
      assert.deepEqual((lastJson(sim).messages as Array<{ content: unknown }>).map((message) => message.content), ['Be brief.', image, 'plain']);
    } finally {
      await sim.close();
    }
  });

  it('litellm_proxy/ and jina_ai/ pass rerank to {api_base}/rerank; heroku/ serves under /v1 of its host; the self-hosted ones default to their local ports', async () => {
    const sim = await startOpenAISimulator();
    try {
      for (const prefix of ['litellm_proxy', 'jina_ai']) {
        const client = providerFor(prefix)!.createClient(...withSettings(deploymentOf(`${prefix}/rerank-model`, {}, `, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}`)));
        assert.equal(typeof client.rerank, 'function', prefix);
      }
      const heroku = providerFor('heroku')!.createClient(...withSettings(deploymentOf('heroku/claude-4-sonnet', { HEROKU_API_KEY: OPENAI_SIMULATOR_API_KEY, HEROKU_API_BASE: sim.origin })));
      await heroku.chatCompletions({ messages: [{ role: 'user', content: 'x' }] });
      assert.equal(sim.requests.at(-1)!.path, '/v1/chat/completions');
      assert.throws(() => deploymentOf('litellm_proxy/m'), /litellm_proxy deployments need api_base/);
      assert.equal(OPENAI_COMPATIBLE_PRESETS.docker_model_runner?.apiBase, 'http://localhost:12434/engines/v1');
      assert.equal(OPENAI_COMPATIBLE_PRESETS.lemonade?.apiBase, 'http://localhost:8000/api/v1');
      assert.equal(OPENAI_COMPATIBLE_PRESETS.xinference?.apiBase, 'http://127.0.0.1:9997/v1');
    } finally {
      await sim.close();
    }
  });
});
