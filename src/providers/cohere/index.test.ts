/**
 * A LiteLLM config's Cohere entries as Portico loads them: both prefixes, the key from
 * COHERE_API_KEY or CO_API_KEY, LiteLLM's `/v2/chat` base read as the API root, the catalogue's
 * prices (per search for rerank models), and batches on Portico's engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load-config.ts';
import type { CohereSettings } from './settings.ts';

test('cohere/ and cohere_chat/ entries load with the key from the environment, priced from the catalogue, batches emulated', () => {
  const config = parseConfig(
    `
model_list:
  - model_name: command-a
    litellm_params: { model: cohere/command-a-03-2025, api_base: "https://api.cohere.ai/v2/chat" }
  - model_name: command-r
    litellm_params: { model: cohere_chat/command-r-08-2024 }
  - model_name: embed
    litellm_params: { model: cohere/embed-english-v3.0 }
`,
    { COHERE_API_KEY: 'co-key' },
  );
  const [commandA, commandR, embed] = config.deployments;
  assert.deepEqual([commandA.providerName, commandR.providerName, embed.providerName], ['cohere', 'cohere_chat', 'cohere']);
  assert.equal(commandA.upstreamModel, 'command-a-03-2025');
  assert.deepEqual(commandA.settings, { apiKey: 'co-key', apiBase: 'https://api.cohere.ai', extraHeaders: {} });
  assert.equal(commandA.batchMode, 'emulate');
  // $2.50 / $10 per million tokens; no batch discount on live calls.
  assert.deepEqual(commandA.pricing, { inputCostPerToken: 2.5e-6, outputCostPerToken: 1e-5, inputCostPerTokenBatches: 2.5e-6, outputCostPerTokenBatches: 1e-5 });
  assert.equal(commandA.maxInputTokens, 256_000);
  assert.equal(commandR.pricing.inputCostPerToken, 1.5e-7);
  assert.equal(embed.pricing.inputCostPerToken, 1e-7);
});

test("a rerank model is priced per search, from the catalogue or from model_info's input_cost_per_query", () => {
  const config = parseConfig(
    `
model_list:
  - model_name: rerank-english-v3.0
    litellm_params: { model: cohere/rerank-english-v3.0, api_key: os.environ/COHERE_API_KEY }
  - model_name: rerank-pro
    litellm_params: { model: cohere/rerank-v4.0-pro }
  - model_name: rerank-custom
    litellm_params: { model: cohere/rerank-v3.5 }
    model_info: { input_cost_per_query: 0.001 }
`,
    { COHERE_API_KEY: 'co-key' },
  );
  const [english, pro, custom] = config.deployments;
  // $2.00 and $2.50 per 1,000 searches (https://cohere.com/pricing); nothing per token.
  assert.deepEqual(english.pricing, { inputCostPerQuery: 0.002 });
  assert.equal(english.maxInputTokens, 4_096);
  assert.deepEqual(pro.pricing, { inputCostPerQuery: 0.0025 });
  assert.deepEqual(custom.pricing, { inputCostPerQuery: 0.001 });
});

test("CO_API_KEY (Cohere's SDKs' variable) is read when COHERE_API_KEY is not set; COHERE_API_BASE is read as a root", () => {
  const settingsWith = (env: Record<string, string>) =>
    parseConfig('model_list:\n  - {model_name: c, litellm_params: {model: cohere/command-a-03-2025}}\n', env).deployments[0].settings as CohereSettings;
  assert.equal(settingsWith({ CO_API_KEY: 'co-sdk-key' }).apiKey, 'co-sdk-key');
  assert.equal(settingsWith({ CO_API_KEY: 'b', COHERE_API_KEY: 'a' }).apiKey, 'a');
  assert.equal(settingsWith({ COHERE_API_BASE: 'http://proxy.local/v1' }).apiBase, 'http://proxy.local');
});

test('batch_mode: native on a Cohere entry is a start-up error at its key', () => {
  assert.throws(
    () => parseConfig('model_list:\n  - {model_name: c, litellm_params: {model: cohere/command-a-03-2025, api_key: k, batch_mode: native}}\n', {}),
    /model_list\[0\]\.litellm_params\.batch_mode: Cohere has no OpenAI-style batch API; use batch_mode: emulate/,
  );
});
