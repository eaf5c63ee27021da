/**
 * LiteLLM's per-request controls through the `openai` SDK (`extra_body` fields, as LiteLLM's
 * docs send them; `spec/request-controls.ts`): client-side `fallbacks` (within the key's models),
 * `num_retries`, `timeout`, and `mock_response`, answered by the gateway. None of LiteLLM's request
 * parameters reaches the provider (here the OpenAI simulator, which records every body).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';

describe("LiteLLM's request controls", () => {
  let openai: OpenAISimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    openai = await startOpenAISimulator();
    portico = await startPortico(`
model_list:
  - {model_name: primary, litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
  - {model_name: backup, litellm_params: {model: mock/backup, mock_response: from backup}}
router_settings:
  num_retries: 0
general_settings:
  master_key: sk-request-controls-master-0123456789
`);
  });
  after(async () => {
    await portico.close();
    await openai.close();
  });
  beforeEach(() => {
    openai.requests.length = 0;
    openai.setLatency(0);
  });

  const chat = (client: OpenAI, extra: Record<string, unknown> = {}) =>
    client.chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hello' }], ...extra } as never) as Promise<OpenAI.ChatCompletion>;

  it('fallbacks in the request are tried once its group failed, only those the key may use', async () => {
    openai.failNext({ status: 500, count: 1 });
    assert.equal((await chat(portico.client(), { fallbacks: ['backup'] })).choices[0].message.content, 'from backup');
    openai.failNext({ status: 500, count: 1 });
    await assert.rejects(chat(portico.client()), (error: unknown) => error instanceof OpenAI.InternalServerError, 'no configured fallbacks: the failure');
    const primaryOnly = portico.client((await portico.generateKey({ models: ['primary'] })).key);
    openai.failNext({ status: 500, count: 1 });
    await assert.rejects(chat(primaryOnly, { fallbacks: ['backup'] }), (error: unknown) => error instanceof OpenAI.InternalServerError, "never a group outside the key's models");
    openai.failNext({ status: 500, count: 1 });
    const objectForm = await chat(portico.client(), { fallbacks: [{ model: 'backup', messages: [] }] });
    assert.equal(objectForm.choices[0].message.content, 'from backup');
  });

  it('num_retries retries the group in place of the configured retries', async () => {
    openai.failNext({ status: 500, count: 2 });
    assert.equal((await chat(portico.client(), { num_retries: 2 })).choices[0].message.content, 'hello');
    assert.equal(openai.requests.length, 3);
  });

  it('timeout (seconds) bounds each attempt', async () => {
    openai.setLatency(600);
    const started = Date.now();
    await assert.rejects(chat(portico.client(undefined, { maxRetries: 0 }), { timeout: 0.15 }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 504);
    assert.ok(Date.now() - started < 550, `cut at the request's timeout, not the upstream's answer (${Date.now() - started} ms)`);
    assert.equal((await chat(portico.client(), { request_timeout: 5 })).choices[0].message.content, 'hello');
  });

  it("LiteLLM's request headers say the same and outrank the body: x-litellm-num-retries, x-litellm-timeout, x-litellm-stream-timeout", async () => {
    const client = portico.client(undefined, { maxRetries: 0 });
    openai.failNext({ status: 500, count: 2 });
    const retried = await client.chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'hello' }], num_retries: 0 } as never, { headers: { 'x-litellm-num-retries': '2' } });
    assert.equal((retried as OpenAI.ChatCompletion).choices[0].message.content, 'hello');
    assert.equal(openai.requests.length, 3);
    openai.setLatency(600);
    try {
      const started = Date.now();
      await assert.rejects(client.chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-litellm-timeout': '0.15' } }), (error: unknown) => error instanceof OpenAI.APIError && error.status === 504);
      await assert.rejects(
        client.chat.completions.create({ model: 'primary', stream: true, messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-litellm-timeout': '30', 'x-litellm-stream-timeout': '0.15' } }),
        (error: unknown) => error instanceof OpenAI.APIError && error.status === 504,
      );
      assert.ok(Date.now() - started < 1_100, `both cut at the header's timeout (${Date.now() - started} ms)`);
    } finally {
      openai.setLatency(0);
    }
    const refused = await client.chat.completions.create({ model: 'primary', messages: [{ role: 'user', content: 'x' }] }, { headers: { 'x-litellm-num-retries': 'many' } }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError);
    assert.equal((refused.error as { param: string }).param, 'x-litellm-num-retries');
  });

  it('mock_response is answered by the gateway, plain and streamed, with no upstream call', async () => {
    const client = portico.client();
    const plain = await chat(client, { mock_response: 'mocked answer' });
    assert.equal(plain.choices[0].message.content, 'mocked answer');
    assert.equal(plain.model, 'primary');
    const stream = await client.chat.completions.create({ model: 'primary', stream: true, messages: [{ role: 'user', content: 'x' }], mock_response: 'streamed mock' } as never);
    let text = '';
    for await (const chunk of stream as unknown as AsyncIterable<OpenAI.ChatCompletionChunk>) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'streamed mock');
    assert.equal(openai.requests.length, 0);
  });

  it("none of LiteLLM's request parameters reaches the provider", async () => {
    await chat(portico.client(), {
      num_retries: 0,
      timeout: 30,
      fallbacks: ['backup'],
      litellm_trace_id: 't-1',
      litellm_session_id: 's-1',
      api_key: 'sk-client-side',
      api_base: 'https://evil.example',
      custom_llm_provider: 'openai',
      caching: false,
      user: 'end-user-7',
    });
    const received = openai.requests.at(-1)!.json as Record<string, unknown>;
    assert.deepEqual(Object.keys(received).sort(), ['messages', 'model', 'user']);
  });

  it('a control of the wrong type is a 400 naming it', async () => {
    for (const [extra, param] of [
      [{ num_retries: 'many' }, 'num_retries'],
      [{ timeout: -1 }, 'timeout'],
      [{ fallbacks: [3] }, 'fallbacks[0]'],
      [{ mock_response: { text: 'x' } }, 'mock_response'],
    ] as const) {
      const error = await chat(portico.client(), extra as Record<string, unknown>).catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.BadRequestError, JSON.stringify(extra));
      assert.equal((error.error as { param: string }).param, param);
    }
    assert.equal(openai.requests.length, 0);
  });
});
