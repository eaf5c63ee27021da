/**
 * Issue 11's Vertex AI scenarios through Portico with the official `openai` SDK, against the
 * Vertex AI simulator (OAuth token endpoint, models, batch prediction jobs, Cloud Storage), on
 * SQLite and PostgreSQL: Gemini and Claude chat plain, streamed and with tools, embeddings,
 * errors, throttling absorbed; OpenAI batches run as Vertex batch prediction jobs staged in GCS
 * that complete with a failed line in the error file (cost at Vertex's batch prices, once), are
 * cancelled, or expire, for Gemini and for Claude models alike; short-lived and revoked tokens
 * refreshed in the middle of a batch.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { validateOpenAI } from '../../helpers/openai-schemas.ts';
import { readChatStream } from '../../helpers/chat-streams.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { startVertexSimulator, VERTEX_ANTHROPIC_VERSION, type VertexSimulator } from '../../simulators/vertex-simulator.ts';
import { GATEWAY_BATCH_ID, GATEWAY_FILE_ID, chatLines, uploadBatchFile } from '../managed/managed-fixtures.ts';
import { createTestDatabase } from '../../helpers/databases.ts';
import { assertKeySpend, assertOneFailedLine, simulatedBatchSettings, embeddingLines, expireRefused, refusedAcrossInstances, resultLines, runRefusedToEnd, runToEnd, waitForEnd } from '../../helpers/simulated-batches.ts';

const MASTER_KEY = 'sk-vertex-e2e-master-0123456789';
/** vertex_ai/gemini-2.5-flash's batch prices (half of Vertex's online price, docs/specs/vertex-ai.md §Pricing), per token. */
const BATCH_INPUT_PRICE = 1.5e-7;
const BATCH_OUTPUT_PRICE = 1.25e-6;
const BUCKET = 'portico-e2e-bucket';
const CLAUDE = 'claude-sonnet-4@20250514';
/** vertex_ai/claude-sonnet-4@20250514's batch prices (half of Anthropic's list price, which Vertex charges), per token. */
const CLAUDE_BATCH_INPUT_PRICE = 1.5e-6;
const CLAUDE_BATCH_OUTPUT_PRICE = 7.5e-6;
/** text-embedding-005's price as the test configures it (the catalogue has none); batches pay half. */
const EMBED_INPUT_PRICE = 2e-8;

function config(sim: VertexSimulator, keyFile: string, storage: string): string {
  const common = `      vertex_project: ${sim.project}
      vertex_location: us-central1
      api_base: ${sim.url}`;
  return `
model_list:
  - model_name: vertex-gemini
    litellm_params:
      model: vertex_ai/gemini-2.5-flash
${common}
      vertex_credentials: os.environ/VERTEX_E2E_CREDENTIALS
      gcs_bucket_name: ${BUCKET}/staging
      gcs_api_base: ${sim.url}
  - model_name: vertex-claude
    litellm_params:
      model: vertex_ai/${CLAUDE}
${common}
      vertex_credentials: ${keyFile}
      gcs_bucket_name: ${BUCKET}/claude-staging
      gcs_api_base: ${sim.url}
  - model_name: vertex-embed
    litellm_params:
      model: vertex_ai/text-embedding-005
${common}
      vertex_credentials: ${keyFile}
  - model_name: vertex-embed-staged
    litellm_params:
      model: vertex_ai/text-embedding-005
${common}
      vertex_credentials: ${keyFile}
      gcs_bucket_name: ${BUCKET}/embed-staging
      gcs_api_base: ${sim.url}
    model_info:
      input_cost_per_token: ${EMBED_INPUT_PRICE}
${simulatedBatchSettings(MASTER_KEY, storage)}`;
}

function lastJob(sim: VertexSimulator) {
  return [...sim.jobs.values()].at(-1)!;
}

/** Jobs that have not ended (they count against the simulator's job quota). */
function liveJobs(sim: VertexSimulator): number {
  return [...sim.jobs.values()].filter((job) => !/SUCCEEDED|FAILED|CANCELLED|EXPIRED/.test(String(job.resource.state))).length;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Vertex AI through Portico (${dialect})`, () => {
    let sim: VertexSimulator;
    let portico: PorticoUnderTest;
    let client: OpenAI;
    let dir: string;

    before(async () => {
      sim = await startVertexSimulator();
      dir = await mkdtemp(join(tmpdir(), 'portico-vertex-'));
      const keyFile = join(dir, 'service-account.json');
      await writeFile(keyFile, JSON.stringify(sim.serviceAccountKey()));
      portico = await startPortico(config(sim, keyFile, join(dir, 'files')), { dialect, env: { ...process.env, VERTEX_E2E_CREDENTIALS: JSON.stringify(sim.serviceAccountKey()) } });
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await sim?.close();
      await rm(dir, { recursive: true, force: true });
    });

    test('a Gemini chat completion goes to generateContent with a bearer token; the token is reused', async () => {
      const issuedBefore = sim.tokensIssued;
      for (let i = 0; i < 3; i += 1) {
        const completion = await client.chat.completions.create({ model: 'vertex-gemini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Hello Vertex ${i}` }], max_tokens: 100 });
        assert.equal(completion.choices[0].message.content, `Hello Vertex ${i}`);
        assert.equal(completion.choices[0].finish_reason, 'stop');
        assert.ok(completion.usage && completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);
      }
      const sent = sim.requests.at(-1)!;
      assert.equal(sent.path, `/v1/projects/${sim.project}/locations/us-central1/publishers/google/models/gemini-2.5-flash:generateContent`);
      assert.match(String(sent.headers.authorization), /^Bearer ya29\.sim-/);
      assert.deepEqual((sent.json as { systemInstruction: unknown }).systemInstruction, { parts: [{ text: 'Be brief.' }] });
      assert.ok(sim.tokensIssued - issuedBefore <= 1, 'one token serves many requests');
    });

    test('a streamed Gemini chat completion arrives chunk by chunk with a usage chunk', async () => {
      const stream = await client.chat.completions.create({ model: 'vertex-gemini', messages: [{ role: 'user', content: 'Stream this please' }], stream: true, stream_options: { include_usage: true } });
      const { text, chunks, usage } = await readChatStream(stream);
      assert.equal(text, 'Stream this please');
      assert.ok(chunks > 2);
      assert.ok(usage && usage.completion_tokens > 0);
      assert.match(sim.requests.at(-1)!.path, /:streamGenerateContent$/);
      assert.equal(sim.requests.at(-1)!.query.alt, 'sse');
    });

    test('Gemini tools: a function call comes back as tool_calls', async () => {
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
      const completion = await client.chat.completions.create({ model: 'vertex-gemini', messages: [{ role: 'user', content: 'please use tool for Paris' }], tools });
      assert.equal(completion.choices[0].finish_reason, 'tool_calls');
      const call = completion.choices[0].message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
    });

    test('a Claude chat completion goes to rawPredict with the Vertex anthropic_version and no model in the body', async () => {
      const completion = await client.chat.completions.create({ model: 'vertex-claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello Claude' }] });
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.content, 'Hello Claude');
      assert.equal(completion.choices[0].finish_reason, 'stop');
      const sent = sim.requests.at(-1)!;
      assert.equal(sent.path, `/v1/projects/${sim.project}/locations/us-central1/publishers/anthropic/models/${CLAUDE}:rawPredict`);
      const body = sent.json as Record<string, unknown>;
      assert.equal(body.anthropic_version, VERTEX_ANTHROPIC_VERSION);
      assert.equal(body.model, undefined);
      assert.equal(body.system, 'Be brief.');
    });

    test('Anthropic’s Messages API on Vertex’s Claude: passed through rawPredict and streamRawPredict with Vertex’s version, no model in the body', async () => {
      const anthropic = new Anthropic({ apiKey: MASTER_KEY, baseURL: portico.url, maxRetries: 0 });
      const message = await anthropic.messages.create({ model: 'vertex-claude', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello via Messages' }] });
      assert.equal(message.type, 'message');
      assert.equal((message.content[0] as { text: string }).text, 'Hello via Messages');
      const sent = sim.requests.at(-1)!;
      assert.match(sent.path, /publishers\/anthropic\/models\/[^/]+:rawPredict$/);
      const body = sent.json as Record<string, unknown>;
      assert.deepEqual([body.anthropic_version, body.model, body.system, body.max_tokens], [VERTEX_ANTHROPIC_VERSION, undefined, 'Be brief.', 100]);
      const stream = anthropic.messages.stream({ model: 'vertex-claude', max_tokens: 100, messages: [{ role: 'user', content: 'Stream via Messages' }] });
      const final = await stream.finalMessage();
      assert.equal((final.content[0] as { text: string }).text, 'Stream via Messages');
      assert.match(sim.requests.at(-1)!.path, /:streamRawPredict$/);
      assert.equal((sim.requests.at(-1)!.json as { stream: boolean }).stream, true);
    });

    test('a streamed Claude chat completion comes through streamRawPredict', async () => {
      const stream = await client.chat.completions.create({ model: 'vertex-claude', messages: [{ role: 'user', content: 'Stream Claude please' }], stream: true });
      let text = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        text += chunk.choices[0]?.delta?.content ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(text, 'Stream Claude please');
      assert.equal(finish, 'stop');
      assert.match(sim.requests.at(-1)!.path, /:streamRawPredict$/);
    });

    test('Claude tools: a tool_use block comes back as tool_calls', async () => {
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
      const completion = await client.chat.completions.create({ model: 'vertex-claude', messages: [{ role: 'user', content: 'please use tool for Rome' }], tools });
      assert.equal(completion.choices[0].finish_reason, 'tool_calls');
      assert.equal(completion.choices[0].message.tool_calls?.[0]?.type, 'function');
    });

    test('embeddings go through :predict, one vector per input', async () => {
      const result = await client.embeddings.create({ model: 'vertex-embed', input: ['one', 'two'], dimensions: 16 });
      assert.equal(result.data.length, 2);
      assert.equal(result.data[0].embedding.length, 16);
      assert.ok(result.usage.prompt_tokens > 0);
      assert.match(sim.requests.at(-1)!.path, /publishers\/google\/models\/text-embedding-005:predict$/);
    });

    test("errors keep their status in OpenAI's envelope, Gemini's and Claude's alike", async () => {
      for (const model of ['vertex-gemini', 'vertex-claude']) {
        await assert.rejects(client.chat.completions.create({ model, messages: [{ role: 'user', content: 'FAIL' }] }), (error: unknown) => {
          const e = error as { status?: number; error?: { type?: string } };
          assert.equal(e.status, 400, model);
          assert.equal(e.error?.type, 'invalid_request_error', model);
          return true;
        });
      }
    });

    test('upstream throttling (429 RESOURCE_EXHAUSTED) is absorbed by retries', async () => {
      const before = sim.requests.length;
      sim.failNext({ status: 429, count: 2, headers: { 'retry-after': '0' }, match: { path: /:generateContent$/ } });
      const completion = await client.chat.completions.create({ model: 'vertex-gemini', messages: [{ role: 'user', content: 'after the storm' }] });
      assert.equal(completion.choices[0].message.content, 'after the storm');
      assert.equal(sim.requests.length - before, 3, 'two throttled attempts, then the answer');
    });

    test('a token Google revokes early is replaced and the request goes through', async () => {
      sim.expireTokens();
      const rejected = sim.rejectedTokens;
      const completion = await client.chat.completions.create({ model: 'vertex-claude', messages: [{ role: 'user', content: 'after revocation' }] });
      assert.equal(completion.choices[0].message.content, 'after revocation');
      assert.equal(sim.rejectedTokens - rejected, 1, 'one refusal, then a fresh token');
    });

    test('an OpenAI batch runs as a Vertex batch prediction job staged in GCS: completed, the failed line in the error file, cost at batch prices once', async () => {
      const key = await portico.generateKey({ user_id: `vertex-payer-${dialect}` });
      const payer = portico.client(key.key);
      const texts = ['first', 'FAIL', 'third'];
      const file = await uploadBatchFile(payer, chatLines('vertex-gemini', { count: texts.length, text: (i) => texts[i], prefix: 'line with spaces & symbols' }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.match(created.id, GATEWAY_BATCH_ID);
      const job = lastJob(sim).resource as { inputConfig: { gcsSource: { uris: string[] } }; outputConfig: { gcsDestination: { outputUriPrefix: string } }; model: string };
      assert.equal(job.model, 'publishers/google/models/gemini-2.5-flash');
      const input = /^gs:\/\/([^/]+)\/(.+)$/.exec(job.inputConfig.gcsSource.uris[0])!;
      assert.equal(input[1], BUCKET);
      // Named after the gateway batch and its part: a staged object is traced to its batch.
      assert.match(input[2], new RegExp(`^staging/portico-batches/${created.id}-0-[0-9a-f]{8}/input\\.jsonl$`));
      assert.match(job.outputConfig.gcsDestination.outputUriPrefix, new RegExp(`^gs://${BUCKET}/staging/portico-batches/`));
      const staged = sim.storage.get(BUCKET, input[2])!.bytes.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { request: { contents: unknown[]; labels: Record<string, string> } });
      assert.deepEqual(staged.map((line) => line.request.labels.portico_custom_id), ['r0', 'r1', 'r2']);
      const done = await runToEnd(payer, sim, created.id);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      assert.match(done.output_file_id ?? '', GATEWAY_FILE_ID);
      assert.match(done.error_file_id ?? '', GATEWAY_FILE_ID);
      const { output } = await assertOneFailedLine(payer, done, { answered: 'line with spaces & symbols-0', content: 'first', failed: 'line with spaces & symbols-1' });
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['line with spaces & symbols-0', 'line with spaces & symbols-2']);
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * BATCH_INPUT_PRICE + usage.output_tokens * BATCH_OUTPUT_PRICE);
    });

    test("an embeddings batch on a text-embedding-005 deployment with a GCS bucket runs on Portico's engine: completed under our custom_ids, cost at half the price once", async () => {
      const key = await portico.generateKey({ user_id: `vertex-embed-payer-${dialect}` });
      const payer = portico.client(key.key);
      const jobs = sim.jobs.size;
      const predictsBefore = sim.requests.filter((r) => r.path.endsWith('/text-embedding-005:predict')).length;
      const file = await uploadBatchFile(payer, embeddingLines('vertex-embed-staged', { count: 3, prefix: 'embed line' }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/embeddings', completion_window: '24h' });
      assert.match(created.id, GATEWAY_BATCH_ID);
      const done = await waitForEnd(payer, created.id);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 3, failed: 0 });
      assert.equal(sim.jobs.size, jobs, 'no batch prediction job');
      assert.equal(sim.requests.filter((r) => r.path.endsWith('/text-embedding-005:predict')).length - predictsBefore, 3, 'one :predict per line');
      const { output, errors } = await resultLines(payer, done);
      assert.equal(errors.length, 0);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['embed line-0', 'embed line-1', 'embed line-2']);
      const first = output.find((l) => l.custom_id === 'embed line-0')!.response as { status_code: number; body: { object: string; data: Array<{ embedding: number[] }> } };
      assert.equal(first.status_code, 200);
      assert.equal(first.body.object, 'list');
      assert.ok(first.body.data[0].embedding.length > 0);
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0);
      await Promise.all(Array.from({ length: 4 }, () => payer.batches.retrieve(created.id)));
      await portico.jobs.poller.runOnce();
      const expected = (usage.input_tokens * EMBED_INPUT_PRICE) / 2;
      const info = (await (await portico.fetch(`/key/info?key=${key.key}`)).json()) as { info: { spend: number } };
      assert.ok(expected > 0 && Math.abs(info.info.spend - expected) < 1e-12, `spend ${info.info.spend} must be ${expected}`);
    });

    test('a cancelled batch ends cancelled, every line in the error file as batch_cancelled', async () => {
      const file = await uploadBatchFile(client, chatLines('vertex-gemini', { count: 3 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const cancelling = await client.batches.cancel(created.id);
      assert.ok(cancelling.status === 'cancelling' || cancelling.status === 'cancelled');
      assert.equal(lastJob(sim).resource.state, 'JOB_STATE_CANCELLING');
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'cancelled');
      const { output, errors } = await resultLines(client, done);
      assert.equal(output.length, 0);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
        ['request-0', 'batch_cancelled'],
        ['request-1', 'batch_cancelled'],
        ['request-2', 'batch_cancelled'],
      ]);
    });

    test('a batch Vertex expires ends expired, every line in the error file as batch_expired', async () => {
      const file = await uploadBatchFile(client, chatLines('vertex-gemini', { count: 2 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await sim.advanceBatches();
      sim.expireJob(lastJob(sim).id);
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'expired');
      const { errors } = await resultLines(client, done);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
        ['request-0', 'batch_expired'],
        ['request-1', 'batch_expired'],
      ]);
    });

    test('a Claude batch runs as a Vertex batch prediction job of publishers/anthropic: {custom_id, request} lines in GCS, completed with the failed line in the error file, cost at batch prices once', async () => {
      const key = await portico.generateKey({ user_id: `vertex-claude-payer-${dialect}` });
      const payer = portico.client(key.key);
      const texts = ['first', 'FAIL', 'third'];
      const file = await uploadBatchFile(payer, chatLines('vertex-claude', { count: texts.length, text: (i) => texts[i], prefix: 'claude line' }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.match(created.id, GATEWAY_BATCH_ID);
      const job = lastJob(sim).resource as { inputConfig: { gcsSource: { uris: string[] } }; outputConfig: { gcsDestination: { outputUriPrefix: string } }; model: string };
      assert.equal(job.model, `publishers/anthropic/models/${CLAUDE}`);
      const input = /^gs:\/\/([^/]+)\/(.+)$/.exec(job.inputConfig.gcsSource.uris[0])!;
      assert.equal(input[1], BUCKET);
      assert.match(input[2], new RegExp(`^claude-staging/portico-batches/${created.id}-0-[0-9a-f]{8}/input\\.jsonl$`));
      const staged = sim.storage.get(BUCKET, input[2])!.bytes.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { custom_id: string; request: Record<string, unknown> });
      assert.deepEqual(staged.map((line) => line.custom_id), ['r0', 'r1', 'r2']);
      assert.equal(staged[0].request.anthropic_version, VERTEX_ANTHROPIC_VERSION);
      assert.equal(staged[0].request.model, undefined, 'the job names the model, the body does not');
      const done = await runToEnd(payer, sim, created.id);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: 3, completed: 2, failed: 1 });
      const { output, errors } = await resultLines(payer, done);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['claude line-0', 'claude line-2']);
      const third = output.find((l) => l.custom_id === 'claude line-2')!.response as { status_code: number; request_id: string; body: { object: string; model: string; choices: Array<{ message: { content: string }; finish_reason: string }> } };
      assert.equal(third.status_code, 200);
      assert.match(third.request_id, /^msg_/);
      assert.equal(third.body.object, 'chat.completion');
      assert.equal(third.body.choices[0].message.content, 'third');
      assert.equal(third.body.choices[0].finish_reason, 'stop');
      assert.deepEqual(errors.map((l) => l.custom_id), ['claude line-1']);
      const failed = errors[0].response as { status_code: number; body: { error: { type: string } } };
      assert.equal(failed.status_code, 400);
      assert.equal(failed.body.error.type, 'invalid_request_error');
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * CLAUDE_BATCH_INPUT_PRICE + usage.output_tokens * CLAUDE_BATCH_OUTPUT_PRICE);
    });

    test('a cancelled Claude batch ends cancelled, every line in the error file as batch_cancelled under our custom_ids', async () => {
      const file = await uploadBatchFile(client, chatLines('vertex-claude', { count: 2 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.equal(lastJob(sim).resource.model, `publishers/anthropic/models/${CLAUDE}`);
      const cancelling = await client.batches.cancel(created.id);
      assert.ok(cancelling.status === 'cancelling' || cancelling.status === 'cancelled');
      assert.equal(lastJob(sim).resource.state, 'JOB_STATE_CANCELLING');
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'cancelled');
      const { output, errors } = await resultLines(client, done);
      assert.equal(output.length, 0);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
        ['request-0', 'batch_cancelled'],
        ['request-1', 'batch_cancelled'],
      ]);
    });

    test('a Claude batch Vertex expires ends expired, every line in the error file as batch_expired', async () => {
      const file = await uploadBatchFile(client, chatLines('vertex-claude', { count: 2, prefix: 'claude-expiring' }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await sim.advanceBatches();
      sim.expireJob(lastJob(sim).id);
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'expired');
      const { errors } = await resultLines(client, done);
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
        ['claude-expiring-0', 'batch_expired'],
        ['claude-expiring-1', 'batch_expired'],
      ]);
    });

    test("with a quota of one running job, a second batch's create answered 429 RESOURCE_EXHAUSTED waits for a slot; both complete under our custom_ids", async () => {
      assert.equal(liveJobs(sim), 0, 'no job of an earlier test still runs');
      sim.setJobQuota(1);
      try {
        const refusals = sim.quotaRefusals;
        const jobsBefore = sim.jobs.size;
        const first = await client.batches.create({ input_file_id: (await uploadBatchFile(client, chatLines('vertex-gemini', { count: 2, prefix: 'quota-first' }))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const second = await client.batches.create({ input_file_id: (await uploadBatchFile(client, chatLines('vertex-claude', { count: 2, prefix: 'quota-second' }))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        assert.equal(second.status, 'validating');
        assert.equal(sim.quotaRefusals - refusals, 1, "the second job's create was refused for the quota");
        assert.equal(sim.jobs.size - jobsBefore, 1, 'one job runs');
        assert.match(String(second.metadata?.portico_translation_warnings ?? ''), /quota of concurrent batch prediction jobs/);
        const firstDone = await runToEnd(client, sim, first.id);
        assert.equal(firstDone.status, 'completed');
        // Its create is tried again once its backoff (1 s, then 2 s, ...) has passed.
        const secondDone = await runToEnd(client, sim, second.id, 40, 250);
        assert.deepEqual(validateOpenAI('Batch', secondDone), []);
        assert.equal(secondDone.status, 'completed');
        assert.deepEqual(secondDone.request_counts, { total: 2, completed: 2, failed: 0 });
        assert.equal(sim.jobs.size - jobsBefore, 2, "the second batch's job was created once, after the first ended");
        assert.equal(lastJob(sim).resource.model, `publishers/anthropic/models/${CLAUDE}`);
        const { output } = await resultLines(client, secondDone);
        assert.deepEqual(output.map((l) => l.custom_id).sort(), ['quota-second-0', 'quota-second-1']);
        assert.ok((secondDone.usage?.input_tokens ?? 0) > 0);
      } finally {
        sim.setJobQuota(undefined);
      }
    });

    test('a batch cancelled while it waits for a job slot ends cancelled, every line batch_cancelled, and no job is created for it later', async () => {
      assert.equal(liveJobs(sim), 0, 'no job of an earlier test still runs');
      sim.setJobQuota(1);
      try {
        const running = await client.batches.create({ input_file_id: (await uploadBatchFile(client, chatLines('vertex-gemini', { count: 1, prefix: 'slot-holder' }))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const waiting = await client.batches.create({ input_file_id: (await uploadBatchFile(client, chatLines('vertex-gemini', { count: 2, prefix: 'waiting' }))).id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const jobsBefore = sim.jobs.size;
        const cancelling = await client.batches.cancel(waiting.id);
        assert.ok(cancelling.status === 'cancelling' || cancelling.status === 'cancelled');
        assert.equal((await runToEnd(client, sim, running.id)).status, 'completed');
        const done = await runToEnd(client, sim, waiting.id, 40, 250);
        assert.equal(done.status, 'cancelled');
        const { output, errors } = await resultLines(client, done);
        assert.equal(output.length, 0);
        assert.deepEqual(errors.map((l) => [l.custom_id, (l.error as { code: string }).code]).sort(), [
          ['waiting-0', 'batch_cancelled'],
          ['waiting-1', 'batch_cancelled'],
        ]);
        await portico.jobs.poller.runOnce();
        assert.equal(sim.jobs.size, jobsBefore, 'no job for the cancelled batch, though a slot is free');
      } finally {
        sim.setJobQuota(undefined);
      }
    });

    test('a batch whose job create Vertex AI refuses twice (429 RESOURCE_EXHAUSTED) waits in validating, then completes after the backoff', async () => {
      const jobsBefore = sim.jobs.size;
      const { done } = await runRefusedToEnd(client, sim, chatLines('vertex-gemini', { count: 2, prefix: 'refused at first' }), 2);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.equal(sim.jobs.size - jobsBefore, 1, 'one job, created once');
      assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
      const { output } = await resultLines(client, done);
      assert.deepEqual(output.map((l) => l.custom_id).sort(), ['refused at first-0', 'refused at first-1']);
      assert.ok((done.usage?.input_tokens ?? 0) > 0);
    });

    test("a batch Vertex AI refuses until its completion window ends is expired, Google's 429 message in its errors, every line batch_expired", async () => {
      const jobsBefore = sim.jobs.size;
      const done = await expireRefused(portico, client, sim, chatLines('vertex-gemini', { count: 2, prefix: 'never taken' }), { upstream: 'Vertex AI', refusal: /Quota exceeded for aiplatform.googleapis.com\/concurrent_batch_prediction_jobs/, customIds: ['never taken-0', 'never taken-1'] });
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(sim.jobs.size, jobsBefore, 'no job was ever created');
    });

    test("a refused job create's backoff is kept in the database: another instance goes on with it, and a restarted one expires the batch at its expires_at with Google's 429 message", async () => {
      const database = await createTestDatabase(dialect);
      const jobsBefore = sim.jobs.size;
      const yaml = config(sim, join(dir, 'service-account.json'), join(dir, 'files'));
      try {
        const start = () => startPortico(yaml, { databaseUrl: database.url, env: { ...process.env, VERTEX_E2E_CREDENTIALS: JSON.stringify(sim.serviceAccountKey()) } });
        const done = await refusedAcrossInstances(start, sim, chatLines('vertex-gemini', { count: 2, prefix: 'across' }), { upstream: 'Vertex AI', refusal: /Quota exceeded for aiplatform.googleapis.com\/concurrent_batch_prediction_jobs/, customIds: ['across-0', 'across-1'] });
        assert.deepEqual(validateOpenAI('Batch', done), []);
        assert.equal(sim.jobs.size, jobsBefore, 'no job was ever created');
      } finally {
        await database.dispose();
      }
    });

    test('credentials refreshed mid-batch: short-lived tokens are renewed before they lapse, a revoked one after a 401', async () => {
      sim.setTokenLifetime(2);
      sim.expireTokens(); // the hour-long token in the cache is gone; the next ones live 2 s
      try {
        const file = await uploadBatchFile(client, chatLines('vertex-gemini', { count: 2 }));
        const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        const issued = sim.tokensIssued;
        const rejected = sim.rejectedTokens;
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        await sim.advanceBatches();
        // A retrieve refreshes the batch only when no other sync (the instance's poller) holds it:
        // look until the job's new state shows.
        let status = (await client.batches.retrieve(created.id)).status;
        for (let i = 0; i < 100 && status === 'validating'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          status = (await client.batches.retrieve(created.id)).status;
        }
        assert.equal(status, 'in_progress');
        assert.ok(sim.tokensIssued > issued, 'a new token once the short-lived one neared its end');
        assert.equal(sim.rejectedTokens, rejected, 'renewed before Google refused it');
        sim.expireTokens();
        const done = await runToEnd(client, sim, created.id);
        assert.equal(done.status, 'completed');
        assert.deepEqual(done.request_counts, { total: 2, completed: 2, failed: 0 });
        assert.ok(sim.rejectedTokens > rejected, 'the revoked token was refused once and replaced');
      } finally {
        sim.setTokenLifetime(3600);
      }
    });
  });
}
