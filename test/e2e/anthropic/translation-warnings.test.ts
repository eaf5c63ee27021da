/**
 * What the Anthropic translation drops or clamps reaches the client: `x-portico-warnings` on the
 * answer (plain and streamed, read through the official `openai` SDK's `.withResponse()`) and a
 * log line, through the router's result and the generic `warnings` field; never a silent change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from '../../simulators/anthropic-simulator.ts';

const HEADER = 'x-portico-warnings';

describe('translation warnings through Portico', () => {
  let sim: AnthropicSimulator;
  let portico: PorticoUnderTest;
  let client: OpenAI;

  before(async () => {
    sim = await startAnthropicSimulator();
    portico = await startPortico(`
model_list:
  - model_name: claude
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${sim.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}
  - model_name: claude-dropping
    litellm_params: {model: anthropic/claude-sonnet-4-5, api_base: "${sim.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}, drop_params: true}
`);
    client = portico.client();
  });
  after(async () => {
    await portico?.close();
    await sim?.close();
  });

  test('a clamped temperature and a dropped message name are named in the header and the log', async () => {
    const { data, response } = await client.chat.completions
      .create({ model: 'claude', temperature: 1.5, messages: [{ role: 'user', content: 'hi', name: 'ann' }] })
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    const header = response.headers.get(HEADER) ?? '';
    assert.equal(
      header,
      "messages[0].name: Anthropic has no per-message 'name'; it was dropped. | temperature: temperature 1.5 is above Anthropic's maximum of 1 and was clamped to 1.",
    );
    assert.equal((sim.requests.at(-1)!.json as { temperature?: number }).temperature, 1);
    const logged = portico.logs.find((line) => Array.isArray(line.translation_warnings));
    assert.deepEqual(
      (logged?.translation_warnings as { param: string }[]).map((warning) => warning.param),
      ['messages[0].name', 'temperature'].sort(),
    );
  });

  test('a streamed answer carries the header too', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'claude', stream: true, temperature: 2, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'hi');
    assert.match(response.headers.get(HEADER) ?? '', /^temperature: temperature 2 is above/);
  });

  test('a request Anthropic takes as sent has no header', async () => {
    const { response } = await client.chat.completions.create({ model: 'claude', temperature: 0.5, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    assert.equal(response.headers.get(HEADER), null);
  });

  test('drop_params removals are warnings too, before the translation\'s', async () => {
    const { response } = await client.chat.completions
      .create({ model: 'claude-dropping', temperature: 1.5, logit_bias: { '1': 1 }, messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.equal(response.headers.get('x-portico-dropped-params'), 'logit_bias');
    assert.match(response.headers.get(HEADER) ?? '', /^logit_bias: 'logit_bias' was dropped \(drop_params\)\. \| temperature: /);
  });

  test('a parameter name the header cannot carry, and many warnings, still give a bounded, valid header', async () => {
    const unknown = Object.fromEntries(Array.from({ length: 60 }, (_, index) => [`ünknown_parameter_${index}`, 1]));
    const { data, response } = await client.chat.completions
      .create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }], ...unknown } as OpenAI.ChatCompletionCreateParamsNonStreaming)
      .withResponse();
    assert.equal(data.object, 'chat.completion');
    const header = response.headers.get(HEADER) ?? '';
    assert.match(header, /^\?nknown_parameter_0: '\?nknown_parameter_0' is not a known chat completions parameter and was dropped\./);
    assert.ok(header.length <= 1024, `header is ${header.length} characters`);
    assert.match(header, / \| \+\d+ more$/);
  });
});
