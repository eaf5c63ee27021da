/**
 * Issue 11's Bedrock scenarios through Portico with the official `openai` SDK, against the Bedrock
 * simulator (SigV4-verifying runtime, control plane, STS) and a real S3 emulator (s3rver), on
 * SQLite and PostgreSQL: chat plain, streamed and with tools on Claude (an inference profile,
 * credentials from the AWS environment variables and an assumed role) and Nova (`converse/`, static
 * keys), Titan and Cohere embeddings, errors, throttling absorbed; OpenAI batches of 100+ lines run
 * as model invocation jobs staged in S3 that complete with a failed line in the error file (cost at
 * Bedrock's batch prices, once), are cancelled, or expire; a smaller batch runs on Portico's engine
 * with a warning; the assumed role's session expiring in the middle of a batch is renewed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { startS3Emulator, type S3Emulator } from '../../helpers/object-storage.ts';
import { validateOpenAI } from '../../helpers/openai-schemas.ts';
import { readChatStream } from '../../helpers/chat-streams.ts';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { BEDROCK_BATCH_ROLE, BEDROCK_SIMULATOR_ROLE, startBedrockSimulator, type BedrockSimulator } from '../../simulators/bedrock-simulator.ts';
import { GATEWAY_BATCH_ID, GATEWAY_FILE_ID, chatLines, uploadBatchFile } from '../managed/managed-fixtures.ts';
import { createTestDatabase } from '../../helpers/databases.ts';
import { assertKeySpend, assertOneFailedLine, simulatedBatchSettings, expireRefused, refusedAcrossInstances, resultLines, runRefusedToEnd, runToEnd, waitForEnd } from '../../helpers/simulated-batches.ts';

const MASTER_KEY = 'sk-bedrock-e2e-master-0123456789';
const CLAUDE = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
/** bedrock/us.anthropic.claude-3-5-sonnet-20241022-v2:0's batch prices (half of on-demand, docs/specs/bedrock.md §Pricing), per token. */
const BATCH_INPUT_PRICE = 1.5e-6;
const BATCH_OUTPUT_PRICE = 7.5e-6;
const NATIVE_LINES = 100;

function config(sim: BedrockSimulator, s3: S3Emulator, storage: string): string {
  const endpoints = `      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: ${sim.url}
      aws_bedrock_endpoint: ${sim.url}`;
  return `
model_list:
  - model_name: bedrock-claude
    litellm_params:
      model: bedrock/${CLAUDE}
${endpoints}
      aws_role_name: ${BEDROCK_SIMULATOR_ROLE}
      aws_session_name: portico-e2e
      aws_sts_endpoint: ${sim.url}
      s3_bucket_name: ${s3.bucket}/staging
      s3_endpoint_url: ${s3.endpoint}
      s3_access_key_id: os.environ/BEDROCK_E2E_S3_KEY
      s3_secret_access_key: os.environ/BEDROCK_E2E_S3_SECRET
      aws_batch_role_arn: ${BEDROCK_BATCH_ROLE}
  - model_name: bedrock-nova
    litellm_params:
      model: bedrock/converse/amazon.nova-pro-v1:0
${endpoints}
      aws_access_key_id: os.environ/BEDROCK_E2E_KEY
      aws_secret_access_key: os.environ/BEDROCK_E2E_SECRET
      s3_bucket_name: ${s3.bucket}
      s3_endpoint_url: ${s3.endpoint}
      s3_access_key_id: os.environ/BEDROCK_E2E_S3_KEY
      s3_secret_access_key: os.environ/BEDROCK_E2E_S3_SECRET
      aws_batch_role_arn: ${BEDROCK_BATCH_ROLE}
  - model_name: bedrock-session
    litellm_params:
      model: bedrock/anthropic.claude-3-haiku-20240307-v1:0
${endpoints}
      aws_access_key_id: os.environ/BEDROCK_E2E_SESSION_KEY
      aws_secret_access_key: os.environ/BEDROCK_E2E_SESSION_SECRET
      aws_session_token: os.environ/BEDROCK_E2E_SESSION_TOKEN
  - model_name: bedrock-titan
    litellm_params:
      model: bedrock/amazon.titan-embed-text-v2:0
${endpoints}
      aws_access_key_id: os.environ/BEDROCK_E2E_KEY
      aws_secret_access_key: os.environ/BEDROCK_E2E_SECRET
  - model_name: bedrock-cohere
    litellm_params:
      model: bedrock/cohere.embed-english-v3
${endpoints}
      aws_access_key_id: os.environ/BEDROCK_E2E_KEY
      aws_secret_access_key: os.environ/BEDROCK_E2E_SECRET
${simulatedBatchSettings(MASTER_KEY, storage)}`;
}

function lastJob(sim: BedrockSimulator) {
  return [...sim.jobs.values()].at(-1)!;
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`Amazon Bedrock through Portico (${dialect})`, () => {
    let sim: BedrockSimulator;
    let s3emu: S3Emulator;
    let s3: S3Client;
    let portico: PorticoUnderTest;
    let client: OpenAI;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const savedEnv = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, token: process.env.AWS_SESSION_TOKEN };

    before(async () => {
      s3emu = await startS3Emulator(`bedrock-e2e-${dialect}`);
      sim = await startBedrockSimulator({ s3: s3emu });
      s3 = new S3Client({ region: 'us-east-1', endpoint: s3emu.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3emu.accessKeyId, secretAccessKey: s3emu.secretAccessKey } });
      dir = await mkdtemp(join(tmpdir(), 'portico-bedrock-'));
      // The Claude deployment names no keys: the AWS chain reads them from the environment, then assumes the role.
      const base = sim.iam.createAccessKey();
      process.env.AWS_ACCESS_KEY_ID = base.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = base.secretAccessKey;
      delete process.env.AWS_SESSION_TOKEN;
      const session = sim.iam.createSession(3600);
      env = {
        ...process.env,
        BEDROCK_E2E_KEY: sim.accessKey.accessKeyId,
        BEDROCK_E2E_SECRET: sim.accessKey.secretAccessKey,
        BEDROCK_E2E_SESSION_KEY: session.accessKeyId,
        BEDROCK_E2E_SESSION_SECRET: session.secretAccessKey,
        BEDROCK_E2E_SESSION_TOKEN: session.sessionToken,
        BEDROCK_E2E_S3_KEY: s3emu.accessKeyId,
        BEDROCK_E2E_S3_SECRET: s3emu.secretAccessKey,
      };
      portico = await startPortico(config(sim, s3emu, join(dir, 'files')), { dialect, env });
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await sim?.close();
      s3?.destroy();
      await s3emu?.close();
      await rm(dir, { recursive: true, force: true });
      for (const [name, value] of [['AWS_ACCESS_KEY_ID', savedEnv.id], ['AWS_SECRET_ACCESS_KEY', savedEnv.secret], ['AWS_SESSION_TOKEN', savedEnv.token]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    });

    test('a Claude chat completion goes to Converse on the inference profile, SigV4-signed by an assumed role', async () => {
      const assumed = sim.iam.assumeRoleCalls;
      for (let i = 0; i < 3; i += 1) {
        const completion = await client.chat.completions.create({ model: 'bedrock-claude', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `Hello Bedrock ${i}` }], max_tokens: 100, temperature: 0.5, stop: ['NEVER'] });
        assert.equal(completion.object, 'chat.completion');
        assert.equal(completion.choices[0].message.content, `Hello Bedrock ${i}`);
        assert.equal(completion.choices[0].finish_reason, 'stop');
        assert.ok(completion.usage && completion.usage.prompt_tokens > 0 && completion.usage.completion_tokens > 0);
      }
      const sent = sim.requests.at(-1)!;
      assert.equal(sent.path, `/model/${encodeURIComponent(CLAUDE)}/converse`);
      assert.match(String(sent.headers.authorization), /^AWS4-HMAC-SHA256 Credential=ASIA[0-9A-F]+\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/);
      assert.ok(sent.headers['x-amz-security-token']);
      const body = sent.json as Record<string, unknown>;
      assert.deepEqual(body.system, [{ text: 'Be brief.' }]);
      assert.deepEqual(body.inferenceConfig, { maxTokens: 100, temperature: 0.5, stopSequences: ['NEVER'] });
      assert.equal(sim.iam.assumeRoleCalls - assumed, assumed === 0 ? 1 : 0, 'one AssumeRole serves many requests');
    });

    test('a streamed chat completion arrives chunk by chunk from the event stream, with a usage chunk', async () => {
      const stream = await client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'Stream this please' }], stream: true, stream_options: { include_usage: true } });
      const { text, chunks, finish, usage } = await readChatStream(stream);
      assert.equal(text, 'Stream this please');
      assert.equal(finish, 'stop');
      assert.ok(chunks > 3);
      assert.ok(usage && usage.completion_tokens > 0 && usage.prompt_tokens > 0);
      assert.equal(sim.requests.at(-1)!.path, `/model/${encodeURIComponent('amazon.nova-pro-v1:0')}/converse-stream`);
      assert.match(String(sim.requests.at(-1)!.headers.authorization), new RegExp(`Credential=${sim.accessKey.accessKeyId}/`));
    });

    test('Anthropic’s Messages API on Bedrock’s Claude: passed through InvokeModel (its version, no model), streamed through invoke-with-response-stream', async () => {
      const anthropic = new Anthropic({ apiKey: MASTER_KEY, baseURL: portico.url, maxRetries: 0 });
      const message = await anthropic.messages.create(
        { model: 'bedrock-claude', max_tokens: 100, system: 'Be brief.', messages: [{ role: 'user', content: 'Hello Bedrock Messages' }], metadata: { user_id: 'u1' } },
        { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } },
      );
      assert.equal((message.content[0] as { text: string }).text, 'Hello Bedrock Messages');
      const sent = sim.requests.at(-1)!;
      assert.equal(sent.path, `/model/${encodeURIComponent(CLAUDE)}/invoke`);
      const body = sent.json as Record<string, unknown>;
      assert.deepEqual([body.anthropic_version, body.model, body.metadata, body.system], ['bedrock-2023-05-31', undefined, undefined, 'Be brief.']);
      assert.deepEqual(body.anthropic_beta, ['interleaved-thinking-2025-05-14']);
      const stream = anthropic.messages.stream({ model: 'bedrock-claude', max_tokens: 100, messages: [{ role: 'user', content: 'Stream Bedrock Messages' }] });
      const types: string[] = [];
      stream.on('streamEvent', (event) => void types.push(event.type));
      const final = await stream.finalMessage();
      assert.equal((final.content[0] as { text: string }).text, 'Stream Bedrock Messages');
      assert.equal(sim.requests.at(-1)!.path, `/model/${encodeURIComponent(CLAUDE)}/invoke-with-response-stream`);
      assert.deepEqual([types[0], types.at(-1)], ['message_start', 'message_stop']);
      assert.ok(final.usage.output_tokens > 0);
    });

    test('tools: a toolUse comes back as tool_calls, streamed too, and the tool result goes back as toolResult', async () => {
      const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
      const completion = await client.chat.completions.create({ model: 'bedrock-claude', messages: [{ role: 'user', content: 'please use tool for Paris' }], tools, tool_choice: 'auto' });
      assert.equal(completion.choices[0].finish_reason, 'tool_calls');
      const call = completion.choices[0].message.tool_calls?.[0];
      assert.ok(call && call.type === 'function');
      assert.equal(call.function.name, 'get_weather');
      assert.deepEqual(JSON.parse(call.function.arguments), { city: 'please use tool for Paris' });
      assert.deepEqual((sim.requests.at(-1)!.json as { toolConfig: unknown }).toolConfig, {
        tools: [{ toolSpec: { name: 'get_weather', description: 'Weather', inputSchema: { json: (tools[0] as OpenAI.Chat.Completions.ChatCompletionFunctionTool).function.parameters } } }],
        toolChoice: { auto: {} },
      });
      const followUp = await client.chat.completions.create({
        model: 'bedrock-claude',
        messages: [{ role: 'user', content: 'please use tool for Paris' }, completion.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' }],
        tools,
      });
      assert.equal(followUp.choices[0].message.content, 'sunny, 21C');
      const stream = await client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'use tool now' }], tools, tool_choice: { type: 'function', function: { name: 'get_weather' } }, stream: true });
      let name = '';
      let args = '';
      let finish: string | null = null;
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta?.tool_calls?.[0];
        name += delta?.function?.name ?? '';
        args += delta?.function?.arguments ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(name, 'get_weather');
      assert.deepEqual(JSON.parse(args), { city: 'use tool now' });
      assert.equal(finish, 'tool_calls');
    });

    test('static session credentials (aws_session_token) sign with x-amz-security-token; an image goes as bytes', async () => {
      const png = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
      const completion = await client.chat.completions.create({
        model: 'bedrock-session',
        messages: [{ role: 'user', content: [{ type: 'text', text: 'describe this' }, { type: 'image_url', image_url: { url: `data:image/png;base64,${png}` } }] }],
      });
      assert.equal(completion.choices[0].message.content, 'describe this');
      const sent = sim.requests.at(-1)!;
      assert.match(String(sent.headers.authorization), /Credential=ASIA/);
      assert.ok(sent.headers['x-amz-security-token']);
      assert.deepEqual((sent.json as { messages: Array<{ content: unknown[] }> }).messages[0].content[1], { image: { format: 'png', source: { bytes: png } } });
      await assert.rejects(
        client.chat.completions.create({ model: 'bedrock-session', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/cat.png' } }] }] }),
        (error: unknown) => (error as { status?: number }).status === 400,
      );
    });

    test('embeddings: Titan one request per input, Cohere one request for all; token counts summed', async () => {
      const before = sim.requests.length;
      const titan = await client.embeddings.create({ model: 'bedrock-titan', input: ['one', 'two two'], dimensions: 256 });
      assert.equal(titan.data.length, 2);
      assert.equal(titan.data[1].embedding.length, 256);
      assert.equal(titan.usage.prompt_tokens, 1 + 2);
      assert.equal(sim.requests.length - before, 2);
      const cohere = await client.embeddings.create({ model: 'bedrock-cohere', input: ['a', 'b', 'c'] });
      assert.equal(cohere.data.length, 3);
      assert.ok(cohere.usage.prompt_tokens > 0);
      assert.deepEqual(sim.requests.at(-1)!.json, { texts: ['a', 'b', 'c'], input_type: 'search_document' });
    });

    test("errors keep their meaning in OpenAI's envelope: ValidationException 400, AccessDenied 403, a guardrail is content_filter", async () => {
      await assert.rejects(client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'FAIL' }] }), (error: unknown) => {
        const e = error as { status?: number; error?: { type?: string } };
        assert.equal(e.status, 400);
        assert.equal(e.error?.type, 'invalid_request_error');
        return true;
      });
      await assert.rejects(client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'FAIL:403' }] }), (error: unknown) => (error as { status?: number }).status === 403);
      await assert.rejects(client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'hi' }], n: 2 }), (error: unknown) => (error as { status?: number }).status === 400);
      const filtered = await client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'GUARDRAIL' }] });
      assert.equal(filtered.choices[0].finish_reason, 'content_filter');
    });

    test('upstream throttling (ThrottlingException 429) is absorbed by retries', async () => {
      const before = sim.requests.length;
      sim.failNext({ status: 429, count: 2, headers: { 'retry-after': '0' }, match: { path: /\/converse$/ } });
      const completion = await client.chat.completions.create({ model: 'bedrock-nova', messages: [{ role: 'user', content: 'after the storm' }] });
      assert.equal(completion.choices[0].message.content, 'after the storm');
      assert.equal(sim.requests.length - before, 3, 'two throttled attempts, then the answer');
    });

    test('an OpenAI batch of 100 lines runs as a model invocation job staged in S3: completed, the failed line in the error file, cost at batch prices once', async () => {
      const key = await portico.generateKey({ user_id: `bedrock-payer-${dialect}` });
      const payer = portico.client(key.key);
      const file = await uploadBatchFile(payer, chatLines('bedrock-claude', { count: NATIVE_LINES, text: (i) => (i === 1 ? 'FAIL' : `line ${i}`), prefix: 'q & a' }));
      const created = await payer.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.match(created.id, GATEWAY_BATCH_ID);
      const job = lastJob(sim).resource as { modelId: string; roleArn: string; inputDataConfig: { s3InputDataConfig: { s3Uri: string } }; outputDataConfig: { s3OutputDataConfig: { s3Uri: string } } };
      assert.equal(job.modelId, CLAUDE);
      assert.equal(job.roleArn, BEDROCK_BATCH_ROLE);
      const input = /^s3:\/\/([^/]+)\/(.+)$/.exec(job.inputDataConfig.s3InputDataConfig.s3Uri)!;
      assert.equal(input[1], s3emu.bucket);
      assert.equal(input[2], `staging/portico-batches/${created.id}/part-0.jsonl`);
      assert.equal(job.outputDataConfig.s3OutputDataConfig.s3Uri, `s3://${s3emu.bucket}/staging/portico-batches/${created.id}/part-0-output/`);
      const staged = (await (await s3.send(new GetObjectCommand({ Bucket: input[1], Key: input[2] }))).Body!.transformToString()).trim().split('\n').map((line) => JSON.parse(line) as { recordId: string; modelInput: Record<string, unknown> });
      assert.equal(staged.length, NATIVE_LINES);
      assert.equal(staged[12].recordId, 'r0000000012');
      assert.deepEqual(staged[0].modelInput, { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: [{ type: 'text', text: 'line 0' }] }], max_tokens: 20 });
      const done = await runToEnd(payer, sim, created.id);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: NATIVE_LINES, completed: NATIVE_LINES - 1, failed: 1 });
      assert.match(done.output_file_id ?? '', GATEWAY_FILE_ID);
      assert.match(done.error_file_id ?? '', GATEWAY_FILE_ID);
      const { output } = await assertOneFailedLine(payer, done, { answered: 'q & a-0', content: 'line 0', failed: 'q & a-1' });
      assert.equal(output.length, NATIVE_LINES - 1);
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * BATCH_INPUT_PRICE + usage.output_tokens * BATCH_OUTPUT_PRICE);
    });

    test('a Nova batch runs as a Converse job: Converse requests staged, Converse responses mapped back', async () => {
      const file = await uploadBatchFile(client, chatLines('bedrock-nova', { count: NATIVE_LINES, text: (i) => (i === 3 ? 'FAIL:429' : `nova ${i}`) }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const job = lastJob(sim).resource as { modelId: string; modelInvocationType: string; inputDataConfig: { s3InputDataConfig: { s3Uri: string } } };
      assert.equal(job.modelId, 'amazon.nova-pro-v1:0');
      assert.equal(job.modelInvocationType, 'Converse');
      const input = /^s3:\/\/([^/]+)\/(.+)$/.exec(job.inputDataConfig.s3InputDataConfig.s3Uri)!;
      assert.equal(input[2], `portico-batches/${created.id}/part-0.jsonl`);
      const first = JSON.parse((await (await s3.send(new GetObjectCommand({ Bucket: input[1], Key: input[2] }))).Body!.transformToString()).split('\n')[0]) as { modelInput: unknown };
      assert.deepEqual(first.modelInput, { messages: [{ role: 'user', content: [{ text: 'nova 0' }] }], inferenceConfig: { maxTokens: 20 } });
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.request_counts, { total: NATIVE_LINES, completed: NATIVE_LINES - 1, failed: 1 });
      const { output, errors } = await resultLines(client, done);
      const answer = output.find((l) => l.custom_id === 'request-5')!.response as { body: { choices: Array<{ message: { content: string } }> } };
      assert.equal(answer.body.choices[0].message.content, 'nova 5');
      assert.deepEqual(errors.map((l) => [l.custom_id, (l.response as { status_code: number }).status_code]), [['request-3', 429]]);
    });

    test('a batch below Bedrock\'s 100-record minimum runs on Portico\'s engine, with a warning in its metadata', async () => {
      const jobs = sim.jobs.size;
      const file = await uploadBatchFile(client, chatLines('bedrock-claude', { count: 3 }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      assert.match(String(created.metadata?.portico_translation_warnings ?? ''), /at least 100 requests per batch; these 3 ran on Portico's own engine/);
      const batch = await waitForEnd(client, created.id);
      assert.equal(batch.status, 'completed');
      assert.deepEqual(batch.request_counts, { total: 3, completed: 3, failed: 0 });
      assert.equal(sim.jobs.size, jobs, 'no model invocation job');
      const { output } = await resultLines(client, batch);
      assert.deepEqual(output.map((l) => (l.response as { body: { choices: Array<{ message: { content: string } }> } }).body.choices[0].message.content).sort(), ['question 0', 'question 1', 'question 2']);
    });

    test('a cancelled batch ends cancelled, every line in the error file as batch_cancelled', async () => {
      const file = await uploadBatchFile(client, chatLines('bedrock-claude', { count: NATIVE_LINES }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      const cancelling = await client.batches.cancel(created.id);
      assert.ok(cancelling.status === 'cancelling' || cancelling.status === 'cancelled');
      assert.equal(lastJob(sim).resource.status, 'Stopping');
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'cancelled');
      const { output, errors } = await resultLines(client, done);
      assert.equal(output.length, 0);
      assert.equal(errors.length, NATIVE_LINES);
      assert.ok(errors.every((l) => (l.error as { code: string }).code === 'batch_cancelled'));
    });

    test('a batch Bedrock expires ends expired, every line in the error file as batch_expired', async () => {
      const file = await uploadBatchFile(client, chatLines('bedrock-claude', { count: NATIVE_LINES }));
      const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      await sim.advanceBatches();
      sim.expireJob(lastJob(sim).id);
      const done = await runToEnd(client, sim, created.id);
      assert.equal(done.status, 'expired');
      const { errors } = await resultLines(client, done);
      assert.equal(errors.length, NATIVE_LINES);
      assert.ok(errors.every((l) => (l.error as { code: string }).code === 'batch_expired'));
    });

    test('a batch whose job create Bedrock throttles twice (ThrottlingException) waits in validating, then completes after the backoff, cost at batch prices once', async () => {
      const key = await portico.generateKey({ user_id: `bedrock-throttled-payer-${dialect}` });
      const payer = portico.client(key.key);
      const jobsBefore = sim.jobs.size;
      const { created, done } = await runRefusedToEnd(payer, sim, chatLines('bedrock-claude', { count: NATIVE_LINES, prefix: 'throttled' }), 2);
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(done.status, 'completed');
      assert.equal(sim.jobs.size - jobsBefore, 1, 'one job, created once');
      const job = lastJob(sim).resource as { inputDataConfig: { s3InputDataConfig: { s3Uri: string } } };
      assert.equal(job.inputDataConfig.s3InputDataConfig.s3Uri, `s3://${s3emu.bucket}/staging/portico-batches/${created.id}/part-0.jsonl`);
      assert.deepEqual(done.request_counts, { total: NATIVE_LINES, completed: NATIVE_LINES, failed: 0 });
      const { output, errors } = await resultLines(payer, done);
      assert.equal(errors.length, 0);
      assert.equal(output.length, NATIVE_LINES);
      assert.ok(output.some((l) => l.custom_id === 'throttled-0'));
      const usage = done.usage!;
      assert.ok(usage.input_tokens > 0 && usage.output_tokens > 0);
      await assertKeySpend(portico, payer, key.key, created.id, usage.input_tokens * BATCH_INPUT_PRICE + usage.output_tokens * BATCH_OUTPUT_PRICE);
    });

    test("a batch Bedrock throttles until its completion window ends is expired, Bedrock's ThrottlingException message in its errors, every line batch_expired", async () => {
      const jobsBefore = sim.jobs.size;
      const done = await expireRefused(portico, client, sim, chatLines('bedrock-claude', { count: NATIVE_LINES, prefix: 'never run' }), {
        upstream: 'Amazon Bedrock',
        refusal: /Too many requests/,
        customIds: Array.from({ length: NATIVE_LINES }, (_, i) => `never run-${i}`),
      });
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(sim.jobs.size, jobsBefore, 'no job was ever created');
    });

    /** Runs `work` with instances of Portico on one fresh database (`start` starts one more), the suite's config. */
    async function onSharedDatabase<T>(work: (start: () => Promise<PorticoUnderTest>) => Promise<T>): Promise<T> {
      const database = await createTestDatabase(dialect);
      const yaml = config(sim, s3emu, join(dir, 'files'));
      try {
        return await work(() => startPortico(yaml, { databaseUrl: database.url, env }));
      } finally {
        await database.dispose();
      }
    }

    test("a throttled job create's backoff is kept in the database: another instance goes on with it, and a restarted one expires the batch at its expires_at with Bedrock's message", async () => {
      const jobsBefore = sim.jobs.size;
      const done = await onSharedDatabase((start) =>
        refusedAcrossInstances(start, sim, chatLines('bedrock-claude', { count: NATIVE_LINES, prefix: 'across' }), {
          upstream: 'Amazon Bedrock',
          refusal: /Too many requests/,
          customIds: Array.from({ length: NATIVE_LINES }, (_, i) => `across-${i}`),
        }),
      );
      assert.deepEqual(validateOpenAI('Batch', done), []);
      assert.equal(sim.jobs.size, jobsBefore, 'no job was ever created');
    });

    test('a batch cancelled on one instance while another creates its throttled job: the job made after the cancel marker is stopped, the batch ends cancelled', async () => {
      await onSharedDatabase(async (start) => {
        const creator = await start();
        const canceller = await start();
        try {
          sim.refuseBatchCreates(1);
          const file = await uploadBatchFile(creator.client(), chatLines('bedrock-claude', { count: NATIVE_LINES, prefix: 'raced' }));
          const created = await creator.client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
          assert.equal(created.status, 'validating');
          const jobsBefore = sim.jobs.size;
          // The next create is slow: Bedrock makes the job 1.5 s after it was asked, while the cancel runs elsewhere.
          await new Promise((resolve) => setTimeout(resolve, 1_100));
          sim.slowNext({ ms: 1_500, match: { method: 'POST', path: /^\/model-invocation-job$/ } });
          const retrieving = creator.client().batches.retrieve(created.id);
          await new Promise((resolve) => setTimeout(resolve, 300));
          const cancelled = await canceller.client().batches.cancel(created.id);
          assert.ok(cancelled.status === 'cancelling' || cancelled.status === 'cancelled');
          assert.equal(sim.jobs.size, jobsBefore, 'the cancel came before the job existed');
          await retrieving;
          assert.equal(sim.jobs.size - jobsBefore, 1, 'the create under way made its job');
          assert.equal(lastJob(sim).resource.status, 'Stopping', 'and stopped it on seeing the cancel marker');
          const done = await runToEnd(canceller.client(), sim, created.id);
          assert.equal(done.status, 'cancelled');
          assert.equal(lastJob(sim).resource.status, 'Stopped');
          const { output, errors } = await resultLines(canceller.client(), done);
          assert.equal(output.length, 0);
          assert.equal(errors.length, NATIVE_LINES);
          assert.ok(errors.every((l) => (l.error as { code: string }).code === 'batch_cancelled'));
        } finally {
          sim.refuseBatchCreates(0);
          await Promise.all([creator.close(), canceller.close()]);
        }
      });
    });

    test('credentials refreshed mid-batch: the assumed role\'s short session is renewed before it lapses, one ended early after a 403', async () => {
      sim.iam.sessionLifetimeSeconds = 2;
      sim.iam.expireSessions(); // the hour-long session in the cache is refused now; the next ones live 2 s
      try {
        const file = await uploadBatchFile(client, chatLines('bedrock-claude', { count: NATIVE_LINES }));
        const rejectedBefore = sim.iam.rejected.length;
        const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
        // Refused, then replaced (the poller may have sent a request with it at the same moment: one refusal each).
        const refusals = sim.iam.rejected.slice(rejectedBefore);
        assert.ok(refusals.length >= 1 && refusals.length <= 2, `${refusals.length} refusals`);
        assert.ok(refusals.every((refusal) => refusal.reason === 'ExpiredTokenException'));
        const assumed = sim.iam.assumeRoleCalls;
        const rejected = sim.iam.rejected.length;
        await new Promise((resolve) => setTimeout(resolve, 2_100));
        await sim.advanceBatches();
        // A retrieve while the poller holds the batch's lease answers the stored state: look again until a refresh lands.
        let status = (await client.batches.retrieve(created.id)).status;
        for (let look = 0; look < 30 && status === 'validating'; look += 1) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          status = (await client.batches.retrieve(created.id)).status;
        }
        assert.equal(status, 'in_progress');
        assert.ok(sim.iam.assumeRoleCalls > assumed, 'a new session once the short-lived one neared its end');
        assert.equal(sim.iam.rejected.length, rejected, 'renewed before AWS refused it');
        const done = await runToEnd(client, sim, created.id);
        assert.equal(done.status, 'completed');
        assert.deepEqual(done.request_counts, { total: NATIVE_LINES, completed: NATIVE_LINES, failed: 0 });
      } finally {
        sim.iam.sessionLifetimeSeconds = 3600;
      }
    });
  });
}
