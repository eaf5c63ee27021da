/**
 * Issue 4's Anthropic scenarios through Portico with the official `openai` SDK, against the
 * Anthropic simulator: chat plain, streamed and with tools, and an OpenAI-style batch that runs as
 * a native Message Batch, with errored, cancelled and expired results landing in the error file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import { validateOpenAI } from '../../helpers/openai-schemas.ts';
import { readChatStream } from '../../helpers/chat-streams.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { runToEnd } from '../../helpers/simulated-batches.ts';
import { ANTHROPIC_SIMULATOR_API_KEY, startAnthropicSimulator, type AnthropicSimulator } from '../../simulators/anthropic-simulator.ts';
import { GATEWAY_BATCH_ID, GATEWAY_FILE_ID, chatLines, parseJsonl, readContent, uploadBatchFile } from '../managed/managed-fixtures.ts';

const MASTER_KEY = 'sk-anthropic-e2e-master-0123456789';

async function config(sim: AnthropicSimulator): Promise<string> {
  const storage = await mkdtemp(join(tmpdir(), 'portico-anthropic-'));
  return `
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: ${sim.url}
      api_key: os.environ/ANTHROPIC_E2E_KEY
    model_info:
      input_cost_per_token: 0.000003
      output_cost_per_token: 0.000015
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files: { storage_dir: ${storage} }
  batch: { refresh_after_seconds: 0, poll_interval_ms: 200 }
`;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Anthropic through Portico (${dialect})`, () => {
    let sim: AnthropicSimulator;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    before(async () => {
      sim = await startAnthropicSimulator();
      portico = await startPortico(await config(sim), { dialect, env: { ...process.env, ANTHROPIC_E2E_KEY: ANTHROPIC_SIMULATOR_API_KEY } });
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await sim?.close();
    });

    test('a chat completion is translated both ways, with the system prompt and usage', async () => {
      const completion = await client.chat.completions.create({
        model: 'claude',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello Claude' },
        ],
      });
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.content, 'Hello Claude');
      assert.equal(completion.choices[0].finish_reason, 'stop');
      assert.ok(completion.usage && completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);
      const sent = sim.requests.at(-1)!.json as { system?: unknown; max_tokens?: number; model?: string };
      assert.ok(JSON.stringify(sent.system).includes('Be brief.'), 'the system message went to the top-level system field');
      assert.equal(sent.model, 'claude-sonnet-4-5');
      assert.ok((sent.max_tokens ?? 0) > 0, 'max_tokens is supplied');
    });

    test('a streamed chat completion arrives chunk by chunk in OpenAI framing', async () => {
      const stream = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'Stream this please' }], stream: true, stream_options: { include_usage: true } });
      const { text, chunks, usage } = await readChatStream(stream);
      assert.equal(text, 'Stream this please');
      assert.ok(chunks > 2);
      assert.ok(usage && usage.completion_tokens > 0);
    });

    test('tools and tool calls are translated, and a tool result goes back as tool_result', async () => {
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
        { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      ];
      const first = await client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'please use tool for Paris' }], tools });
      const call = first.choices[0].message.tool_calls?.[0];
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.doesNotThrow(() => JSON.parse(call.function.arguments));
      const second = await client.chat.completions.create({
        model: 'claude',
        tools,
        messages: [
          { role: 'user', content: 'please use tool for Paris' },
          first.choices[0].message,
          { role: 'tool', tool_call_id: call.id, content: 'sunny' },
          { role: 'user', content: 'thanks' },
        ],
      });
      assert.equal(second.choices[0].message.content, 'thanks');
      const sent = sim.requests.at(-1)!.json as { messages: Array<{ role: string; content: Array<{ type: string }> }> };
      assert.ok(sent.messages.some((m) => m.role === 'user' && m.content.some((block) => block.type === 'tool_result')));
    });

    test('Anthropic errors keep their status in OpenAI\'s envelope', async () => {
      sim.failNext({ status: 429, count: 5, headers: { 'retry-after': '0' }, match: { path: /\/v1\/messages$/ } });
      await assert.rejects(client.chat.completions.create({ model: 'claude', messages: [{ role: 'user', content: 'hi' }] }), (error: unknown) => {
        assert.equal((error as { status?: number }).status, 429);
        return true;
      });
    });

    test('an OpenAI batch runs as a native Message Batch, with errored, cancelled and expired lines in the error file', async () => {
      const texts = ['first', 'FAIL', 'CANCEL', 'EXPIRE', 'fifth'];
      const jsonl = chatLines('claude', { count: texts.length, text: (i) => texts[i], prefix: 'line with spaces & symbols' });
      const file = await uploadBatchFile(client, jsonl);
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h', metadata: { run: 'anthropic' } });
      assert.match(created.id, GATEWAY_BATCH_ID);
      assert.equal(created.endpoint, '/v1/chat/completions');
      assert.ok(sim.batches.size > 0, 'a Message Batch was created upstream');
      const done = await runToEnd(client, sim, created.id);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      // Anthropic marks requests `expired` only at the 24 h deadline, so a batch with expired
      // requests ran out of its window: OpenAI calls that `expired` (partial output kept).
      assert.equal(done.status, 'expired');
      assert.ok(done.expired_at);
      assert.deepEqual(done.request_counts, { total: 5, completed: 2, failed: 3 });
      assert.match(done.output_file_id ?? '', GATEWAY_FILE_ID);
      assert.match(done.error_file_id ?? '', GATEWAY_FILE_ID);
      const output = parseJsonl(await readContent(client, done.output_file_id!));
      const errors = parseJsonl(await readContent(client, done.error_file_id!));
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['line with spaces & symbols-0', 'line with spaces & symbols-4'], 'original custom_ids come back');
      const first = output.find((l) => l.custom_id === 'line with spaces & symbols-0')!;
      const body = (first.response as { status_code: number; body: { object: string; choices: Array<{ message: { content: string } }> } });
      assert.equal(body.status_code, 200);
      assert.equal(body.body.object, 'chat.completion');
      assert.equal(body.body.choices[0].message.content, 'first');
      const byId = new Map(errors.map((l) => [l.custom_id, l]));
      assert.equal((byId.get('line with spaces & symbols-1')!.response as { status_code: number }).status_code, 400);
      assert.equal((byId.get('line with spaces & symbols-2')!.error as { code: string }).code, 'batch_cancelled');
      assert.equal((byId.get('line with spaces & symbols-3')!.error as { code: string }).code, 'batch_expired');
      assert.ok(done.usage && done.usage.input_tokens > 0, 'usage summed from the results');
    });

    test('a batch whose lines all ran ends completed, with errored lines in the error file', async () => {
      const file = await uploadBatchFile(client, chatLines('claude', { count: 3, text: (i) => (i === 1 ? 'FAIL' : `ok ${i}`) }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      assert.deepEqual(parseJsonl(await readContent(client, done.error_file_id!)).map((l) => l.custom_id), ['request-1']);
    });

    test('cancelling a running Message Batch ends it cancelled with the partial results', async () => {
      const file = await uploadBatchFile(client, chatLines('claude', { count: 4 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await sim.advanceBatches();
      const cancelling = await client.batches.cancel(created.id);
      assert.equal(cancelling.status, 'cancelling');
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'cancelled');
      assert.ok(done.cancelled_at);
      const lines = [
        ...(done.output_file_id ? parseJsonl(await readContent(client, done.output_file_id)) : []),
        ...(done.error_file_id ? parseJsonl(await readContent(client, done.error_file_id)) : []),
      ];
      assert.deepEqual(lines.map((l) => l.custom_id).sort(), ['request-0', 'request-1', 'request-2', 'request-3'], 'every line accounted for once');
      assert.ok(lines.some((l) => (l.error as { code?: string } | null)?.code === 'batch_cancelled'));
    });
  });
}
