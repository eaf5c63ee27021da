/**
 * The Bedrock simulator answers AWS's own clients: `@aws-sdk/client-bedrock-runtime` (Converse,
 * ConverseStream decoded from its event-stream frames, InvokeModel for Titan and Cohere
 * embeddings, errors as the SDK's exception classes), `@aws-sdk/client-bedrock` (model invocation
 * jobs created, read, listed, stopped), `@aws-sdk/client-s3` on the s3rver the jobs read and write,
 * and STS AssumeRole through `@aws-sdk/credential-providers`' `fromTemporaryCredentials`. Every call
 * is SigV4-signed by the SDK and verified by the simulator; a wrong secret, an unknown key, an
 * expired session and a tampered body are refused with 403 as AWS refuses them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BedrockClient, CreateModelInvocationJobCommand, GetModelInvocationJobCommand, ListModelInvocationJobsCommand, StopModelInvocationJobCommand, ThrottlingException as ControlThrottlingException } from '@aws-sdk/client-bedrock';
import {
  AccessDeniedException,
  BedrockRuntimeClient,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
  InvokeModelWithResponseStreamCommand,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startS3Emulator, type S3Emulator } from '../helpers/object-storage.ts';
import { BEDROCK_BATCH_ROLE, BEDROCK_SIMULATOR_ROLE, startBedrockSimulator, type BedrockSimulator } from './bedrock-simulator.ts';
import { REDACTED_THINKING_TRIGGER } from './anthropic/thinking.ts';

const CLAUDE = 'us.anthropic.claude-3-5-sonnet-20241022-v2:0';
const NOVA = 'amazon.nova-pro-v1:0';

describe('Bedrock simulator, driven by the AWS SDK for JavaScript v3', () => {
  let s3emu: S3Emulator;
  let sim: BedrockSimulator;
  let runtime: BedrockRuntimeClient;
  let control: BedrockClient;
  let s3: S3Client;
  before(async () => {
    s3emu = await startS3Emulator('sdk-bedrock-bucket');
    sim = await startBedrockSimulator({ s3: s3emu });
    const common = { region: sim.region, endpoint: sim.url, credentials: sim.accessKey, maxAttempts: 1 };
    // The runtime client speaks HTTP/2 by default; Bedrock serves HTTP/1.1 too (the service model's `http`), as the simulator does.
    runtime = new BedrockRuntimeClient({ ...common, requestHandler: new NodeHttpHandler() });
    control = new BedrockClient(common);
    s3 = new S3Client({ region: sim.region, endpoint: s3emu.endpoint, forcePathStyle: true, credentials: { accessKeyId: s3emu.accessKeyId, secretAccessKey: s3emu.secretAccessKey } });
  });
  after(async () => {
    runtime?.destroy();
    control?.destroy();
    s3?.destroy();
    await sim?.close();
    await s3emu?.close();
  });

  it('Converse answers a signed request through an inference profile id (its ":" percent-encoded in the path)', async () => {
    const answer = await runtime.send(
      new ConverseCommand({
        modelId: CLAUDE,
        system: [{ text: 'Be brief.' }],
        messages: [{ role: 'user', content: [{ text: 'Hello Bedrock' }] }],
        inferenceConfig: { maxTokens: 100, temperature: 0.2 },
      }),
    );
    assert.deepEqual(answer.output?.message?.content, [{ text: 'Hello Bedrock' }]);
    assert.equal(answer.stopReason, 'end_turn');
    assert.ok((answer.usage?.inputTokens ?? 0) > 0 && (answer.usage?.outputTokens ?? 0) > 0);
    const sent = sim.requests.at(-1)!;
    assert.equal(sent.path, `/model/${encodeURIComponent(CLAUDE)}/converse`);
    assert.match(String(sent.headers.authorization), new RegExp(`^AWS4-HMAC-SHA256 Credential=${sim.accessKey.accessKeyId}/\\d{8}/us-east-1/bedrock/aws4_request`));
  });

  it('Converse calls a tool, takes its result back, and stops at maxTokens and stop sequences', async () => {
    const toolConfig = { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }] };
    const call = await runtime.send(new ConverseCommand({ modelId: NOVA, toolConfig, messages: [{ role: 'user', content: [{ text: 'Please use tool for Paris' }] }] }));
    assert.equal(call.stopReason, 'tool_use');
    const toolUse = call.output?.message?.content?.[0]?.toolUse;
    assert.equal(toolUse?.name, 'get_weather');
    assert.deepEqual(toolUse?.input, { city: 'Please use tool for Paris' });
    const after = await runtime.send(
      new ConverseCommand({
        modelId: NOVA,
        toolConfig,
        messages: [
          { role: 'user', content: [{ text: 'Please use tool for Paris' }] },
          { role: 'assistant', content: [{ toolUse }] },
          { role: 'user', content: [{ toolResult: { toolUseId: toolUse!.toolUseId, content: [{ text: 'sunny' }] } }] },
        ],
      }),
    );
    assert.deepEqual(after.output?.message?.content, [{ text: 'sunny' }]);
    const cut = await runtime.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'one two three four five six seven eight' }] }], inferenceConfig: { maxTokens: 2 } }));
    assert.equal(cut.stopReason, 'max_tokens');
    const stopped = await runtime.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'alpha STOP beta' }] }], inferenceConfig: { stopSequences: ['STOP'] } }));
    assert.equal(stopped.stopReason, 'stop_sequence');
  });

  it('ConverseStream arrives as event-stream frames the SDK decodes into its union events', async () => {
    const answer = await runtime.send(new ConverseStreamCommand({ modelId: CLAUDE, messages: [{ role: 'user', content: [{ text: 'Stream this reply please' }] }] }));
    const kinds: string[] = [];
    let text = '';
    let usage;
    for await (const event of answer.stream!) {
      kinds.push(Object.keys(event).filter((k) => k !== '$unknown')[0]);
      if (event.contentBlockDelta?.delta?.text) text += event.contentBlockDelta.delta.text;
      if (event.metadata) usage = event.metadata.usage;
    }
    assert.equal(text, 'Stream this reply please');
    assert.equal(kinds[0], 'messageStart');
    assert.deepEqual(kinds.slice(-3), ['contentBlockStop', 'messageStop', 'metadata']);
    assert.ok(kinds.filter((k) => k === 'contentBlockDelta').length > 1);
    assert.ok((usage?.outputTokens ?? 0) > 0);
    assert.equal(String(sim.requests.at(-1)!.headers['content-type'] ?? ''), 'application/json');
  });

  it("Claude's extended thinking: reasoningContent with a signature first (streamed as text then signature), sent back in a tool loop, checked, refused on other models", async () => {
    const thinking = { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } }, inferenceConfig: { maxTokens: 4096 } };
    const answer = await runtime.send(new ConverseCommand({ modelId: CLAUDE, messages: [{ role: 'user', content: [{ text: 'Think about it' }] }], ...thinking }));
    const [reasoning, text] = answer.output?.message?.content ?? [];
    assert.ok(reasoning?.reasoningContent?.reasoningText?.text && reasoning.reasoningContent.reasoningText.signature);
    assert.deepEqual(text, { text: 'Think about it' });

    const stream = await runtime.send(new ConverseStreamCommand({ modelId: CLAUDE, messages: [{ role: 'user', content: [{ text: 'Think about it' }] }], ...thinking }));
    let streamedThinking = '';
    const signatures: string[] = [];
    for await (const event of stream.stream!) {
      const delta = event.contentBlockDelta?.delta?.reasoningContent;
      if (delta?.text) streamedThinking += delta.text;
      if (delta?.signature) signatures.push(delta.signature);
    }
    assert.equal(streamedThinking, reasoning.reasoningContent.reasoningText.text);
    assert.deepEqual(signatures, [reasoning.reasoningContent.reasoningText.signature]);

    const toolConfig = { tools: [{ toolSpec: { name: 'get_weather', inputSchema: { json: { type: 'object', properties: { city: { type: 'string' } } } } } }] };
    const question = { role: 'user' as const, content: [{ text: 'Please use tool for Paris' }] };
    const call = await runtime.send(new ConverseCommand({ modelId: CLAUDE, toolConfig, messages: [question], ...thinking }));
    const [callThinking, callToolUse] = call.output!.message!.content!;
    assert.ok(callThinking.reasoningContent && callToolUse.toolUse);
    const toolResult = { role: 'user' as const, content: [{ toolResult: { toolUseId: callToolUse.toolUse.toolUseId, content: [{ text: 'sunny' }] } }] };
    const next = await runtime.send(new ConverseCommand({ modelId: CLAUDE, toolConfig, messages: [question, { role: 'assistant', content: [callThinking, callToolUse] }, toolResult], ...thinking }));
    assert.deepEqual(next.output?.message?.content?.at(-1), { text: 'sunny' });
    await assert.rejects(
      runtime.send(new ConverseCommand({ modelId: CLAUDE, toolConfig, messages: [question, { role: 'assistant', content: [callToolUse] }, toolResult], ...thinking })),
      (error: unknown) => error instanceof ValidationException && /Expected `thinking` or `redacted_thinking`/.test(error.message),
    );
    const changed = { reasoningContent: { reasoningText: { text: 'edited', signature: callThinking.reasoningContent.reasoningText!.signature } } };
    await assert.rejects(
      runtime.send(new ConverseCommand({ modelId: CLAUDE, toolConfig, messages: [question, { role: 'assistant', content: [changed, callToolUse] }, toolResult], ...thinking })),
      (error: unknown) => error instanceof ValidationException && /Invalid `signature`/.test(error.message),
    );
    await assert.rejects(
      runtime.send(new ConverseCommand({ modelId: NOVA, messages: [question], ...thinking })),
      (error: unknown) => error instanceof ValidationException && /extraneous key \[thinking\]/.test(error.message),
    );
  });

  it('redacted thinking arrives as reasoningContent bytes (base64 on the wire) and is accepted back', async () => {
    const thinking = { additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 2048 } }, inferenceConfig: { maxTokens: 4096 } };
    const question = { role: 'user' as const, content: [{ text: `${REDACTED_THINKING_TRIGGER} hello` }] };
    const answer = await runtime.send(new ConverseCommand({ modelId: CLAUDE, messages: [question], ...thinking }));
    const redacted = answer.output!.message!.content![0];
    assert.ok(redacted.reasoningContent?.redactedContent instanceof Uint8Array && redacted.reasoningContent.redactedContent.length > 0);
    const next = await runtime.send(new ConverseCommand({ modelId: CLAUDE, messages: [question, { role: 'assistant', content: answer.output!.message!.content! }, { role: 'user', content: [{ text: 'and then?' }] }], ...thinking }));
    assert.deepEqual(next.output?.message?.content?.at(-1), { text: 'and then?' });
  });

  it('a cachePoint block is written once and read after (cacheWriteInputTokens, cacheReadInputTokens)', async () => {
    const system = [{ text: 'A long shared system prompt. '.repeat(20) }, { cachePoint: { type: 'default' as const } }];
    const first = await runtime.send(new ConverseCommand({ modelId: CLAUDE, system, messages: [{ role: 'user', content: [{ text: 'first' }] }] }));
    const second = await runtime.send(new ConverseCommand({ modelId: CLAUDE, system, messages: [{ role: 'user', content: [{ text: 'second' }] }] }));
    assert.ok((first.usage?.cacheWriteInputTokens ?? 0) > 0);
    assert.equal(first.usage?.cacheReadInputTokens ?? 0, 0);
    assert.equal(second.usage?.cacheReadInputTokens, first.usage?.cacheWriteInputTokens);
  });

  it('InvokeModel embeds with Titan (one text) and Cohere (many texts), counting input tokens in a header', async () => {
    const titan = await runtime.send(new InvokeModelCommand({ modelId: 'amazon.titan-embed-text-v2:0', contentType: 'application/json', accept: 'application/json', body: JSON.stringify({ inputText: 'hello', dimensions: 256 }) }));
    const titanBody = JSON.parse(new TextDecoder().decode(titan.body)) as { embedding: number[]; inputTextTokenCount: number };
    assert.equal(titanBody.embedding.length, 256);
    assert.equal(titanBody.inputTextTokenCount, 2);
    const cohere = await runtime.send(new InvokeModelCommand({ modelId: 'cohere.embed-english-v3', contentType: 'application/json', body: JSON.stringify({ texts: ['a', 'b', 'c'], input_type: 'search_document' }) }));
    const cohereBody = JSON.parse(new TextDecoder().decode(cohere.body)) as { embeddings: number[][] };
    assert.equal(cohereBody.embeddings.length, 3);
    await assert.rejects(runtime.send(new InvokeModelCommand({ modelId: 'cohere.embed-english-v3', body: JSON.stringify({ texts: ['a'] }) })), ValidationException);
  });

  it('InvokeModelWithResponseStream streams Claude’s Anthropic events as chunks, which the SDK decodes; anthropic_beta is taken', async () => {
    const body = JSON.stringify({ anthropic_version: 'bedrock-2023-05-31', anthropic_beta: ['interleaved-thinking-2025-05-14'], max_tokens: 50, messages: [{ role: 'user', content: 'stream me' }] });
    const answer = await runtime.send(new InvokeModelWithResponseStreamCommand({ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', contentType: 'application/json', body }));
    const events: Array<{ type: string; delta?: { text?: string } }> = [];
    for await (const part of answer.body!) {
      if (part.chunk?.bytes !== undefined) events.push(JSON.parse(new TextDecoder().decode(part.chunk.bytes)));
    }
    assert.equal(events[0].type, 'message_start');
    assert.equal(events.at(-1)!.type, 'message_stop');
    assert.equal(events.filter((event) => event.type === 'content_block_delta').map((event) => event.delta?.text ?? '').join(''), 'stream me');
    await assert.rejects(runtime.send(new InvokeModelWithResponseStreamCommand({ modelId: 'anthropic.claude-3-haiku-20240307-v1:0', body: JSON.stringify({ max_tokens: 5, messages: [] }) })), ValidationException);
  });

  it('errors come back as the SDK exception classes: validation, throttling, the requested failure', async () => {
    await assert.rejects(runtime.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'assistant', content: [{ text: 'hi' }] }] })), (error: unknown) => {
      assert.ok(error instanceof ValidationException);
      assert.match(error.message, /must start with a user message/);
      assert.equal(error.$metadata.httpStatusCode, 400);
      return true;
    });
    await assert.rejects(runtime.send(new ConverseCommand({ modelId: 'no.such-model-v1:0', messages: [{ role: 'user', content: [{ text: 'hi' }] }] })), ValidationException);
    sim.failNext({ status: 429 });
    await assert.rejects(runtime.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'hi' }] }] })), ThrottlingException);
    await assert.rejects(runtime.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'FAIL:403' }] }] })), AccessDeniedException);
  });

  it('a wrong secret, an unknown key, an expired session and a tampered body are refused with 403', async () => {
    const call = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
      new BedrockRuntimeClient({ region: sim.region, endpoint: sim.url, credentials, maxAttempts: 1, requestHandler: new NodeHttpHandler() }).send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'hi' }] }] }));
    const refusedWith = (name: string) => (error: unknown) => {
      assert.equal((error as { name: string }).name, name);
      assert.equal((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode, 403);
      return true;
    };
    await assert.rejects(call({ ...sim.accessKey, secretAccessKey: 'wrong-secret' }), refusedWith('InvalidSignatureException'));
    await assert.rejects(call({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }), refusedWith('UnrecognizedClientException'));
    const session = sim.iam.createSession(1);
    await call(session);
    sim.iam.expireSessions();
    await assert.rejects(call(session), refusedWith('ExpiredTokenException'));
    const tampering = new BedrockRuntimeClient({ region: sim.region, endpoint: sim.url, credentials: sim.accessKey, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: string; headers: Record<string, string> };
        request.body = JSON.stringify({ messages: [{ role: 'user', content: [{ text: 'changed after signing' }] }] });
        request.headers['content-length'] = String(Buffer.byteLength(request.body));
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'tamperAfterSigning' },
    );
    await assert.rejects(tampering.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'original' }] }] })), refusedWith('InvalidSignatureException'));
  });

  it('STS AssumeRole issues session credentials the runtime accepts (fromTemporaryCredentials)', async () => {
    const before = sim.iam.assumeRoleCalls;
    const credentials = fromTemporaryCredentials({ masterCredentials: sim.accessKey, params: { RoleArn: BEDROCK_SIMULATOR_ROLE, RoleSessionName: 'sdk-test' }, clientConfig: { region: sim.region, endpoint: sim.url } });
    const assumed = await credentials();
    assert.match(assumed.accessKeyId, /^ASIA/);
    assert.ok(assumed.sessionToken && assumed.expiration && assumed.expiration.getTime() > Date.now());
    assert.equal(sim.iam.assumeRoleCalls, before + 1);
    const client = new BedrockRuntimeClient({ region: sim.region, endpoint: sim.url, credentials: assumed, maxAttempts: 1, requestHandler: new NodeHttpHandler() });
    const answer = await client.send(new ConverseCommand({ modelId: NOVA, messages: [{ role: 'user', content: [{ text: 'as a role' }] }] }));
    assert.deepEqual(answer.output?.message?.content, [{ text: 'as a role' }]);
    assert.equal(sim.requests.at(-1)!.headers['x-amz-security-token'], assumed.sessionToken);
  });

  it('a model invocation job reads its JSONL from S3, ends PartiallyCompleted, and writes .jsonl.out and the manifest', async () => {
    const records = Array.from({ length: 100 }, (_, i) => ({
      recordId: `REC${String(i).padStart(8, '0')}`,
      modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 50, messages: [{ role: 'user', content: i === 7 ? 'FAIL' : `line ${i}` }] },
    }));
    await s3.send(new PutObjectCommand({ Bucket: s3emu.bucket, Key: 'jobs/one/input.jsonl', Body: records.map((r) => JSON.stringify(r)).join('\n') }));
    const created = await control.send(
      new CreateModelInvocationJobCommand({
        jobName: 'sdk-job-one',
        roleArn: BEDROCK_BATCH_ROLE,
        modelId: CLAUDE,
        inputDataConfig: { s3InputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/one/input.jsonl`, s3InputFormat: 'JSONL' } },
        outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/one/output/` } },
        timeoutDurationInHours: 24,
      }),
    );
    const jobArn = created.jobArn!;
    assert.match(jobArn, /^arn:aws:bedrock:us-east-1:123456789012:model-invocation-job\/[a-z0-9]{12}$/);
    assert.equal((await control.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))).status, 'Submitted');
    await sim.advanceBatches();
    assert.equal((await control.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }))).status, 'InProgress');
    await sim.advanceBatches();
    const done = await control.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
    assert.equal(done.status, 'PartiallyCompleted');
    assert.ok(done.endTime instanceof Date);
    assert.equal(done.successRecordCount, 99);
    assert.equal(done.errorRecordCount, 1);
    const jobId = jobArn.slice(jobArn.lastIndexOf('/') + 1);
    const out = await s3.send(new GetObjectCommand({ Bucket: s3emu.bucket, Key: `jobs/one/output/${jobId}/input.jsonl.out` }));
    const lines = (await out.Body!.transformToString()).trim().split('\n').map((line) => JSON.parse(line) as Record<string, any>);
    assert.equal(lines.length, 100);
    assert.equal(lines[0].recordId, 'REC00000000');
    assert.equal(lines[0].modelOutput.content[0].text, 'line 0');
    assert.deepEqual(lines[7].error, { errorCode: 400, errorMessage: 'The simulator was asked to fail this request.' });
    const manifest = await s3.send(new GetObjectCommand({ Bucket: s3emu.bucket, Key: `jobs/one/output/${jobId}/manifest.json.out` }));
    assert.equal(JSON.parse(await manifest.Body!.transformToString()).errorRecordCount, 1);
    const listed = await control.send(new ListModelInvocationJobsCommand({}));
    assert.ok(listed.invocationJobSummaries?.some((job) => job.jobArn === jobArn));
    // `nameContains` keeps the jobs whose name contains it.
    const named = await control.send(new ListModelInvocationJobsCommand({ nameContains: 'job-on' }));
    assert.deepEqual(named.invocationJobSummaries?.map((job) => [job.jobArn, job.jobName]), [[jobArn, 'sdk-job-one']]);
    assert.deepEqual((await control.send(new ListModelInvocationJobsCommand({ nameContains: 'no-such-job' }))).invocationJobSummaries, []);
  });

  it('a Converse job (modelInvocationType Converse) takes Converse requests and writes Converse responses', async () => {
    const records = Array.from({ length: 100 }, (_, i) => ({ recordId: `CNV${String(i).padStart(8, '0')}`, modelInput: { messages: [{ role: 'user', content: [{ text: `nova ${i}` }] }], inferenceConfig: { maxTokens: 20 } } }));
    await s3.send(new PutObjectCommand({ Bucket: s3emu.bucket, Key: 'jobs/converse/input.jsonl', Body: records.map((r) => JSON.stringify(r)).join('\n') }));
    const { jobArn } = await control.send(
      new CreateModelInvocationJobCommand({
        jobName: 'sdk-converse-job',
        roleArn: BEDROCK_BATCH_ROLE,
        modelId: NOVA,
        modelInvocationType: 'Converse',
        inputDataConfig: { s3InputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/converse/input.jsonl` } },
        outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/converse/output/` } },
      }),
    );
    await sim.advanceBatches();
    await sim.advanceBatches();
    const done = await control.send(new GetModelInvocationJobCommand({ jobIdentifier: jobArn }));
    assert.equal(done.status, 'Completed');
    assert.equal(done.modelInvocationType, 'Converse');
    const jobId = jobArn!.slice(jobArn!.lastIndexOf('/') + 1);
    const out = await s3.send(new GetObjectCommand({ Bucket: s3emu.bucket, Key: `jobs/converse/output/${jobId}/input.jsonl.out` }));
    const first = JSON.parse((await out.Body!.transformToString()).split('\n')[0]) as { modelOutput: { output: { message: { content: unknown } }; stopReason: string } };
    assert.deepEqual(first.modelOutput.output.message.content, [{ text: 'nova 0' }]);
    assert.equal(first.modelOutput.stopReason, 'end_turn');
  });

  it('a job with fewer than 100 records fails; a stopped job ends Stopped; a job can expire', async () => {
    await s3.send(new PutObjectCommand({ Bucket: s3emu.bucket, Key: 'jobs/small/input.jsonl', Body: JSON.stringify({ recordId: 'A0000000001', modelInput: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] } }) }));
    const job = (name: string) =>
      control.send(
        new CreateModelInvocationJobCommand({
          jobName: name,
          roleArn: BEDROCK_BATCH_ROLE,
          modelId: CLAUDE,
          inputDataConfig: { s3InputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/small/input.jsonl` } },
          outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/small/output/` } },
        }),
      );
    const small = (await job('sdk-small')).jobArn!;
    const stopped = (await job('sdk-stopped')).jobArn!;
    const expired = (await job('sdk-expired')).jobArn!;
    await control.send(new StopModelInvocationJobCommand({ jobIdentifier: stopped }));
    assert.equal((await control.send(new GetModelInvocationJobCommand({ jobIdentifier: stopped }))).status, 'Stopping');
    sim.expireJob(expired.slice(expired.lastIndexOf('/') + 1));
    await sim.advanceBatches();
    const failed = await control.send(new GetModelInvocationJobCommand({ jobIdentifier: small }));
    assert.equal(failed.status, 'Failed');
    assert.match(failed.message ?? '', /minimum of 100/);
    assert.equal((await control.send(new GetModelInvocationJobCommand({ jobIdentifier: stopped }))).status, 'Stopped');
    assert.equal((await control.send(new GetModelInvocationJobCommand({ jobIdentifier: expired }))).status, 'Expired');
    await assert.rejects(control.send(new StopModelInvocationJobCommand({ jobIdentifier: stopped })), (error: unknown) => (error as { name: string }).name === 'ValidationException');
    await assert.rejects(control.send(new GetModelInvocationJobCommand({ jobIdentifier: 'abcdefabcdef' })), (error: unknown) => (error as { name: string }).name === 'ResourceNotFoundException');
  });

  it('refuseBatchCreates(n): the next n job creates are 429 ThrottlingException (the SDK class) and make no job; the one after is taken', async () => {
    const before = sim.jobs.size;
    const refused = sim.batchCreateRefusals;
    sim.refuseBatchCreates(2);
    const create = () =>
      control.send(
        new CreateModelInvocationJobCommand({
          jobName: 'sdk-throttled',
          roleArn: BEDROCK_BATCH_ROLE,
          modelId: CLAUDE,
          clientRequestToken: 'sdkthrottled1',
          inputDataConfig: { s3InputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/throttled/input.jsonl` } },
          outputDataConfig: { s3OutputDataConfig: { s3Uri: `s3://${s3emu.bucket}/jobs/throttled/output/` } },
        }),
      );
    for (let i = 0; i < 2; i++) {
      await assert.rejects(create(), (error: unknown) => {
        assert.ok(error instanceof ControlThrottlingException, String(error));
        assert.equal(error.$metadata.httpStatusCode, 429);
        assert.match(error.message, /Too many requests/);
        return true;
      });
    }
    assert.equal(sim.jobs.size, before, 'no job made by a throttled create');
    assert.equal(sim.batchCreateRefusals - refused, 2);
    const taken = await create();
    assert.match(taken.jobArn ?? '', /:model-invocation-job\//);
    assert.equal(sim.jobs.size, before + 1);
  });
});
