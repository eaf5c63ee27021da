/**
 * OpenAI's Responses API (`client.responses.create`) on a deployment whose provider has none of its
 * own (Anthropic here), through the `openai` SDK, as LiteLLM's proxy serves it for every provider:
 * the request as a chat completion, the answer as a Response (text, function calls, usage) and the
 * stream as Responses events the SDK assembles; a conversation carried in `input`, tool results
 * included; a `previous_response_id` the gateway never stored, a 400; a spend row each (continuing a
 * stored one: test/e2e/stored-responses.test.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';

describe('the Responses API on a provider without one', () => {
  let anthropic: AnthropicSimulator;
  let portico: PorticoUnderTest;
  let client: OpenAI;

  before(async () => {
    anthropic = await startAnthropicSimulator();
    portico = await startPortico(`
model_list:
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}}, model_info: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}}
general_settings:
  master_key: sk-responses-bridge-master-0123
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`);
    client = portico.client();
  });
  after(async () => {
    await portico.close();
    await anthropic.close();
  });

  it('answers a Response: its output text, usage, and a spend row priced by it', async () => {
    const response = await client.responses.create({ model: 'claude', instructions: 'Be brief.', input: 'Hello from the Responses API', max_output_tokens: 200 }, { headers: { 'x-request-id': 'bridge-plain' } });
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, 'Hello from the Responses API');
    assert.ok(response.usage!.input_tokens > 0 && response.usage!.output_tokens > 0);
    const sent = anthropic.requests.at(-1)!.json as { system: unknown; messages: Array<{ role: string }>; max_tokens: number };
    assert.equal(sent.max_tokens, 200);
    assert.equal(JSON.stringify(sent.system).includes('Be brief.'), true);
    await portico.services.spend!.ledger.flushAll();
    const rows = (await (await portico.fetch('/spend/logs?request_id=bridge-plain')).json()) as Array<{ call_type: string; prompt_tokens: number; completion_tokens: number; spend: number }>;
    assert.equal(rows[0].call_type, '/responses');
    assert.equal(rows[0].prompt_tokens, response.usage!.input_tokens);
    assert.ok(Math.abs(rows[0].spend - (response.usage!.input_tokens * 0.000003 + response.usage!.output_tokens * 0.000015)) < 1e-12);
  });

  it('calls a function, and takes its output back in the next request’s input', async () => {
    const tools: OpenAI.Responses.Tool[] = [{ type: 'function', name: 'get_weather', description: 'Weather of a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }, strict: false }];
    const first = await client.responses.create({ model: 'claude', input: 'Please use tool for Paris', tools });
    const call = first.output.find((item) => item.type === 'function_call') as OpenAI.Responses.ResponseFunctionToolCall;
    assert.equal(call.name, 'get_weather');
    assert.equal(typeof JSON.parse(call.arguments), 'object');
    const second = await client.responses.create({
      model: 'claude',
      tools,
      input: [{ role: 'user', content: 'Please use tool for Paris' }, call, { type: 'function_call_output', call_id: call.call_id, output: 'sunny' }],
    });
    assert.equal(second.status, 'completed');
    const sent = anthropic.requests.at(-1)!.json as { messages: Array<{ role: string; content: Array<{ type: string; tool_use_id?: string }> }> };
    assert.equal(sent.messages[1].role, 'assistant');
    assert.ok(sent.messages[2].content.some((block) => block.type === 'tool_result' && block.tool_use_id === call.call_id));
  });

  it('streams Responses events the SDK assembles into the final Response', async () => {
    const stream = client.responses.stream({ model: 'claude', input: 'Stream through the bridge' });
    const types: string[] = [];
    stream.on('event', (event) => void types.push(event.type));
    const final = await stream.finalResponse();
    assert.equal(final.output_text, 'Stream through the bridge');
    assert.ok(final.usage!.output_tokens > 0);
    assert.deepEqual([types[0], types[1], types.at(-1)], ['response.created', 'response.in_progress', 'response.completed']);
    assert.ok(types.includes('response.output_text.delta'));
  });

  it('refuses a previous_response_id it never stored with a 400 naming it', async () => {
    const refused = await client.responses.create({ model: 'claude', input: 'x', previous_response_id: 'resp_123' }).catch((error: unknown) => error);
    assert.ok(refused instanceof OpenAI.BadRequestError);
    assert.equal((refused.error as { param: string }).param, 'previous_response_id');
    assert.equal((refused.error as { code: string }).code, 'previous_response_not_found');
  });
});
