/**
 * LiteLLM's `router_settings.enable_pre_call_checks`: a request goes only to the deployments of
 * its group whose context window (`model_info.max_input_tokens`, else the model catalogue's) holds
 * its prompt, while any does; when none does, to any of them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

describe('enable_pre_call_checks', () => {
  let small: OpenAISimulator;
  let large: OpenAISimulator;
  let checked: PorticoUnderTest;
  let unchecked: PorticoUnderTest;
  before(async () => {
    small = await startOpenAISimulator();
    large = await startOpenAISimulator();
    const models = `
model_list:
  - model_name: chat
    litellm_params: {model: openai/small-model, api_base: "${small.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
    model_info: {max_input_tokens: 50}
  - model_name: chat
    litellm_params: {model: openai/large-model, api_base: "${large.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
    model_info: {max_input_tokens: 100000}
  - model_name: tiny
    litellm_params: {model: openai/small-model, api_base: "${small.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
    model_info: {max_input_tokens: 5}
  - model_name: tiny
    litellm_params: {model: openai/small-model-2, api_base: "${large.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}
    model_info: {max_input_tokens: 5}
`;
    checked = await startPortico(`${models}router_settings: {enable_pre_call_checks: true}\n`);
    unchecked = await startPortico(models);
  });
  after(async () => {
    await checked.close();
    await unchecked.close();
    await small.close();
    await large.close();
  });

  const calls = (sim: OpenAISimulator) => sim.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
  const ask = (target: PorticoUnderTest, model: string, content: string) => target.client().chat.completions.create({ model, messages: [{ role: 'user', content }] });

  it('a prompt too long for one deployment goes to the other; a short one to either', async () => {
    const long = 'word '.repeat(200); // about 250 tokens at 4 characters a token
    const [smallBefore, largeBefore] = [calls(small), calls(large)];
    for (let i = 0; i < 12; i++) await ask(checked, 'chat', long);
    assert.equal(calls(small), smallBefore, 'none to the deployment whose window is 50 tokens');
    assert.equal(calls(large), largeBefore + 12);
    for (let i = 0; i < 24; i++) await ask(checked, 'chat', `short ${i}`);
    assert.ok(calls(small) > smallBefore && calls(large) > largeBefore + 12, 'short prompts spread over both');
  });

  it('without the setting, the window is not looked at; when no deployment fits, any is tried', async () => {
    const long = 'word '.repeat(200);
    const smallBefore = calls(small);
    for (let i = 0; i < 24; i++) await ask(unchecked, 'chat', long);
    assert.ok(calls(small) > smallBefore, 'the small deployment gets long prompts too');
    const [a, b] = [calls(small), calls(large)];
    await ask(checked, 'tiny', long);
    assert.equal(calls(small) + calls(large), a + b + 1, 'sent to a deployment of the group all the same');
  });

  it("a deployment's window is its model_info's, else the catalogue's", () => {
    const config = parseConfig('model_list:\n  - {model_name: a, litellm_params: {model: openai/gpt-4o-mini, api_key: k}}\n  - {model_name: b, litellm_params: {model: openai/gpt-4o-mini, api_key: k}, model_info: {max_input_tokens: 1000}}\n  - {model_name: c, litellm_params: {model: hosted_vllm/own, api_base: "http://127.0.0.1:9/v1"}}\n', {});
    assert.deepEqual(config.deployments.map((d) => d.maxInputTokens), [128_000, 1000, undefined]);
    assert.equal(config.router.preCallChecks, false);
  });
});
