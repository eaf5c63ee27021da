/**
 * LiteLLM's fallback variants: `context_window_fallbacks` (OpenAI's `context_length_exceeded`,
 * a vLLM "maximum context length" text, Anthropic's "prompt is too long"),
 * `content_policy_fallbacks` (`content_policy_violation` / `content_filter`), `default_fallbacks`,
 * and fallbacks naming one deployment by its `model_info.id`: each only to groups the key may use.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const CONTEXT_TOO_LONG = {
  error: {
    message: "This model's maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens. Please reduce the length of the messages.",
    type: 'invalid_request_error',
    param: 'messages',
    code: 'context_length_exceeded',
  },
};
const VLLM_TOO_LONG = {
  object: 'error',
  message: "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens in the messages, Please reduce the length of the messages.",
  type: 'BadRequestError',
  code: 400,
};
const CONTENT_POLICY = {
  error: { message: 'Your request was rejected as a result of our safety system.', type: 'invalid_request_error', param: null, code: 'content_policy_violation' },
};
const ANTHROPIC_TOO_LONG = { type: 'error', error: { type: 'invalid_request_error', message: 'prompt is too long: 210000 tokens > 200000 maximum' } };

describe('context-window, content-policy and default fallbacks, and fallbacks to a deployment id', () => {
  let small: OpenAISimulator;
  let long: OpenAISimulator;
  let lenient: OpenAISimulator;
  let backup: OpenAISimulator;
  let claude: AnthropicSimulator;
  let portico: PorticoUnderTest;
  before(async () => {
    [small, long, lenient, backup] = await Promise.all([startOpenAISimulator(), startOpenAISimulator(), startOpenAISimulator(), startOpenAISimulator()]);
    claude = await startAnthropicSimulator();
    const openai = (group: string, sim: OpenAISimulator, id: string) =>
      `  - {model_name: ${group}, litellm_params: {model: openai/gpt-4o-mini, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}, model_info: {id: ${id}}}\n`;
    portico = await startPortico(`
model_list:
${openai('small', small, 'small-1')}${openai('long', long, 'long-1')}${openai('lenient', lenient, 'lenient-1')}${openai('backup', backup, 'backup-1')}  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${claude.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}}
router_settings:
  num_retries: 0
  context_window_fallbacks: [{small: [long]}, {claude: [long]}]
  content_policy_fallbacks: [{small: [lenient-1]}]
  default_fallbacks: [backup]
general_settings:
  master_key: sk-fallback-variants-master-0123456789
`);
  });
  after(async () => {
    await portico.close();
    await Promise.all([small.close(), long.close(), lenient.close(), backup.close(), claude.close()]);
  });
  beforeEach(() => {
    for (const sim of [small, long, lenient, backup, claude]) sim.requests.length = 0;
  });

  const chat = (model: string, apiKey?: string) =>
    portico.fetch('/v1/chat/completions', {
      method: 'POST',
      apiKey,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'a long prompt' }] }),
    });

  it("OpenAI's context_length_exceeded, a vLLM context-length text and Anthropic's prompt-too-long go to context_window_fallbacks", async () => {
    for (const [sim, body, group] of [
      [small, CONTEXT_TOO_LONG, 'small'],
      [small, VLLM_TOO_LONG, 'small'],
      [claude, ANTHROPIC_TOO_LONG, 'claude'],
    ] as const) {
      sim.failNext({ status: 400, body });
      const answer = await chat(group);
      assert.equal(answer.status, 200, `${group}: ${JSON.stringify(body)}`);
      assert.equal(long.requests.length, 1, 'the long-context group answered');
      long.requests.length = 0;
    }
    assert.equal(backup.requests.length, 0, 'default_fallbacks are for other failures');
  });

  it('a content-policy refusal goes to content_policy_fallbacks, here one deployment named by its id', async () => {
    small.failNext({ status: 400, body: CONTENT_POLICY });
    const answer = await chat('small');
    assert.equal(answer.status, 200);
    assert.equal(lenient.requests.length, 1);
    assert.equal(long.requests.length + backup.requests.length, 0);
  });

  it('other upstream trouble goes to default_fallbacks; a plain 400 goes nowhere', async () => {
    small.failNext({ status: 503 });
    assert.equal((await chat('small')).status, 200);
    assert.equal(backup.requests.length, 1);
    small.failNext({ status: 400, body: { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } } });
    const refused = await chat('small');
    assert.equal(refused.status, 400);
    assert.equal(backup.requests.length + long.requests.length + lenient.requests.length, 1);
  });

  it("a key limited to its group gets the group's own failure from every variant, never another group's answer", async () => {
    const { key } = await portico.generateKey({ models: ['small'] });
    small.failNext({ status: 400, body: CONTEXT_TOO_LONG });
    const tooLong = await chat('small', key);
    assert.equal(tooLong.status, 400);
    assert.equal(((await tooLong.json()) as { error: { code: string } }).error.code, 'context_length_exceeded');
    small.failNext({ status: 400, body: CONTENT_POLICY });
    assert.equal((await chat('small', key)).status, 400);
    small.failNext({ status: 503 });
    assert.equal((await chat('small', key)).status, 503);
    assert.equal(long.requests.length + lenient.requests.length + backup.requests.length, 0);
  });
});
