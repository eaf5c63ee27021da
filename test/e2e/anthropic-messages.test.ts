/**
 * `POST /v1/messages` through Portico with Anthropic's own SDK (`@anthropic-ai/sdk`), as Claude
 * Code and other Anthropic clients call LiteLLM's proxy: the key as `x-api-key` or a bearer token,
 * `model` the model group, the request and answer in Anthropic's shape passed through to an
 * Anthropic deployment (the deployment's model, the client's `anthropic-beta`, Anthropic's
 * `metadata.user_id`; LiteLLM's fields kept back), plain and streamed, each with a spend row; to
 * an OpenAI deployment through its chat, tools included; and every error in Anthropic's shape, so
 * the SDK raises its own error classes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, type AnthropicSimulator, startAnthropicSimulator } from '../simulators/anthropic-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-anthropic-messages-master-0123';

describe('/v1/messages (Anthropic’s Messages API)', () => {
  let anthropic: AnthropicSimulator;
  let openai: OpenAISimulator;
  let portico: PorticoUnderTest;
  let key: string;

  before(async () => {
    [anthropic, openai] = await Promise.all([startAnthropicSimulator(), startOpenAISimulator()]);
    portico = await startPortico(`
model_list:
  - {model_name: claude, litellm_params: {model: anthropic/claude-sonnet-4-5-20250929, api_base: "${anthropic.url}", api_key: ${ANTHROPIC_SIMULATOR_API_KEY}, max_retries: 0}, model_info: {input_cost_per_token: 0.000003, output_cost_per_token: 0.000015}}
  - {model_name: gpt, litellm_params: {model: openai/gpt-4o-mini, api_base: "${openai.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}}
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`);
    key = (await portico.generateKey({ models: ['claude'] })).key;
  });
  after(async () => {
    await portico.close();
    await Promise.all([anthropic.close(), openai.close()]);
  });

  async function spendRow(requestId: string): Promise<{ call_type: string; spend: number; prompt_tokens: number; completion_tokens: number; status: string; model_group: string }> {
    await portico.services.spend!.ledger.flushAll();
    const rows = (await (await portico.fetch(`/spend/logs?request_id=${requestId}`)).json()) as Array<{ call_type: string; spend: number; prompt_tokens: number; completion_tokens: number; status: string; model_group: string }>;
    assert.equal(rows.length, 1, requestId);
    return rows[0];
  }

  it('answers a message with the key as x-api-key: Anthropic’s request and answer passed through, a spend row priced by its tokens', async () => {
    const client = new Anthropic({ apiKey: key, baseURL: portico.url, maxRetries: 0 });
    const message = await client.messages.create(
      {
        model: 'claude',
        max_tokens: 256,
        system: 'Be brief.',
        messages: [{ role: 'user', content: 'Hello through Portico' }],
        metadata: { user_id: 'user-42' },
        tags: ['team-a'],
      } as never,
      { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31', 'x-request-id': 'messages-plain' } },
    );
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.match((message.content[0] as { text: string }).text, /Hello through Portico/);
    const upstream = anthropic.requests.at(-1)!;
    assert.equal(upstream.path, '/v1/messages');
    assert.equal(upstream.headers['x-api-key'], ANTHROPIC_SIMULATOR_API_KEY, 'the deployment’s key upstream, not the client’s');
    assert.equal(upstream.headers['anthropic-beta'], 'prompt-caching-2024-07-31');
    const sent = upstream.json as Record<string, unknown>;
    assert.equal(sent.model, 'claude-sonnet-4-5-20250929');
    assert.equal(sent.system, 'Be brief.');
    assert.deepEqual(sent.metadata, { user_id: 'user-42' });
    assert.equal(sent.tags, undefined, 'LiteLLM’s tags stay with Portico');
    const row = await spendRow('messages-plain');
    assert.deepEqual([row.call_type, row.model_group, row.status], ['/messages', 'claude', 'success']);
    const promptTokens = message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0) + (message.usage.cache_creation_input_tokens ?? 0);
    assert.equal(row.prompt_tokens, promptTokens);
    assert.equal(row.completion_tokens, message.usage.output_tokens);
    assert.ok(Math.abs(row.spend - (promptTokens * 0.000003 + message.usage.output_tokens * 0.000015)) < 1e-12);
  });

  it('streams Anthropic’s events as sent, with a bearer token, the spend row read from message_start and message_delta', async () => {
    const client = new Anthropic({ authToken: key, apiKey: null, baseURL: portico.url, maxRetries: 0 });
    const stream = client.messages.stream({ model: 'claude', max_tokens: 256, messages: [{ role: 'user', content: 'Stream this answer please' }] }, { headers: { 'x-request-id': 'messages-stream' } });
    const types: string[] = [];
    stream.on('streamEvent', (event) => void types.push(event.type));
    const final = await stream.finalMessage();
    assert.match((final.content[0] as { text: string }).text, /Stream this answer please/);
    assert.equal(types[0], 'message_start');
    assert.ok(types.includes('content_block_delta'));
    assert.equal(types.at(-1), 'message_stop');
    const row = await spendRow('messages-stream');
    assert.equal(row.status, 'success');
    assert.equal(row.completion_tokens, final.usage.output_tokens);
    assert.ok(row.prompt_tokens >= final.usage.input_tokens && row.prompt_tokens > 0);
  });

  it('serves a deployment of another provider through its chat: the request as OpenAI’s, the answer and its stream as Anthropic’s', async () => {
    const client = new Anthropic({ apiKey: MASTER_KEY, baseURL: portico.url, maxRetries: 0 });
    const message = await client.messages.create(
      { model: 'gpt', max_tokens: 64, system: [{ type: 'text', text: 'Be brief.' }], messages: [{ role: 'user', content: [{ type: 'text', text: 'Translated hello' }] }], metadata: { user_id: 'user-7' }, top_k: 5 },
      { headers: { 'x-request-id': 'messages-via-chat' } },
    );
    assert.equal(message.type, 'message');
    assert.equal(message.model, 'gpt');
    assert.match((message.content[0] as { text: string }).text, /Translated hello/);
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.input_tokens > 0 && message.usage.output_tokens > 0);
    const sent = openai.requests.at(-1)!;
    assert.equal(sent.path, '/v1/chat/completions');
    assert.deepEqual((sent.json as { messages: unknown }).messages, [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Translated hello' },
    ]);
    assert.equal((sent.json as { max_tokens: number }).max_tokens, 64);
    assert.equal((sent.json as { user: string }).user, 'user-7');
    const row = await spendRow('messages-via-chat');
    assert.deepEqual([row.call_type, row.status, row.prompt_tokens, row.completion_tokens], ['/messages', 'success', message.usage.input_tokens, message.usage.output_tokens]);

    // A tool call comes back as a tool_use block, and its result goes back as OpenAI's tool message.
    const tools = [{ name: 'get_weather', description: 'Weather of a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } }];
    const withTool = await client.messages.create({ model: 'gpt', max_tokens: 64, tools, messages: [{ role: 'user', content: 'Please use tool for Paris' }] });
    assert.equal(withTool.stop_reason, 'tool_use');
    const toolUse = withTool.content.find((block) => block.type === 'tool_use') as { id: string; name: string; input: Record<string, unknown> };
    assert.equal(toolUse.name, 'get_weather');
    assert.equal(typeof toolUse.input, 'object');
    await client.messages.create({
      model: 'gpt',
      max_tokens: 64,
      tools,
      messages: [
        { role: 'user', content: 'Please use tool for Paris' },
        { role: 'assistant', content: withTool.content as never },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'sunny' }] },
      ],
    });
    const replay = (openai.requests.at(-1)!.json as { messages: Array<Record<string, unknown>>; tools: Array<{ function: { name: string } }> });
    assert.equal(replay.tools[0].function.name, 'get_weather');
    assert.equal((replay.messages[1].tool_calls as Array<{ id: string }>)[0].id, toolUse.id);
    assert.deepEqual(replay.messages[2], { role: 'tool', tool_call_id: toolUse.id, content: 'sunny' });

    const stream = client.messages.stream({ model: 'gpt', max_tokens: 64, messages: [{ role: 'user', content: 'Streamed through chat' }] }, { headers: { 'x-request-id': 'messages-via-chat-stream' } });
    const types: string[] = [];
    stream.on('streamEvent', (event) => void types.push(event.type));
    const final = await stream.finalMessage();
    assert.match((final.content[0] as { text: string }).text, /Streamed through chat/);
    assert.deepEqual([types[0], types[1], types.at(-2), types.at(-1)], ['message_start', 'content_block_start', 'message_delta', 'message_stop']);
    assert.ok(final.usage.output_tokens > 0);
    assert.equal((openai.requests.at(-1)!.json as { stream_options: unknown }).stream_options !== undefined, true);
    const streamRow = await spendRow('messages-via-chat-stream');
    assert.equal(streamRow.status, 'success');
    assert.equal(streamRow.completion_tokens, final.usage.output_tokens);
    assert.ok(streamRow.prompt_tokens > 0);
  });

  it('counts tokens (Claude Code asks first): Anthropic’s own count on an Anthropic deployment, Portico’s estimate elsewhere, no spend row', async () => {
    const client = new Anthropic({ apiKey: MASTER_KEY, baseURL: portico.url, maxRetries: 0 });
    const request = { system: 'Be brief.', messages: [{ role: 'user' as const, content: 'How many tokens is this sentence?' }] };
    const rowsBefore = ((await (await portico.fetch('/spend/logs')).json()) as unknown[]).length;
    const counted = await client.messages.countTokens({ model: 'claude', ...request });
    const message = await client.messages.create({ model: 'claude', max_tokens: 50, ...request });
    assert.equal(counted.input_tokens, message.usage.input_tokens + (message.usage.cache_read_input_tokens ?? 0) + (message.usage.cache_creation_input_tokens ?? 0));
    assert.equal(anthropic.requests.at(-2)!.path, '/v1/messages/count_tokens');
    assert.equal((anthropic.requests.at(-2)!.json as { model: string }).model, 'claude-sonnet-4-5-20250929');
    const openaiCalls = openai.requests.length;
    const estimated = await client.messages.countTokens({ model: 'gpt', ...request });
    // 'Be brief.' and the question: 42 characters, at 4 a token.
    assert.equal(estimated.input_tokens, Math.ceil(('Be brief.'.length + 'How many tokens is this sentence?'.length) / 4));
    assert.equal(openai.requests.length, openaiCalls, 'an estimate calls nothing upstream');
    await portico.services.spend!.ledger.flushAll();
    assert.equal(((await (await portico.fetch('/spend/logs')).json()) as unknown[]).length, rowsBefore + 1, 'only the message has a row');
  });

  it('answers errors in Anthropic’s shape, so the SDK raises its own classes', async () => {
    const client = new Anthropic({ apiKey: key, baseURL: portico.url, maxRetries: 0 });
    const notAllowed = await client.messages.create({ model: 'gpt', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    assert.ok(notAllowed instanceof Anthropic.PermissionDeniedError);
    assert.equal((notAllowed.error as { error: { type: string } }).error.type, 'permission_error');

    const master = new Anthropic({ apiKey: MASTER_KEY, baseURL: portico.url, maxRetries: 0 });
    const unknown = await master.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    assert.ok(unknown instanceof Anthropic.NotFoundError);
    assert.deepEqual(Object.keys(unknown.error as object).sort(), ['error', 'type']);
    assert.equal((unknown.error as { type: string }).type, 'error');
    assert.equal((unknown.error as { error: { type: string } }).error.type, 'not_found_error');

    const noMaxTokens = await master.messages.create({ model: 'claude', messages: [{ role: 'user', content: 'x' }] } as never).catch((error: unknown) => error);
    assert.ok(noMaxTokens instanceof Anthropic.BadRequestError);
    assert.equal((noMaxTokens.error as { error: { type: string } }).error.type, 'invalid_request_error');

    const badKey = await new Anthropic({ apiKey: 'sk-not-a-key', baseURL: portico.url, maxRetries: 0 }).messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    assert.ok(badKey instanceof Anthropic.AuthenticationError);
    assert.equal((badKey.error as { error: { type: string } }).error.type, 'authentication_error');

    // An overload sent as the stream's first event (as Anthropic does under load) is an error while
    // the request can still be retried: the client gets Anthropic's 529, not a 200 stream.
    anthropic.failNext({
      status: 200,
      headers: { 'content-type': 'text/event-stream' },
      body: 'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n',
      match: { path: /\/v1\/messages$/ },
    });
    const streamOverloaded = await master.messages.create({ model: 'claude', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
    assert.ok(streamOverloaded instanceof Anthropic.APIError);
    assert.equal(streamOverloaded.status, 529);

    // The upstream's own refusal keeps its status: overloaded (529) after the deployment's retries.
    const overloaded = await master.messages.create({ model: 'claude', max_tokens: 10, messages: [{ role: 'user', content: 'FAIL:529' }] }).catch((error: unknown) => error);
    assert.ok(overloaded instanceof Anthropic.APIError);
    assert.equal(overloaded.status, 529);
    assert.equal((overloaded.error as { error: { type: string } }).error.type, 'overloaded_error');
  });
});
