import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AZURE_SIMULATOR_API_KEY, type AzureSimulator, startAzureSimulator } from '../../../test/simulators/azure-simulator.ts';
import { UpstreamError } from '../../spec/errors.ts';
import type { FileBatchesCapability, ProviderClient, ProviderFile } from '../../spec/provider.ts';
import { chatStreamText, collectSseData, collectText, deploymentFrom, readableOf, withSettings } from '../testing/provider-test-helpers.ts';
import { createAzureProvider } from './index.ts';

const DEPLOYMENT = 'gpt-4o-batch';
const API_VERSION = '2024-10-21';
/** Short waits so the pending-file poll is quick in tests; the schedule is the production code path. */
const provider = createAzureProvider({ fileWait: { firstDelayMs: 5, maxDelayMs: 20, timeoutMs: 5_000 } });

describe('the Azure OpenAI provider against the Azure simulator', () => {
  let sim: AzureSimulator;
  let client: ProviderClient;

  before(async () => {
    sim = await startAzureSimulator({ deployments: [DEPLOYMENT], fileProcessing: 'advance' });
    client = provider.createClient(...withSettings(
      deploymentFrom(`{model: azure/${DEPLOYMENT}, api_base: "${sim.url}/", api_key: ${AZURE_SIMULATOR_API_KEY}, api_version: "${API_VERSION}"}`, 'gpt-4o'),
    ));
  });
  after(async () => {
    await sim.close();
  });

  it('lists files newest first; the classic surface answers them all on one page', async () => {
    const uploaded: ProviderFile[] = [];
    for (const name of ['l1.jsonl', 'l2.jsonl']) uploaded.push(await client.files!.upload({ ...readableOf('x\n'), filename: name, purpose: 'batch' }));
    const listed = await client.files!.list({ purpose: 'batch', limit: 100 });
    assert.equal(listed.hasMore, false);
    const ours = listed.files.filter((f) => uploaded.some((u) => u.id === f.id));
    assert.deepEqual(ours.map((f) => f.filename).sort(), ['l1.jsonl', 'l2.jsonl']);
    for (let i = 1; i < listed.files.length; i += 1) assert.ok(listed.files[i - 1]!.createdAt >= listed.files[i]!.createdAt);
    for (const file of uploaded) await client.files!.delete(file.id);
  });

  it('sends chat to the deployment URL with api-version and the api-key header', async () => {
    const answer = await client.chatCompletions({ model: 'gpt-4o', messages: [{ role: 'user', content: 'Hello Azure' }] });
    const body = answer.body as { choices: Array<{ message: { content: string } }> };
    assert.equal(body.choices[0].message.content, 'Hello Azure');
    const request = sim.requests.at(-1)!;
    assert.equal(request.path, `/openai/deployments/${DEPLOYMENT}/chat/completions`);
    assert.equal(request.query['api-version'], API_VERSION);
    assert.equal(request.headers['api-key'], AZURE_SIMULATOR_API_KEY);
    assert.equal(request.headers.authorization, undefined);
    assert.ok(answer.upstreamRequestId, 'apim-request-id is reported');
    assert.equal(client.batchLineModel, DEPLOYMENT);
  });

  it("sends a deployment's extra_headers with every request", async () => {
    const withHeaders = createAzureProvider().createClient(...withSettings(
      deploymentFrom(`{model: azure/${DEPLOYMENT}, api_base: "${sim.url}", api_key: ${AZURE_SIMULATOR_API_KEY}, extra_headers: {x-team: blue}}`, 'gpt-4o'),
    ));
    await withHeaders.chatCompletions({ messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(sim.requests.at(-1)!.headers['x-team'], 'blue');
    assert.equal(sim.requests.at(-1)!.headers['api-key'], AZURE_SIMULATOR_API_KEY);
  });

  it('streams chat from Azure as OpenAI SSE', async () => {
    const stream = await client.chatCompletionsStream({ messages: [{ role: 'user', content: 'Stream from Azure' }] });
    const events = await collectSseData(stream.body);
    assert.equal(events.at(-1), '[DONE]');
    assert.equal(chatStreamText(events), 'Stream from Azure');
    assert.equal(sim.requests.at(-1)!.path, `/openai/deployments/${DEPLOYMENT}/chat/completions`);
  });

  it("translates Azure's error envelope into OpenAI's, keeping the status", async () => {
    sim.failNext({ status: 429 });
    await assert.rejects(client.chatCompletions({ messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.httpStatus, 429);
      assert.equal(error.type, 'rate_limit_error');
      assert.equal(error.code, 'rate_limit_exceeded');
      assert.match(error.message, /rate limit/);
      assert.equal(error.isRetryable, true);
      return true;
    });
    const missing = provider.createClient(...withSettings(
      deploymentFrom(`{model: azure/nope, api_base: "${sim.url}", api_key: ${AZURE_SIMULATOR_API_KEY}}`),
    ));
    await assert.rejects(missing.chatCompletions({ messages: [{ role: 'user', content: 'x' }] }), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.httpStatus, 404);
      assert.equal(error.code, 'DeploymentNotFound');
      assert.match(error.message, /deployment for this resource does not exist/);
      assert.deepEqual(Object.keys(error.toBody().error).sort(), ['code', 'message', 'param', 'type']);
      return true;
    });
    const badKey = provider.createClient(...withSettings(deploymentFrom(`{model: azure/${DEPLOYMENT}, api_base: "${sim.url}", api_key: wrong}`)));
    await assert.rejects(badKey.chatCompletions({ messages: [] }), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.httpStatus, 401);
      assert.equal(error.type, 'authentication_error');
      assert.equal(error.code, 'invalid_api_key');
      return true;
    });
  });

  it('answers embeddings on the deployment URL', async () => {
    const answer = await client.embeddings!({ input: 'hello' });
    assert.equal((answer.body as { data: unknown[] }).data.length, 1);
    assert.equal(sim.requests.at(-1)!.path, `/openai/deployments/${DEPLOYMENT}/embeddings`);
  });

  it('uploads a file (pending -> uploaded), downloads and deletes it on /openai/files with api-version', async () => {
    const text = 'hello azure\n';
    const file = await client.files!.upload({ ...readableOf(text), filename: 'a.jsonl', purpose: 'batch', expiresAfterSeconds: 1_209_600 });
    assert.equal(file.status, 'uploaded');
    assert.equal(file.rawStatus, 'pending');
    assert.equal(file.bytes, Buffer.byteLength(text));
    assert.equal(file.expiresAt, file.createdAt + 1_209_600, 'expires_after in Azure\'s dot form');
    const upload = sim.requests.at(-1)!;
    assert.equal(upload.path, '/openai/files');
    assert.equal(upload.query['api-version'], API_VERSION);
    assert.equal(upload.headers['api-key'], AZURE_SIMULATOR_API_KEY);

    await sim.advanceBatches();
    await sim.advanceBatches();
    const processed = await client.files!.retrieve(file.id);
    assert.equal(processed.status, 'processed');
    assert.equal(await collectText(await client.files!.content(file.id)), text);
    await client.files!.delete(file.id);
    assert.equal(sim.files.has(file.id), false);
    await client.files!.delete(file.id);
  });

  it('waits for a pending input file, then creates a batch: "" ids normalised, /chat/completions endpoint', async () => {
    const line = (id: string) =>
      JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model: client.batchLineModel, messages: [{ role: 'user', content: `hi ${id}` }] } });
    const input = await client.files!.upload({ ...readableOf(`${line('1')}\n${line('2')}\n`), filename: 'batch.jsonl', purpose: 'batch' });
    assert.equal(input.rawStatus, 'pending');
    const batches = client.batches as FileBatchesCapability;
    const creating = batches.create({ providerInputFileId: input.id, endpoint: '/v1/chat/completions', completionWindow: '24h', metadata: { a: 'b' } });
    // The file processes while the provider polls it.
    await new Promise((resolve) => setTimeout(resolve, 30));
    await sim.advanceBatches();
    await sim.advanceBatches();
    const created = await creating;
    assert.equal(created.status, 'validating');
    assert.equal(created.outputFileId, null, 'Azure answers "" while validating');
    assert.equal(created.errorFileId, null);
    assert.match(created.id, /^batch_/);
    const createRequest = sim.requests.findLast((r) => r.method === 'POST' && r.path === '/openai/batches')!;
    assert.equal((createRequest.json as { endpoint: string }).endpoint, '/chat/completions');
    assert.equal(createRequest.query['api-version'], API_VERSION);
    const polls = sim.requests.filter((r) => r.method === 'GET' && r.path === `/openai/files/${input.id}`);
    assert.ok(polls.length >= 1, 'the input file was polled before the batch was created');

    for (let i = 0; i < 4; i++) await sim.advanceBatches();
    const done = await batches.retrieve(created.id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.requestCounts, { total: 2, completed: 2, failed: 0 });
    assert.ok(done.outputFileId);
    assert.ok(done.errorFileId, "Azure's 0-byte error file on success is exposed as it is");
    assert.equal(await collectText(await client.files!.content(done.errorFileId)), '');
    const output = (await collectText(await client.files!.content(done.outputFileId))).trim().split('\n');
    assert.equal(output.length, 2);

    const second = await batches.create({ providerInputFileId: input.id, endpoint: '/v1/chat/completions', completionWindow: '24h' });
    const cancelled = await batches.cancel(second.id);
    assert.equal(cancelled.status, 'cancelling');
    assert.equal(sim.requests.at(-1)!.path, `/openai/batches/${second.id}/cancel`);
  });

  it('a batch on a file that stays pending gives up with a timeout after the bounded wait', async () => {
    const impatient = createAzureProvider({ fileWait: { firstDelayMs: 5, maxDelayMs: 10, timeoutMs: 60 } }).createClient(...withSettings(
      deploymentFrom(`{model: azure/${DEPLOYMENT}, api_base: "${sim.url}", api_key: ${AZURE_SIMULATOR_API_KEY}}`),
    ));
    const input = await impatient.files!.upload({ ...readableOf('x\n'), filename: 'p.jsonl', purpose: 'batch' });
    await assert.rejects(
      (impatient.batches as FileBatchesCapability).create({ providerInputFileId: input.id, endpoint: '/v1/chat/completions', completionWindow: '24h' }),
      (error: unknown) => (error as { code?: string }).code === 'timeout',
    );
  });
});
