import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator } from '../../../test/simulators/openai-simulator.ts';
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
