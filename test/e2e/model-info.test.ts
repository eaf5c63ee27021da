/**
 * LiteLLM's `/model/info` tells clients what a model can take: coding agents pointed at a LiteLLM
 * proxy (OpenHands' `litellm_proxy/`, Roo Code, Cline) read its context window and `supports_*`
 * flags there. Portico answers the catalogue's, overridden by the entry's own `model_info`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

describe('/model/info: what each model can take', () => {
  let portico: PorticoUnderTest;
  before(async () => {
    portico = await startPortico(`
model_list:
  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_key: sk-x, api_base: "http://127.0.0.1:9/v1", rpm: 100}}
  - {model_name: gpt-4o, litellm_params: {model: azure/gpt-4o-eu, api_key: sk-z, api_base: "https://eu.example.test", api_version: "2025-03-01-preview", rpm: 50}, model_info: {base_model: gpt-4o}}
  - model_name: local-vision
    litellm_params: {model: hosted_vllm/qwen-vl, api_base: "http://127.0.0.1:9/v1"}
    model_info: {supports_vision: true, supports_function_calling: true, max_input_tokens: 32768, max_tokens: 4096, description: "Qwen VL on our GPUs"}
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_key: sk-y}, model_info: {max_output_tokens: 8192}}
general_settings:
  master_key: sk-model-info-master-0123
`);
  });
  after(() => portico.close());

  it("answers the catalogue's context window and supports_* flags, the entry's own model_info winning", async () => {
    const info = (await (await portico.fetch('/v1/model/info')).json()) as { data: Array<{ model_name: string; model_info: Record<string, unknown> }> };
    const of = (name: string) => info.data.find((entry) => entry.model_name === name)!.model_info;
    const gpt = of('gpt-4o');
    assert.deepEqual(
      [gpt.max_input_tokens, gpt.max_output_tokens, gpt.max_tokens, gpt.mode, gpt.supports_vision, gpt.supports_function_calling, gpt.supports_pdf_input, gpt.supports_reasoning],
      [128_000, 16_384, 16_384, 'chat', true, true, true, undefined],
    );
    assert.equal(gpt.input_cost_per_token, 2.5e-6, 'prices as before');
    const local = of('local-vision');
    assert.deepEqual(
      [local.supports_vision, local.supports_function_calling, local.max_input_tokens, local.max_tokens, local.description, local.litellm_provider],
      [true, true, 32_768, 4096, 'Qwen VL on our GPUs', 'hosted_vllm'],
    );
    const claude = of('claude');
    assert.deepEqual([claude.max_input_tokens, claude.max_output_tokens, claude.supports_reasoning], [200_000, 8192, true], "the entry's max_output_tokens over the catalogue's");
    assert.equal(typeof claude.id, 'string', 'the id is still the deployment id');
  });

  it("/model_group/info sums each group up over its deployments, as LiteLLM's does, for the groups a key may use", async () => {
    type GroupInfo = { data: Array<Record<string, unknown>> };
    const all = (await (await portico.fetch('/model_group/info')).json()) as GroupInfo;
    assert.deepEqual(all.data.map((group) => group.model_group), ['gpt-4o', 'local-vision', 'claude']);
    const gpt = all.data[0];
    assert.deepEqual(
      [gpt.providers, gpt.max_input_tokens, gpt.max_output_tokens, gpt.input_cost_per_token, gpt.mode, gpt.rpm, gpt.tpm, gpt.supports_vision, gpt.supports_function_calling],
      [['openai', 'azure'], 128_000, 16_384, 2.5e-6, 'chat', 150, null, true, true],
    );
    const one = (await (await portico.fetch('/v1/model_group/info?model_group=claude')).json()) as GroupInfo;
    assert.deepEqual(one.data.map((group) => [group.model_group, group.max_output_tokens, group.supports_reasoning]), [['claude', 8192, true]]);
    const { key } = await portico.generateKey({ models: ['local-vision'] });
    const seen = (await (await portico.fetch('/model_group/info', { apiKey: key })).json()) as GroupInfo;
    assert.deepEqual(seen.data.map((group) => [group.model_group, group.supports_vision, group.max_input_tokens]), [['local-vision', true, 32_768]]);
  });
});
