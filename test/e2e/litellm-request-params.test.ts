/**
 * LiteLLM's per-deployment request settings: `drop_params` (global and per deployment),
 * `additional_drop_params`, and request defaults (`temperature`, `max_tokens`, `seed`,
 * `extra_headers`, `stream_timeout`): applied per deployment, drops visible to the client
 * (`x-portico-dropped-params`) and in the log.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const HEADER = 'x-portico-dropped-params';

describe('drop_params, additional_drop_params and request defaults', () => {
  let openai: OpenAISimulator;
  let groq: OpenAISimulator;
  let anthropic: AnthropicSimulator;
  let portico: PorticoUnderTest;
  let strict: PorticoUnderTest;
  before(async () => {
    openai = await startOpenAISimulator();
    groq = await startOpenAISimulator({ basePath: '/openai/v1' });
    anthropic = await startAnthropicSimulator();
    const models = `
model_list:
  - model_name: fast
    litellm_params: {model: groq/llama-3.1-8b-instant, api_base: "${groq.origin}/openai/v1", api_key: ${OPENAI_SIMULATOR_API_KEY}}
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}
  - model_name: vllm
    litellm_params: {model: hosted_vllm/m, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}, additional_drop_params: [logit_bias, user]}
  - model_name: tuned
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: "${openai.url}"
      api_key: ${OPENAI_SIMULATOR_API_KEY}
      temperature: 0.2
      max_tokens: 7
      seed: 3
      extra_headers: {x-team: blue}
      drop_params: false
`;
    portico = await startPortico(`${models}litellm_settings:\n  drop_params: true\n`);
    strict = await startPortico(models);
  });
  after(async () => {
    await portico.close();
    await strict.close();
    await openai.close();
    await groq.close();
    await anthropic.close();
  });

  const chat = (target: PorticoUnderTest, body: Record<string, unknown>) =>
    target.fetch('/v1/chat/completions', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it("litellm_settings.drop_params drops what the provider cannot take, says so in a header and the log", async () => {
    const answer = await chat(portico, { model: 'fast', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '50256': -100 }, temperature: 0.5 });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get(HEADER), 'logit_bias');
    const sent = groq.requests.at(-1)!.json as Record<string, unknown>;
    assert.equal('logit_bias' in sent, false);
    assert.equal(sent.temperature, 0.5);
    assert.ok(portico.logs.some((line) => Array.isArray(line.dropped_params) && (line.dropped_params as string[]).includes('logit_bias')));
    // Streamed too.
    const streamed = await chat(portico, { model: 'fast', stream: true, messages: [{ role: 'user', content: 'hi' }], top_logprobs: 2, logprobs: true });
    assert.equal(streamed.status, 200);
    assert.equal(streamed.headers.get(HEADER), 'logprobs, top_logprobs');
    await streamed.text();
  });

  it('a parameter Anthropic cannot honour (n > 1) is dropped instead of failing the request', async () => {
    const refused = await chat(strict, { model: 'claude', n: 2, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(refused.status, 400);
    const answer = await chat(portico, { model: 'claude', n: 2, messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get(HEADER), 'n');
  });

  it('without drop_params nothing is dropped; a request may ask for it itself (drop_params: true), which never goes upstream', async () => {
    const kept = await chat(strict, { model: 'fast', messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 1 } });
    assert.equal(kept.headers.get(HEADER), null);
    assert.ok('logit_bias' in (groq.requests.at(-1)!.json as object));
    const asked = await chat(strict, { model: 'fast', drop_params: true, messages: [{ role: 'user', content: 'hi' }], logit_bias: { '1': 1 } });
    assert.equal(asked.headers.get(HEADER), 'logit_bias');
    const sent = groq.requests.at(-1)!.json as Record<string, unknown>;
    assert.equal('logit_bias' in sent, false);
    assert.equal('drop_params' in sent, false);
  });

  it('additional_drop_params always drops the named parameters', async () => {
    const answer = await chat(strict, { model: 'vllm', user: 'u-1', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.get(HEADER), 'user');
    assert.equal('user' in (openai.requests.at(-1)!.json as object), false);
  });

  it("a deployment's temperature, max_tokens, seed and extra_headers apply; what the request sets wins", async () => {
    await chat(portico, { model: 'tuned', messages: [{ role: 'user', content: 'hi' }] });
    let sent = openai.requests.at(-1)!;
    assert.deepEqual(
      { temperature: (sent.json as Record<string, unknown>).temperature, max_tokens: (sent.json as Record<string, unknown>).max_tokens, seed: (sent.json as Record<string, unknown>).seed },
      { temperature: 0.2, max_tokens: 7, seed: 3 },
    );
    assert.equal(sent.headers['x-team'], 'blue');
    const answer = await chat(portico, { model: 'tuned', temperature: 0.9, max_completion_tokens: 20, logit_bias: { '1': 1 }, messages: [{ role: 'user', content: 'hi' }] });
    // drop_params: false on the deployment wins over litellm_settings' true.
    assert.equal(answer.headers.get(HEADER), null);
    sent = openai.requests.at(-1)!;
    const json = sent.json as Record<string, unknown>;
    assert.equal(json.temperature, 0.9);
    assert.equal(json.max_completion_tokens, 20);
    assert.equal('max_tokens' in json, false, 'a default max_tokens is not added beside the request max_completion_tokens');
    assert.equal(json.seed, 3);
  });
});
