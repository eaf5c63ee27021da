/**
 * The Gemini simulator answers Google's own SDK (`@google/genai`): chat, a stream, embeddings,
 * a file uploaded and read back, batches created inline and from a file, run, listed, read, and
 * cancelled, and errors as the SDK's ApiError. The SDK is the client, so the simulator's wire
 * format is the SDK's, not Portico's guess.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApiError, GoogleGenAI, JobState } from '@google/genai';
import { GEMINI_SIMULATOR_API_KEY, startGeminiSimulator, type GeminiSimulator } from './gemini-simulator.ts';

const MODEL = 'gemini-2.5-flash';

describe('Gemini simulator, driven by the @google/genai SDK', () => {
  let sim: GeminiSimulator;
  let ai: GoogleGenAI;
  before(async () => {
    sim = await startGeminiSimulator();
    // Portico speaks v1beta (batch mode and the Files API live there); this SDK defaults to v1.
    ai = new GoogleGenAI({ apiKey: GEMINI_SIMULATOR_API_KEY, httpOptions: { baseUrl: sim.url, apiVersion: 'v1beta' } });
  });
  after(() => sim.close());

  it('generateContent answers the user text, with a system instruction, finish reason and usage', async () => {
    const response = await ai.models.generateContent({ model: MODEL, contents: 'Hello Gemini', config: { systemInstruction: 'Be brief.', temperature: 0.2 } });
    assert.equal(response.text, 'Hello Gemini');
    assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
    assert.ok((response.usageMetadata?.promptTokenCount ?? 0) > 0);
    assert.ok((response.usageMetadata?.candidatesTokenCount ?? 0) > 0);
    const sent = sim.requests.at(-1)!;
    assert.equal(sent.path, `/v1beta/models/${MODEL}:generateContent`);
    assert.equal(sent.headers['x-goog-api-key'], GEMINI_SIMULATOR_API_KEY);
  });

  it('a function declaration is called when asked', async () => {
    const response = await ai.models.generateContent({
      model: MODEL,
      contents: 'please use tool for Paris',
      config: { tools: [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT' as never, properties: { city: { type: 'STRING' as never } }, required: ['city'] } }] }] },
    });
    assert.deepEqual(response.functionCalls?.[0], { name: 'get_weather', args: { city: 'please use tool for Paris' } });
  });

  it('generateContentStream arrives in several chunks, the last with the finish reason and usage', async () => {
    const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'Stream this reply please' });
    let text = '';
    let chunks = 0;
    let finish: string | undefined;
    let total = 0;
    for await (const chunk of stream) {
      chunks += 1;
      text += chunk.text ?? '';
      finish = chunk.candidates?.[0]?.finishReason ?? finish;
      total = chunk.usageMetadata?.totalTokenCount ?? total;
    }
    assert.equal(text, 'Stream this reply please');
    assert.ok(chunks > 1);
    assert.equal(finish, 'STOP');
    assert.ok(total > 0);
    assert.equal(sim.requests.at(-1)!.query.alt, 'sse');
  });

  it('thinkingConfig with includeThoughts answers a thought summary first (its own stream chunk), counted as thought tokens; budget and level together are refused', async () => {
    const config = { thinkingConfig: { thinkingBudget: 1024, includeThoughts: true } };
    const response = await ai.models.generateContent({ model: MODEL, contents: 'Why is the sky blue?', config });
    const parts = response.candidates?.[0]?.content?.parts ?? [];
    assert.equal(parts[0]?.thought, true);
    assert.match(parts[0]?.text ?? '', /Why is the sky blue\?/);
    assert.equal(response.text, 'Why is the sky blue?', "the SDK's text leaves the thought out");
    assert.ok((response.usageMetadata?.thoughtsTokenCount ?? 0) > 0);
    const stream = await ai.models.generateContentStream({ model: MODEL, contents: 'Why is the sky blue?', config });
    const kinds: string[] = [];
    for await (const chunk of stream) for (const part of chunk.candidates?.[0]?.content?.parts ?? []) kinds.push(part.thought === true ? 'thought' : 'text');
    assert.equal(kinds[0], 'thought');
    assert.ok(kinds.slice(1).every((kind) => kind === 'text') && kinds.length > 2);
    const off = await ai.models.generateContent({ model: MODEL, contents: 'no thoughts', config: { thinkingConfig: { thinkingBudget: 0, includeThoughts: true } } });
    assert.equal(off.candidates?.[0]?.content?.parts?.length, 1);
    await assert.rejects(
      ai.models.generateContent({ model: MODEL, contents: 'x', config: { thinkingConfig: { thinkingBudget: 1024, thinkingLevel: 'HIGH' as never } } }),
      (error: unknown) => error instanceof ApiError && error.status === 400,
    );
  });

  it('a Gemini 3 model signs its function call; the signature sent back passes, a call without it is a 400 naming thought signatures', async () => {
    const gemini3 = 'gemini-3-pro-preview';
    const tools = [{ functionDeclarations: [{ name: 'get_weather', parameters: { type: 'OBJECT' as never, properties: { city: { type: 'STRING' as never } }, required: ['city'] } }] }];
    const question = { role: 'user', parts: [{ text: 'please use tool for Paris' }] };
    const first = await ai.models.generateContent({ model: gemini3, contents: [question], config: { tools } });
    const callPart = first.candidates![0].content!.parts![0];
    assert.ok(callPart.functionCall && typeof callPart.thoughtSignature === 'string' && callPart.thoughtSignature !== '');
    const answer = { role: 'user', parts: [{ functionResponse: { name: 'get_weather', response: { content: 'sunny' } } }] };
    const next = await ai.models.generateContent({ model: gemini3, contents: [question, { role: 'model', parts: [callPart] }, answer], config: { tools } });
    assert.equal(next.candidates?.[0]?.finishReason, 'STOP');
    await assert.rejects(
      ai.models.generateContent({ model: gemini3, contents: [question, { role: 'model', parts: [{ functionCall: callPart.functionCall }] }, answer], config: { tools } }),
      (error: unknown) => error instanceof ApiError && error.status === 400 && /thought_signature/.test(error.message),
    );
    // Gemini 2.5 neither signs nor checks.
    const older = await ai.models.generateContent({ model: MODEL, contents: [question], config: { tools } });
    assert.equal(older.candidates![0].content!.parts![0].thoughtSignature, undefined);
  });

  it('embedContent answers one vector per input, of the asked dimensionality', async () => {
    const response = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['one', 'two'], config: { outputDimensionality: 8 } });
    assert.equal(response.embeddings?.length, 2);
    assert.equal(response.embeddings?.[0]?.values?.length, 8);
    assert.notDeepEqual(response.embeddings?.[0]?.values, response.embeddings?.[1]?.values);
    assert.match(sim.requests.at(-1)!.path, /:batchEmbedContents$/);
  });

  it('a file uploads in the resumable protocol, is listed, read back and deleted', async () => {
    const content = '{"key":"a","request":{"contents":[{"parts":[{"text":"x"}]}]}}\n';
    const file = await ai.files.upload({ file: new Blob([content], { type: 'application/jsonl' }), config: { displayName: 'input', mimeType: 'application/jsonl' } });
    assert.match(file.name ?? '', /^files\//);
    assert.equal(file.sizeBytes, String(Buffer.byteLength(content)));
    const got = await ai.files.get({ name: file.name! });
    assert.equal(got.displayName, 'input');
    const listed = await ai.files.list();
    const names: string[] = [];
    for await (const each of listed) names.push(each.name!);
    assert.ok(names.includes(file.name!));
    const dir = await mkdtemp(join(tmpdir(), 'gemini-sim-'));
    await ai.files.download({ file: file.name!, downloadPath: join(dir, 'copy.jsonl') });
    assert.equal(await readFile(join(dir, 'copy.jsonl'), 'utf8'), content);
    await ai.files.delete({ name: file.name! });
    await assert.rejects(ai.files.get({ name: file.name! }), (error: unknown) => error instanceof ApiError && error.status === 403);
  });

  it('an inline batch runs: pending, running, succeeded, with a response and an error in request order', async () => {
    const job = await ai.batches.create({
      model: MODEL,
      src: [{ contents: [{ role: 'user', parts: [{ text: 'first' }] }] }, { contents: [{ role: 'user', parts: [{ text: 'FAIL' }] }] }],
      config: { displayName: 'sdk-inline' },
    });
    assert.match(job.name ?? '', /^batches\//);
    assert.equal(job.state, JobState.JOB_STATE_PENDING);
    await sim.advanceBatches();
    assert.equal((await ai.batches.get({ name: job.name! })).state, JobState.JOB_STATE_RUNNING);
    await sim.advanceBatches();
    const done = await ai.batches.get({ name: job.name! });
    assert.equal(done.state, JobState.JOB_STATE_SUCCEEDED);
    const responses = done.dest?.inlinedResponses ?? [];
    assert.equal(responses.length, 2);
    assert.equal(responses[0].response?.candidates?.[0]?.content?.parts?.[0]?.text, 'first');
    assert.equal(responses[1].error?.code, 400);
    const listed = await ai.batches.list();
    const names: string[] = [];
    for await (const each of listed) names.push(each.name!);
    assert.ok(names.includes(job.name!));
  });

  it('a file batch answers a responses file with one keyed line per request', async () => {
    const lines = ['{"key":"k1","request":{"contents":[{"parts":[{"text":"alpha"}]}]}}', '{"key":"k2","request":{"contents":[{"parts":[{"text":"FAIL:429"}]}]}}'];
    const file = await ai.files.upload({ file: new Blob([lines.join('\n')]), config: { mimeType: 'application/jsonl' } });
    const job = await ai.batches.create({ model: MODEL, src: file.name!, config: { displayName: 'sdk-file' } });
    await sim.advanceBatches();
    await sim.advanceBatches();
    const done = await ai.batches.get({ name: job.name! });
    assert.equal(done.state, JobState.JOB_STATE_SUCCEEDED);
    const dir = await mkdtemp(join(tmpdir(), 'gemini-sim-'));
    await ai.files.download({ file: done.dest!.fileName!, downloadPath: join(dir, 'out.jsonl') });
    const results = (await readFile(join(dir, 'out.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { key: string; response?: unknown; error?: { code: number } });
    assert.deepEqual(results.map((r) => r.key), ['k1', 'k2']);
    assert.ok(results[0].response);
    assert.equal(results[1].error?.code, 429);
  });

  it('batches.list pages newest first: the SDK follows nextPageToken through every page of pageSize', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await ai.batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: `page ${i}` }] }] }], config: { displayName: `sdk-page-${i}` } })).name!);
    const listsBefore = sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1beta/batches').length;
    const pager = await ai.batches.list({ config: { pageSize: 2 } });
    assert.equal(pager.page.length, 2);
    assert.deepEqual(pager.page.map((job) => job.name), [made[4], made[3]], 'newest first');
    const names: string[] = [];
    for await (const job of pager) names.push(job.name!);
    assert.deepEqual(names, [...sim.batches.keys()].reverse(), 'every batch once, newest first');
    const lists = sim.requests.filter((r) => r.method === 'GET' && r.path === '/v1beta/batches').slice(listsBefore);
    assert.equal(lists.length, Math.ceil(sim.batches.size / 2));
    assert.ok(lists.every((r) => r.query.pageSize === '2'));
    assert.deepEqual(lists.slice(1).map((r) => typeof r.query.pageToken), lists.slice(1).map(() => 'string'), 'each later page asked by its token');
  });

  it('a batch cancelled is CANCELLED with no output', async () => {
    const job = await ai.batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: 'never' }] }] }] });
    await ai.batches.cancel({ name: job.name! });
    const cancelled = await ai.batches.get({ name: job.name! });
    assert.equal(cancelled.state, JobState.JOB_STATE_CANCELLED);
    assert.equal(cancelled.dest?.inlinedResponses, undefined);
  });

  it('errors reach the SDK as ApiError with their status: a bad key, an unknown model, throttling', async () => {
    const wrong = new GoogleGenAI({ apiKey: 'AIza-wrong', httpOptions: { baseUrl: sim.url, apiVersion: 'v1beta' } });
    await assert.rejects(wrong.models.generateContent({ model: MODEL, contents: 'x' }), (error: unknown) => error instanceof ApiError && error.status === 400 && /API key not valid/.test(error.message));
    const narrow = await startGeminiSimulator({ models: ['gemini-2.5-pro'] });
    try {
      const client = new GoogleGenAI({ apiKey: GEMINI_SIMULATOR_API_KEY, httpOptions: { baseUrl: narrow.url, apiVersion: 'v1beta' } });
      await assert.rejects(client.models.generateContent({ model: MODEL, contents: 'x' }), (error: unknown) => error instanceof ApiError && error.status === 404);
    } finally {
      await narrow.close();
    }
    sim.failNext({ status: 429 });
    await assert.rejects(ai.models.generateContent({ model: MODEL, contents: 'x' }), (error: unknown) => error instanceof ApiError && error.status === 429 && /RESOURCE_EXHAUSTED|exhausted/i.test(error.message));
  });

  it("refuseBatchCreates(n): the next n creates are Google's 429 RESOURCE_EXHAUSTED and make no batch; the one after is taken", async () => {
    const before = sim.batches.size;
    const refused = sim.batchCreateRefusals;
    sim.refuseBatchCreates(2);
    const create = () => ai.batches.create({ model: MODEL, src: [{ contents: [{ role: 'user', parts: [{ text: 'later' }] }] }], config: { displayName: 'sdk-refused' } });
    for (let i = 0; i < 2; i++) {
      await assert.rejects(create(), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.status, 429);
        const body = JSON.parse(error.message) as { error: { code: number; status: string; message: string } };
        assert.equal(body.error.code, 429);
        assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
        assert.match(body.error.message, /exhausted/);
        return true;
      });
    }
    assert.equal(sim.batches.size, before, 'no batch made by a refused create');
    assert.equal(sim.batchCreateRefusals - refused, 2);
    const job = await create();
    assert.equal(job.state, JobState.JOB_STATE_PENDING);
    assert.equal(sim.batches.size, before + 1);
  });
});
