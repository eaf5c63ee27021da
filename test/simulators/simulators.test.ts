/**
 * The upstream simulators answer like the real services: happy paths, and one quirk each,
 * checked against the published schemas where practical.
 */
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { startOpenAISimulator, OPENAI_SIMULATOR_API_KEY } from './openai-simulator.ts';
import type { OpenAISimulator } from './openai-simulator.ts';
import { startAzureSimulator, AZURE_SIMULATOR_API_KEY } from './azure-simulator.ts';
import type { AzureSimulator } from './azure-simulator.ts';
import { startAnthropicSimulator, ANTHROPIC_SIMULATOR_API_KEY } from './anthropic-simulator.ts';
import type { AnthropicSimulator } from './anthropic-simulator.ts';
import { validateBatchLine, validateOpenAI } from '../helpers/openai-schemas.ts';
import { validateAnthropic } from '../helpers/anthropic-schemas.ts';
import { readFileSync } from 'node:fs';

/** The example response body of an Azure authoring example (test/fixtures/azure-2024-10-21/). */
function azureExample(name: string): Record<string, unknown> {
  const example = JSON.parse(readFileSync(new URL(`../fixtures/azure-2024-10-21/${name}.json`, import.meta.url), 'utf8'));
  return Object.values(example.responses as Record<string, { body: Record<string, unknown> }>)[0].body;
}

function chatLine(customId: string, text: string, model = 'gpt-4o-mini'): string {
  return JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: text }] } });
}

function parseJsonl(text: string): Array<Record<string, any>> {
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

describe('OpenAI simulator', () => {
  let sim: OpenAISimulator;
  let client: OpenAI;
  before(async () => {
    sim = await startOpenAISimulator();
    client = new OpenAI({ apiKey: OPENAI_SIMULATOR_API_KEY, baseURL: sim.url, maxRetries: 0 });
  });
  after(() => sim.close());

  async function runBatch(lines: string[]) {
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'input.jsonl'), purpose: 'batch' });
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    for (let i = 0; i < 3; i++) await sim.advanceBatches();
    return { file, created, batch: await client.batches.retrieve(created.id) };
  }

  it('the official SDK completes a files + batches round trip whose bodies match the OpenAPI schemas', async () => {
    const { file, created, batch } = await runBatch([chatLine('a', 'alpha'), chatLine('b', 'FAIL'), chatLine('c', 'gamma')]);
    assert.deepEqual(validateOpenAI('OpenAIFile', file), []);
    assert.equal(created.status, 'validating');
    assert.deepEqual(validateOpenAI('Batch', created), []);
    assert.equal(batch.status, 'completed');
    assert.deepEqual(validateOpenAI('Batch', batch), []);
    assert.deepEqual(batch.request_counts, { total: 3, completed: 2, failed: 1 });

    const output = parseJsonl(await (await client.files.content(batch.output_file_id!)).text());
    assert.deepEqual(output.map((l) => l.custom_id), ['c', 'a'], 'output order differs from input order');
    assert.deepEqual(output.map((l) => l.response.body.choices[0].message.content), ['gamma', 'alpha']);
    for (const line of output) assert.deepEqual(validateBatchLine('BatchRequestOutput', line), []);
    const errors = parseJsonl(await (await client.files.content(batch.error_file_id!)).text());
    assert.equal(errors[0].custom_id, 'b');
    assert.equal(errors[0].response.status_code, 400);
    assert.equal(errors[0].error, null);

    const auth = { authorization: `Bearer ${OPENAI_SIMULATOR_API_KEY}` };
    const batchList = await (await fetch(`${sim.url}/batches?limit=1`, { headers: auth })).json();
    assert.deepEqual(validateOpenAI('ListBatchesResponse', batchList), []);
    assert.equal(batchList.data[0].id, batch.id, 'newest batch first');
    const fileList = await (await fetch(`${sim.url}/files?purpose=batch_output&order=asc`, { headers: auth })).json();
    assert.deepEqual(validateOpenAI('ListFilesResponse', fileList), []);
    assert.deepEqual(new Set(fileList.data.map((f: { id: string }) => f.id)), new Set([batch.output_file_id, batch.error_file_id]));

    const deleted = await client.files.delete(file.id);
    assert.deepEqual(validateOpenAI('DeleteFileResponse', deleted), []);
    assert.equal(sim.files.has(file.id), false);
  });

  it('a batch whose every line failed completes with output_file_id null; cancelling it is a 409', async () => {
    const { batch } = await runBatch([chatLine('x', 'FAIL'), chatLine('y', 'FAIL:500')]);
    assert.equal(batch.status, 'completed');
    assert.equal(batch.output_file_id, null);
    assert.ok(batch.error_file_id);
    const err = await client.batches.cancel(batch.id).catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.ConflictError);
    assert.deepEqual(err.error, { message: "Cannot cancel a batch with status 'completed'.", type: 'invalid_request_error', param: null, code: null });
  });

  it('a batch with malformed lines fails at validation with errors.data', async () => {
    const { batch } = await runBatch(['{not json', chatLine('dup', 'a'), chatLine('dup', 'b')]);
    assert.equal(batch.status, 'failed');
    assert.deepEqual(validateOpenAI('Batch', batch), []);
    assert.deepEqual(
      batch.errors?.data?.map((e) => [e.code, e.line]),
      [['invalid_json_line', 1], ['duplicate_custom_id', 3]],
    );
    assert.equal(batch.output_file_id, null);
  });

  it('streams chat.completion.chunk frames ending with a usage chunk and [DONE]', async () => {
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPENAI_SIMULATOR_API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'stream me please' }] }),
    });
    const frames = (await res.text()).split('\n\n').filter(Boolean).map((f) => f.replace(/^data: /, ''));
    assert.equal(frames.at(-1), '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => JSON.parse(f));
    assert.ok(chunks.length >= 4);
    assert.equal(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''), 'stream me please');
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-1).usage.completion_tokens, 4);
  });

  it('answers legacy completions to the official SDK, plain and streamed with a usage chunk', async () => {
    const plain = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'complete me please', max_tokens: 50 });
    assert.equal(plain.object, 'text_completion');
    assert.equal(plain.choices[0].text, 'complete me please');
    assert.equal(plain.choices[0].finish_reason, 'stop');
    const stream = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'complete me please', max_tokens: 50, stream: true, stream_options: { include_usage: true } });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    assert.ok(chunks.length >= 3);
    assert.equal(chunks.map((chunk) => chunk.choices[0]?.text ?? '').join(''), 'complete me please');
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.equal(chunks.at(-1)?.usage?.total_tokens, plain.usage?.total_tokens);
  });

  it("refuses a metadata OpenAI would not take (a non-string value, more than 16 keys) on chat and responses, as OpenAI words it", async () => {
    const chat = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }], metadata: { tags: ['a'] } as never }).catch((error: unknown) => error);
    assert.ok(chat instanceof OpenAI.BadRequestError);
    assert.match(chat.message, /Invalid type for 'metadata\.tags': expected a string, but got an array instead/);
    const many = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, 'v']));
    const responses = await client.responses.create({ model: 'gpt-4o-mini', input: 'x', metadata: many }).catch((error: unknown) => error);
    assert.ok(responses instanceof OpenAI.BadRequestError);
    assert.equal((responses.error as { code: string }).code, 'object_above_max_properties');
    const fine = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'stored' }], store: true, metadata: { project: 'p' } });
    assert.equal(fine.choices[0].message.content, 'stored');
  });

  it('answers moderations and image generations to the official SDK, live and as batch lines', async () => {
    const moderation = await client.moderations.create({ model: 'omni-moderation-latest', input: ['a calm sentence', 'we attack at dawn'] });
    assert.match(moderation.id, /^modr-/);
    assert.deepEqual(moderation.results.map((result) => [result.flagged, result.categories.violence]), [[false, false], [true, true]]);
    assert.equal(typeof moderation.results[1].category_scores.violence, 'number');
    const multiModal = await client.moderations.create({ model: 'omni-moderation-latest', input: [{ type: 'text', text: 'x' }, { type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] });
    assert.equal(multiModal.results.length, 1);
    assert.deepEqual(multiModal.results[0].category_applied_input_types.violence, ['text', 'image']);
    const tokens = await client.images.generate({ model: 'gpt-image-1', prompt: 'a lighthouse', n: 2 });
    assert.equal(tokens.data?.length, 2);
    assert.ok(Buffer.from(tokens.data![0].b64_json!, 'base64').subarray(1, 4).toString() === 'PNG');
    assert.equal(tokens.usage?.output_tokens, 544);
    const url = await client.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse' });
    assert.match(url.data![0].url!, /^https:\/\//);
    assert.equal(url.data![0].revised_prompt, 'a lighthouse');
    const tooMany = await client.images.generate({ model: 'dall-e-3', prompt: 'x', n: 2 }).catch((error: unknown) => error);
    assert.ok(tooMany instanceof OpenAI.BadRequestError);
    for (const [endpoint, body] of [
      ['/v1/moderations', { model: 'omni-moderation-latest', input: 'we attack' }],
      ['/v1/images/generations', { model: 'gpt-image-1', prompt: 'a boat' }],
    ] as const) {
      const line = JSON.stringify({ custom_id: 'one', method: 'POST', url: endpoint, body });
      const file = await client.files.create({ file: await toFile(Buffer.from(line), 'input.jsonl'), purpose: 'batch' });
      const created = await client.batches.create({ input_file_id: file.id, endpoint: endpoint as never, completion_window: '24h' });
      for (let i = 0; i < 3; i++) await sim.advanceBatches();
      const batch = await client.batches.retrieve(created.id);
      assert.equal(batch.status, 'completed', endpoint);
      const output = parseJsonl(await (await client.files.content(batch.output_file_id!)).text());
      assert.equal(output[0].response.status_code, 200, endpoint);
      assert.equal(validateBatchLine('BatchRequestOutput', output[0]).length, 0, endpoint);
    }
  });

  it('answers a wrong key with OpenAI 401 and injected faults with the given status', async () => {
    const bad = new OpenAI({ apiKey: 'sk-wrong-key-123456', baseURL: sim.url, maxRetries: 0 });
    const err = await bad.models.list().catch((e: unknown) => e);
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal((err.error as { code: string }).code, 'invalid_api_key');

    sim.failNext({ status: 503, match: { method: 'POST', path: /\/files$/ } });
    const upload = await client.files.create({ file: await toFile(Buffer.from('{}'), 'a.jsonl'), purpose: 'batch' }).catch((e: unknown) => e);
    assert.ok(upload instanceof OpenAI.InternalServerError);
    assert.equal(upload.status, 503);
    const ok = await client.files.create({ file: await toFile(Buffer.from('{}'), 'a.jsonl'), purpose: 'batch' });
    assert.equal(ok.status, 'processed');
    assert.equal(sim.requests.at(-1)?.path, '/v1/files');
  });
});

describe('OpenAI simulator as Azure AI Foundry\'s model inference API', () => {
  it("takes the key in api-key under /models, as the openai SDK is pointed there by Microsoft's docs (defaultHeaders, defaultQuery)", async () => {
    const sim = await startOpenAISimulator({ basePath: '/models', keyHeader: 'api-key' });
    try {
      const foundry = new OpenAI({ apiKey: 'unused', baseURL: sim.url, defaultHeaders: { 'api-key': OPENAI_SIMULATOR_API_KEY }, defaultQuery: { 'api-version': '2024-05-01-preview' }, maxRetries: 0 });
      const answer = await foundry.chat.completions.create({ model: 'Mistral-Large-2411', messages: [{ role: 'user', content: 'from foundry' }] });
      assert.equal(answer.choices[0].message.content, 'from foundry');
      assert.equal(sim.requests.at(-1)?.path, '/models/chat/completions');
      assert.equal(sim.requests.at(-1)?.query['api-version'], '2024-05-01-preview');
      const embedded = await foundry.embeddings.create({ model: 'Cohere-embed-v3-english', input: 'x' });
      assert.equal(embedded.object, 'list');
      const bearerOnly = new OpenAI({ apiKey: OPENAI_SIMULATOR_API_KEY, baseURL: sim.url, maxRetries: 0 });
      const refused = await bearerOnly.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((error: unknown) => error);
      assert.ok(refused instanceof OpenAI.AuthenticationError);
    } finally {
      await sim.close();
    }
  });
});

describe('Azure OpenAI simulator', () => {
  let sim: AzureSimulator;
  let client: AzureOpenAI;
  before(async () => {
    sim = await startAzureSimulator({ deployments: ['gpt-4o-batch', 'other-deployment'] });
    client = new AzureOpenAI({ apiKey: AZURE_SIMULATOR_API_KEY, endpoint: sim.url, apiVersion: '2024-10-21', maxRetries: 0 });
  });
  after(() => sim.close());

  async function processedUpload(lines: string[]) {
    const file = await client.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'input.jsonl'), purpose: 'batch' });
    while ((await client.files.retrieve(file.id)).status !== 'processed');
    return file;
  }
  const azureLine = (id: string, text: string, model = 'gpt-4o-batch') =>
    JSON.stringify({ custom_id: id, method: 'POST', url: '/chat/completions', body: { model, messages: [{ role: 'user', content: text }] } });

  it('runs a batch with Azure quirks: pending upload, empty-string ids at create, 0-byte error file, output lines without id', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from(azureLine('a', 'alpha')), 'input.jsonl'), purpose: 'batch' });
    assert.equal(file.status as string, 'pending');
    assert.match(file.id, /^file-[0-9a-f]{32}$/);
    for (const key of Object.keys(azureExample('upload_file'))) assert.ok(key in file, `upload answer has ${key}`);
    assert.equal((await client.files.retrieve(file.id)).status as string, 'running');
    assert.equal((await client.files.retrieve(file.id)).status, 'processed');

    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/chat/completions' as '/v1/chat/completions', completion_window: '24h' });
    assert.deepEqual(Object.keys(created).sort(), Object.keys(azureExample('post_batch')).sort());
    assert.equal(created.endpoint, '');
    assert.equal(created.output_file_id, '');
    assert.match(created.id, /^batch_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    for (let i = 0; i < 3; i++) await sim.advanceBatches();
    const batch = await client.batches.retrieve(created.id);
    assert.equal(batch.status, 'completed');
    assert.equal(batch.endpoint, '/chat/completions');
    assert.match(batch.output_file_id!, /^file-[0-9a-f-]{36}$/);
    assert.equal((await client.files.retrieve(batch.error_file_id!)).bytes, 0, 'success leaves a 0-byte error file');
    const [line] = parseJsonl(await (await client.files.content(batch.output_file_id!)).text());
    assert.equal('id' in line, false);
    assert.match(line.response.request_id, /^[0-9a-f-]{36}$/);
    assert.ok(line.response.body.choices[0].content_filter_results);
    assert.ok(line.response.body.prompt_filter_results);

    const list = await (await fetch(`${sim.url}/openai/files?api-version=2024-10-21`, { headers: { 'api-key': AZURE_SIMULATOR_API_KEY } })).json();
    assert.deepEqual(Object.keys(list).sort(), Object.keys(azureExample('get_files')).sort(), 'classic list is {data, object}');
    const deleted = await client.files.delete(file.id);
    assert.deepEqual(Object.keys(deleted).sort(), Object.keys(azureExample('delete_file')).sort());
  });

  it('fails a batch whose lines name different deployments, and answers Azure errors for missing api-version and deployment', async () => {
    const file = await processedUpload([azureLine('a', 'x'), azureLine('b', 'y', 'other-deployment')]);
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/chat/completions' as '/v1/chat/completions', completion_window: '24h' });
    await sim.advanceBatches();
    const batch = await client.batches.retrieve(created.id);
    assert.equal(batch.status, 'failed');
    assert.deepEqual(batch.errors?.data?.map((e) => [e.code, e.line]), [['model_mismatch', 2]]);

    const noVersion = await fetch(`${sim.url}/openai/batches`, { headers: { 'api-key': AZURE_SIMULATOR_API_KEY } });
    assert.equal(noVersion.status, 404);
    assert.deepEqual(await noVersion.json(), { error: { code: '404', message: 'Resource not found' } });
    const chat = await client.chat.completions.create({ model: 'missing', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    assert.ok(chat instanceof OpenAI.NotFoundError);
    assert.equal((chat.error as { code: string }).code, 'DeploymentNotFound');
  });
});

describe('Anthropic simulator', () => {
  let sim: AnthropicSimulator;
  before(async () => {
    sim = await startAnthropicSimulator();
  });
  after(() => sim.close());
  const headers = { 'x-api-key': ANTHROPIC_SIMULATOR_API_KEY, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sim.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, requestId: res.headers.get('request-id'), text: await res.text() };
  };
  const params = (text: string, extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra });

  it('answers a Message, a streamed tool_use, and validation errors in Anthropic shapes', async () => {
    const ok = await call('POST', '/v1/messages', params('hello claude'));
    const message = JSON.parse(ok.text);
    assert.deepEqual(validateAnthropic('Message', message), []);
    assert.deepEqual(message.content, [{ type: 'text', text: 'hello claude' }]);
    assert.equal(message.usage.cache_read_input_tokens, 0);

    const tools = [{ name: 'get_weather', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }];
    const stream = await call('POST', '/v1/messages', params('please use tool', { tools, stream: true }));
    const events = stream.text.split('\n\n').filter(Boolean).map((f) => JSON.parse(f.split('\n')[1].slice(6)));
    assert.deepEqual(
      events.map((e) => e.type),
      ['message_start', 'content_block_start', 'ping', 'content_block_delta', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.deepEqual(JSON.parse(events.filter((e) => e.delta?.type === 'input_json_delta').map((e) => e.delta.partial_json).join('')), { city: 'please use tool' });
    assert.equal(events.at(-2).delta.stop_reason, 'tool_use');

    const missing = await call('POST', '/v1/messages', { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] });
    assert.equal(missing.status, 400);
    const error = JSON.parse(missing.text);
    assert.deepEqual(validateAnthropic('ErrorResponse', error), []);
    assert.deepEqual(error, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' }, request_id: missing.requestId });
  });

  it('keeps request_counts in processing until a batch ends, then serves results by custom_id with async param errors', async () => {
    sim.forceOutcome(['r-cancel'], 'canceled');
    const created = await call('POST', '/v1/messages/batches', {
      requests: [
        { custom_id: 'r-ok', params: params('first') },
        { custom_id: 'r-bad', params: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'no max_tokens' }] } },
        { custom_id: 'r-cancel', params: params('third') },
      ],
    });
    const batch = JSON.parse(created.text);
    assert.deepEqual(validateAnthropic('BetaMessageBatch', batch), []);
    assert.match(batch.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    await sim.advanceBatches();
    const midway = JSON.parse((await call('GET', `/v1/messages/batches/${batch.id}`)).text);
    assert.equal(midway.processing_status, 'in_progress');
    assert.deepEqual(midway.request_counts, { processing: 3, succeeded: 0, errored: 0, canceled: 0, expired: 0 });
    await sim.advanceBatches();
    const ended = JSON.parse((await call('GET', `/v1/messages/batches/${batch.id}`)).text);
    assert.equal(ended.processing_status, 'ended');
    assert.deepEqual(ended.request_counts, { processing: 0, succeeded: 1, errored: 1, canceled: 1, expired: 0 });

    const results = parseJsonl(await (await fetch(ended.results_url, { headers })).text());
    for (const r of results) assert.deepEqual(validateAnthropic('BetaMessageBatchIndividualResponse', r), []);
    const byId = Object.fromEntries(results.map((r) => [r.custom_id, r.result]));
    assert.equal(byId['r-ok'].message.content[0].text, 'first');
    assert.equal(byId['r-bad'].error.error.message, 'max_tokens: Field required');
    assert.deepEqual(byId['r-cancel'], { type: 'canceled' });

    const list = JSON.parse((await call('GET', '/v1/messages/batches?limit=1')).text);
    assert.deepEqual(validateAnthropic('BetaListResponse_MessageBatch_', list), []);
    const badId = await call('POST', '/v1/messages/batches', { requests: [{ custom_id: 'has space', params: params('x') }] });
    assert.equal(badId.status, 400);
    assert.deepEqual(JSON.parse((await call('DELETE', `/v1/messages/batches/${batch.id}`)).text), { id: batch.id, type: 'message_batch_deleted' });
    assert.equal((await call('GET', `/v1/messages/batches/${batch.id}`)).status, 404);
  });
});
