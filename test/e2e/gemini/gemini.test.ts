/**
 * Issue 11's Gemini scenarios through Portico with the official `openai` SDK, against the Gemini
 * API simulator, on SQLite and PostgreSQL: chat plain, streamed and with tools, embeddings, errors,
 * upstream throttling absorbed; OpenAI batches run as Gemini batches (inline, and through the
 * Files API) that complete with a failed line in the error file, are cancelled, or expire, with
 * Portico's ids and the cost at Gemini's batch prices on the key's spend once; batch creates
 * Gemini refuses (429 RESOURCE_EXHAUSTED) wait in validating and are tried again, on whichever
 * instance (the backoff is kept in the database), or expire at the batch's expires_at.
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
import { GEMINI_SIMULATOR_API_KEY, startGeminiSimulator, type GeminiSimulator } from '../../simulators/gemini-simulator.ts';
import { GATEWAY_BATCH_ID, GATEWAY_FILE_ID, chatLines, uploadBatchFile } from '../managed/managed-fixtures.ts';
import { createTestDatabase } from '../../helpers/databases.ts';
import { assertKeySpend, assertOneFailedLine, cancelRefused, simulatedBatchSettings, embeddingLines, expireRefused, refusedAcrossInstances, resultLines, runRefusedToEnd, runToEnd, waitForEnd } from '../../helpers/simulated-batches.ts';

const MASTER_KEY = 'sk-gemini-e2e-master-0123456789';
/** gemini-2.5-flash's batch prices (Google's pricing page, docs/specs/gemini-api.md), per token. */
const BATCH_INPUT_PRICE = 1.5e-7;
const BATCH_OUTPUT_PRICE = 1.25e-6;
/** gemini-embedding-001's batch input price (the catalogue's, from Google's pricing page), per token. */
const EMBED_BATCH_INPUT_PRICE = 7.5e-8;

async function config(sim: GeminiSimulator): Promise<string> {
  const storage = await mkdtemp(join(tmpdir(), 'portico-gemini-'));
  return `
model_list:
  - model_name: gemini
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: ${sim.url}
      api_key: os.environ/GEMINI_E2E_KEY
  - model_name: gemini-files
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: ${sim.url}/v1beta
      api_key: os.environ/GEMINI_E2E_KEY
      batch_inline_max_bytes: 64
  - model_name: gemini-embed
    litellm_params:
      model: gemini/gemini-embedding-001
      api_base: ${sim.url}
      api_key: os.environ/GEMINI_E2E_KEY
${simulatedBatchSettings(MASTER_KEY, storage)}`;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Gemini through Portico (${dialect})`, () => {
    let sim: GeminiSimulator;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    before(async () => {
      sim = await startGeminiSimulator();
      portico = await startPortico(await config(sim), { dialect, env: { ...process.env, GEMINI_E2E_KEY: GEMINI_SIMULATOR_API_KEY } });
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await sim?.close();
    });

    test('a chat completion is translated both ways, with the system instruction, the key header and usage', async () => {
      const completion = await client.chat.completions.create({
        model: 'gemini',
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: 'Hello Gemini' },
        ],
        max_tokens: 100,
      });
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.content, 'Hello Gemini');
      assert.equal(completion.choices[0].finish_reason, 'stop');
      assert.ok(completion.usage && completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);
      const sent = sim.requests.at(-1)!;
      assert.equal(sent.path, '/v1beta/models/gemini-2.5-flash:generateContent');
      assert.equal(sent.headers['x-goog-api-key'], GEMINI_SIMULATOR_API_KEY);
      const body = sent.json as { systemInstruction: unknown; generationConfig: { maxOutputTokens: number } };
      assert.deepEqual(body.systemInstruction, { parts: [{ text: 'Be brief.' }] });
      assert.equal(body.generationConfig.maxOutputTokens, 100);
    });

    test('a repeated system instruction comes back as cached tokens, thinking as reasoning tokens', async () => {
      const messages: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [
        { role: 'system', content: 'A long and stable system instruction for caching.' },
        { role: 'user', content: 'think about it' },
      ];
      await client.chat.completions.create({ model: 'gemini', messages });
      const second = await client.chat.completions.create({ model: 'gemini', messages });
      assert.ok((second.usage?.prompt_tokens_details?.cached_tokens ?? 0) > 0);
      assert.equal(second.usage?.completion_tokens_details?.reasoning_tokens, 5);
    });

    test('a streamed chat completion arrives chunk by chunk in OpenAI framing, with a usage chunk', async () => {
      const stream = await client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'Stream this please' }], stream: true, stream_options: { include_usage: true } });
      const { text, chunks, finish, usage } = await readChatStream(stream);
      assert.equal(text, 'Stream this please');
      assert.ok(chunks > 2);
      assert.equal(finish, 'stop');
      assert.ok(usage && usage.completion_tokens > 0);
      assert.equal(sim.requests.at(-1)!.query.alt, 'sse');
    });

    test('tools: a function call comes back as tool_calls, and its result goes back as a functionResponse', async () => {
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
        { type: 'function', function: { name: 'get_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } },
      ];
      const first = await client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'please use tool for Paris' }], tools });
      const call = first.choices[0].message.tool_calls?.[0];
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'please use tool for Paris' });
      const second = await client.chat.completions.create({
        model: 'gemini',
        tools,
        messages: [{ role: 'user', content: 'please use tool for Paris' }, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'sunny' }, { role: 'user', content: 'thanks' }],
      });
      assert.equal(second.choices[0].message.content, 'thanks');
      const sent = sim.requests.at(-1)!.json as { contents: Array<{ role: string; parts: Array<Record<string, unknown>> }> };
      assert.deepEqual(sent.contents[2], { role: 'user', parts: [{ functionResponse: { id: call.id, name: 'get_weather', response: { content: 'sunny' } } }, { text: 'thanks' }] });
    });

    test('a JSON schema response_format is sent as responseSchema; what it drops is said in x-portico-warnings', async () => {
      const response = await portico.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gemini',
          messages: [{ role: 'user', content: 'as json' }],
          response_format: { type: 'json_schema', json_schema: { name: 'echo', schema: { type: 'object', properties: { echo: { type: 'string' } }, additionalProperties: false } } },
        }),
      });
      assert.equal(response.status, 200);
      const body = (await response.json()) as { choices: Array<{ message: { content: string } }> };
      assert.deepEqual(JSON.parse(body.choices[0].message.content), { echo: 'as json' });
      assert.match(response.headers.get('x-portico-warnings') ?? '', /additionalProperties/);
      const sent = sim.requests.at(-1)!.json as { generationConfig: { responseMimeType: string; responseSchema: unknown } };
      assert.equal(sent.generationConfig.responseMimeType, 'application/json');
      assert.deepEqual(sent.generationConfig.responseSchema, { type: 'OBJECT', properties: { echo: { type: 'STRING' } }, propertyOrdering: ['echo'] });
    });

    test('embeddings go through batchEmbedContents, one vector per input', async () => {
      const result = await client.embeddings.create({ model: 'gemini-embed', input: ['one', 'two'], dimensions: 16 });
      assert.equal(result.object, 'list');
      assert.equal(result.data.length, 2);
      assert.equal(result.data[0].embedding.length, 16);
      assert.ok(result.usage.prompt_tokens > 0);
      assert.equal(sim.requests.at(-1)!.path, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
    });

    test("Gemini errors keep their status in OpenAI's envelope", async () => {
      await assert.rejects(client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'FAIL' }] }), (error: unknown) => {
        const e = error as { status?: number; error?: { type?: string; code?: string } };
        assert.equal(e.status, 400);
        assert.equal(e.error?.type, 'invalid_request_error');
        assert.equal(e.error?.code, 'invalid_argument');
        return true;
      });
    });

    test('upstream throttling (429 RESOURCE_EXHAUSTED) is absorbed by retries', async () => {
      const before = sim.requests.length;
      sim.failNext({ status: 429, count: 2, headers: { 'retry-after': '0' }, match: { path: /:generateContent$/ } });
      const completion = await client.chat.completions.create({ model: 'gemini', messages: [{ role: 'user', content: 'after the storm' }] });
      assert.equal(completion.choices[0].message.content, 'after the storm');
      assert.equal(sim.requests.length - before, 3, 'two throttled attempts, then the answer');
    });

    test("an embeddings batch on gemini-embedding-001 runs on Portico's engine: completed under our custom_ids, cost at batch prices once", async () => {
      const key = await portico.generateKey({ user_id: `gemini-embed-payer-${dialect}` });
      const payer = portico.client(key.key);
      const embedsBefore = sim.requests.filter((r) => r.path.endsWith(':batchEmbedContents')).length;
      const file = await uploadBatchFile(payer, embeddingLines('gemini-embed', { count: 2, prefix: 'gemini embed' }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
      const done = await waitForEnd(payer, created.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
      assert.equal(sim.requests.filter((r) => r.path.endsWith(':batchEmbedContents')).length - embedsBefore, 2, 'one batchEmbedContents per line');
      assert.equal(sim.requests.filter((r) => r.path.endsWith('gemini-embedding-001:batchGenerateContent')).length, 0, 'no Gemini batch');
      const { output, errors } = await resultLines(payer, done);
      assert.equal(errors.length, 0);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['gemini embed-0', 'gemini embed-1']);
      assert.equal((output[0].response as { body: { object: string } }).body.object, 'list');
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * EMBED_BATCH_INPUT_PRICE);
    });

    test('an OpenAI batch runs as an inline Gemini batch: completed, the failed line in the error file, cost at batch prices once', async () => {
      const key = await portico.generateKey({ user_id: `gemini-payer-${dialect}` });
      const payer = portico.client(key.key);
      const texts = ['first', 'FAIL', 'third'];
      const file = await uploadBatchFile(payer, chatLines('gemini', { count: texts.length, text: (i) => texts[i], prefix: 'line with spaces & symbols' }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.match(created.id, GATEWAY_BATCH_ID);
      const upstream = [...sim.batches.values()].at(-1)!;
      assert.ok('requests' in upstream.inputConfig, 'the requests went inline');
      const done = await runToEnd(payer, sim, created.id);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      assert.match(done.output_file_id ?? '', GATEWAY_FILE_ID);
      assert.match(done.error_file_id ?? '', GATEWAY_FILE_ID);
      const { output } = await assertOneFailedLine(payer, done, { answered: 'line with spaces & symbols-0', content: 'first', failed: 'line with spaces & symbols-1' });
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['line with spaces & symbols-0', 'line with spaces & symbols-2'], 'the original custom_ids come back');
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * BATCH_INPUT_PRICE + usage.output_tokens * BATCH_OUTPUT_PRICE);
    });

    test('a batch over the inline limit is staged in the Gemini Files API and its responses file mapped back', async () => {
      const file = await uploadBatchFile(client, chatLines('gemini-files', { count: 3, text: (i) => (i === 2 ? 'FAIL:429' : `file line ${i}`) }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const upstream = [...sim.batches.values()].at(-1)!;
      const inputName = upstream.inputConfig.fileName as string;
      assert.match(inputName, /^files\//, 'the requests went through the Files API');
      assert.deepEqual(sim.files.get(inputName)!.bytes.toString('utf8').trim().split('\n').map((line) => JSON.parse(line).key), ['r0', 'r1', 'r2']);
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'completed');
      const { output, errors } = await resultLines(client, done);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['request-0', 'request-1']);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.response as { status_code: number }).status_code]), [['request-2', 429]]);
    });

    test('a cancelled batch ends cancelled, every line in the error file as batch_cancelled', async () => {
      const file = await uploadBatchFile(client, chatLines('gemini', { count: 3 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const cancelling = await client.batches.cancel(created.id);
      assert.ok(cancelling.status === 'cancelling' || cancelling.status === 'cancelled');
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'cancelled');
      assert.ok(done.cancelled_at);
      const { output, errors } = await resultLines(client, done);
      assert.equal(output.length, 0);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
        ['request-0', 'batch_cancelled'],
        ['request-1', 'batch_cancelled'],
        ['request-2', 'batch_cancelled'],
      ]);
    });

    test('a batch Gemini expires ends expired, every line in the error file as batch_expired', async () => {
      const file = await uploadBatchFile(client, chatLines('gemini-files', { count: 2 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await sim.advanceBatches();
      sim.expireBatch([...sim.batches.keys()].at(-1)!);
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'expired');
      assert.ok(done.expired_at);
      const { errors } = await resultLines(client, done);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
        ['request-0', 'batch_expired'],
        ['request-1', 'batch_expired'],
      ]);
    });

    test('a batch whose create Gemini refuses twice (429 RESOURCE_EXHAUSTED) waits in validating, then completes after the backoff, cost at batch prices once', async () => {
      const key = await portico.generateKey({ user_id: `gemini-refused-payer-${dialect}` });
      const payer = portico.client(key.key);
      const batchesBefore = sim.batches.size;
      const { created, done } = await runRefusedToEnd(payer, sim, chatLines('gemini', { count: 2, prefix: 'refused at first' }), 2);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.equal(sim.batches.size - batchesBefore, 1, 'one Gemini batch, created once');
      assert.match(String([...sim.batches.values()].at(-1)!.inputConfig.fileName), /^files\//, 'the refused inline part waited staged in the Files API');
      assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
      const { output, errors } = await resultLines(payer, done);
      assert.equal(errors.length, 0);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['refused at first-0', 'refused at first-1']);
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * BATCH_INPUT_PRICE + usage.output_tokens * BATCH_OUTPUT_PRICE);
    });

    test('a batch cancelled while Gemini refuses its create ends cancelled, every line batch_cancelled, and no Gemini batch is created', async () => {
      const batchesBefore = sim.batches.size;
      const done = await cancelRefused(client, sim, chatLines('gemini', { count: 2, prefix: 'called off' }), ['called off-0', 'called off-1']);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(sim.batches.size, batchesBefore, 'no Gemini batch was ever created');
    });

    test("a batch Gemini refuses until its completion window ends is expired, Gemini's 429 message in its errors, every line batch_expired", async () => {
      const batchesBefore = sim.batches.size;
      const done = await expireRefused(portico, client, sim, chatLines('gemini', { count: 2, prefix: 'never taken' }), { upstream: 'Gemini', refusal: /Quota exceeded for concurrent batch requests/, customIds: ['never taken-0', 'never taken-1'] });
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(sim.batches.size, batchesBefore, 'no Gemini batch was ever created');
    });

    test('a create whose answer was lost is found again by its display name however many batches the account made since: one Gemini batch, completed', async () => {
      sim.refuseBatchCreates(1);
      const file = await uploadBatchFile(client, chatLines('gemini', { count: 2, prefix: 'answer lost' }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal(created.status, 'validating');
      const batchesBefore = sim.batches.size;
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      // The next create is made but its answer is lost (a 502 after Gemini acted); the retried look's list fails too.
      const createPath = /:batchGenerateContent$/;
      sim.slowNext({ ms: 600, match: { method: 'POST', path: createPath } });
      sim.failNext({ status: 502, afterHandling: true, match: { method: 'POST', path: createPath } });
      const looking = client.batches.retrieve(created.id);
      await new Promise((resolve) => setTimeout(resolve, 300));
      sim.failNext({ status: 400, match: { method: 'GET', path: /^\/v1beta\/batches$/ } });
      assert.equal((await looking).status, 'validating');
      assert.equal(sim.batches.size - batchesBefore, 1, 'the create was made');
      const made = [...sim.batches.values()].at(-1)!;
      // 350 batches of other work since (put in the simulator at once, so that no look runs in between):
      // more than three pages of 100 are newer than the one made.
      for (let i = 0; i < 350; i++) {
        const name = `batches/other-work-${dialect}-${i}`;
        sim.batches.set(name, { ...made, name, displayName: 'other work', createTime: new Date().toISOString(), requests: [], inputConfig: { requests: { requests: [] } } });
      }
      const listsBefore = sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1beta/batches').length;
      const done = await runToEnd(client, sim, created.id, 20, 100);
      assert.equal(done.status, 'completed');
      assert.equal([...sim.batches.values()].filter((batch) => batch.displayName === made.displayName).length, 1, 'found, not created again');
      assert.ok(sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1beta/batches').slice(listsBefore).some((r) => Number(r.query.pageToken) >= 300), 'the list was read past its first three pages');
      const { output } = await resultLines(client, done);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['answer lost-0', 'answer lost-1']);
    });

    test("a refused create's backoff is kept in the database: another instance goes on with it, and a restarted one expires the batch at its expires_at with Gemini's 429 message", async () => {
      const database = await createTestDatabase(dialect);
      const yaml = await config(sim);
      try {
        const start = () => startPortico(yaml, { databaseUrl: database.url, env: { ...process.env, GEMINI_E2E_KEY: GEMINI_SIMULATOR_API_KEY } });
        const done = await refusedAcrossInstances(start, sim, chatLines('gemini', { count: 2, prefix: 'across' }), { upstream: 'Gemini', refusal: /Quota exceeded for concurrent batch requests/, customIds: ['across-0', 'across-1'] });
        assert.deepEqual(validateOpenAI('Batch', done), []);
      } finally {
        await database.dispose();
      }
    });
  });
}
