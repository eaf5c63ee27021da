/**
 * The Vertex AI simulator answers Google's own clients: `@google/genai` in Vertex mode (chat, a
 * stream, embeddings, batch prediction jobs created from GCS, read, listed and cancelled, errors
 * as the SDK's ApiError) and `@google-cloud/storage` (objects written, listed, read back and
 * deleted), both authorised by google-auth-library's service-account JWT exchanged at the
 * simulator's token endpoint. The SDKs are the clients, so the wire format is theirs, not
 * Portico's guess. Claude's `rawPredict` has no Google SDK; it is driven over HTTP as Anthropic's
 * Vertex guide shows it, and so is a Claude batch prediction job (its REST request as Google's
 * Claude batch guide shows it), its input and output moved by `@google-cloud/storage`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, GoogleGenAI, JobState } from '@google/genai';
import { Storage } from '@google-cloud/storage';
import { JWT } from 'google-auth-library';
import { startVertexSimulator, VERTEX_ANTHROPIC_VERSION, type VertexSimulator } from './vertex-simulator.ts';

const MODEL = 'gemini-2.5-flash';
const LOCATION = 'us-central1';
const BUCKET = 'sdk-bucket';

/** google-auth-library's service-account client, its token exchange sent to the key's token_uri. */
function serviceAccountClient(sim: VertexSimulator): JWT {
  const key = sim.serviceAccountKey();
  const client = new JWT({ email: key.client_email, key: key.private_key, keyId: key.private_key_id, scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  client.transporter.interceptors.request.add({
    resolved: async (options) => {
      if (options.url.href === 'https://oauth2.googleapis.com/token') options.url = new URL(key.token_uri);
      return options;
    },
  });
  return client;
}

describe('Vertex AI simulator, driven by @google/genai and @google-cloud/storage', () => {
  let sim: VertexSimulator;
  let ai: GoogleGenAI;
  let storage: Storage;
  before(async () => {
    sim = await startVertexSimulator();
    // @google/genai bundles google-auth-library 10: its types differ from 11's, the client it calls (getRequestHeaders) does not.
    const authClient = serviceAccountClient(sim);
    ai = new GoogleGenAI({ vertexai: true, project: sim.project, location: LOCATION, googleAuthOptions: { authClient: authClient as never }, httpOptions: { baseUrl: sim.url, apiVersion: 'v1' } });
    storage = new Storage({ apiEndpoint: sim.url, useAuthWithCustomEndpoint: true, authClient, projectId: sim.project });
  });
  after(() => sim.close());

  it('generateContent answers with a bearer token from the service-account exchange', async () => {
    const response = await ai.models.generateContent({ model: MODEL, contents: 'Hello Vertex', config: { systemInstruction: 'Be brief.' } });
    assert.equal(response.text, 'Hello Vertex');
    assert.equal(response.candidates?.[0]?.finishReason, 'STOP');
    const sent = sim.requests.at(-1)!;
    assert.equal(sent.path, `/v1/projects/${sim.project}/locations/${LOCATION}/publishers/google/models/${MODEL}:generateContent`);
    assert.match(String(sent.headers.authorization), /^Bearer ya29\.sim-/);
    assert.ok(sim.tokensIssued >= 1);
  });

  it('generateContentStream arrives in several chunks over SSE', async () => {
    let text = '';
    let chunks = 0;
    for await (const chunk of await ai.models.generateContentStream({ model: MODEL, contents: 'Stream this reply please' })) {
      chunks += 1;
      text += chunk.text ?? '';
    }
    assert.equal(text, 'Stream this reply please');
    assert.ok(chunks > 1);
    assert.equal(sim.requests.at(-1)!.query.alt, 'sse');
  });

  it('embedContent on a text-embedding model goes through :predict', async () => {
    const response = await ai.models.embedContent({ model: 'text-embedding-005', contents: ['one', 'two'], config: { outputDimensionality: 8 } });
    assert.equal(response.embeddings?.length, 2);
    assert.equal(response.embeddings?.[0]?.values?.length, 8);
    assert.ok((response.embeddings?.[0]?.statistics?.tokenCount ?? 0) > 0);
    assert.match(sim.requests.at(-1)!.path, /publishers\/google\/models\/text-embedding-005:predict$/);
  });

  it("an error is the SDK's ApiError with Google's status", async () => {
    await assert.rejects(ai.models.generateContent({ model: MODEL, contents: 'FAIL:429' }), (error: unknown) => error instanceof ApiError && error.status === 429);
  });

  it('a request without a valid token is refused with 401 UNAUTHENTICATED', async () => {
    const response = await fetch(`${sim.url}/v1/projects/${sim.project}/locations/${LOCATION}/publishers/google/models/${MODEL}:generateContent`, {
      method: 'POST',
      headers: { authorization: 'Bearer ya29.not-issued', 'content-type': 'application/json' },
      body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(response.status, 401);
    assert.equal(((await response.json()) as { error: { status: string } }).error.status, 'UNAUTHENTICATED');
  });

  it('a token works until it expires, then is refused with 401', async () => {
    const { token } = await serviceAccountClient(sim).getAccessToken();
    const call = () =>
      fetch(`${sim.url}/v1/projects/${sim.project}/locations/${LOCATION}/publishers/google/models/${MODEL}:generateContent`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
      });
    assert.equal((await call()).status, 200);
    sim.expireToken(token!);
    assert.equal((await call()).status, 401);
  });

  it('Cloud Storage: an object is written, listed, read back and deleted', async () => {
    const file = storage.bucket(BUCKET).file('inputs/batch.jsonl');
    const content = '{"request":{"contents":[{"role":"user","parts":[{"text":"alpha"}]}]}}\n{"request":{"contents":[{"role":"user","parts":[{"text":"FAIL"}]}]}}\n';
    await file.save(content, { resumable: false, contentType: 'application/jsonl' });
    const [files] = await storage.bucket(BUCKET).getFiles({ prefix: 'inputs/' });
    assert.deepEqual(files.map((f) => f.name), ['inputs/batch.jsonl']);
    const [bytes] = await file.download();
    assert.equal(bytes.toString('utf8'), content);
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.size, String(Buffer.byteLength(content)));
    const copy = storage.bucket(BUCKET).file('inputs/copy.jsonl');
    await copy.save(content, { resumable: false });
    await copy.delete();
    const [exists] = await copy.exists();
    assert.equal(exists, false);
  });

  it('a batch prediction job reads its GCS input and writes predictions.jsonl under its output prefix', async () => {
    const job = await ai.batches.create({ model: MODEL, src: `gs://${BUCKET}/inputs/batch.jsonl`, config: { displayName: 'sdk-job', dest: `gs://${BUCKET}/outputs` } });
    assert.match(job.name ?? '', /\/batchPredictionJobs\/\d+$/);
    assert.equal(job.state, JobState.JOB_STATE_PENDING);
    await sim.advanceBatches();
    assert.equal((await ai.batches.get({ name: job.name! })).state, JobState.JOB_STATE_RUNNING);
    await sim.advanceBatches();
    const done = await ai.batches.get({ name: job.name! });
    assert.equal(done.state, JobState.JOB_STATE_SUCCEEDED);
    const directory = done.dest?.gcsUri ?? '';
    assert.match(directory, new RegExp(`^gs://${BUCKET}/outputs`));
    const [outputs] = await storage.bucket(BUCKET).getFiles({ prefix: 'outputs/' });
    const predictions = outputs.find((f) => f.name.endsWith('/predictions.jsonl'))!;
    const [bytes] = await predictions.download();
    const lines = bytes.toString('utf8').trim().split('\n').map((line) => JSON.parse(line) as { status: string; response?: { candidates: Array<{ content: { parts: Array<{ text: string }> } }> } });
    assert.equal(lines.length, 2);
    assert.equal(lines[0].status, '');
    assert.equal(lines[0].response?.candidates[0].content.parts[0].text, 'alpha');
    assert.match(lines[1].status, /INVALID_ARGUMENT/);
    const listed: string[] = [];
    for await (const each of await ai.batches.list()) listed.push(each.name!);
    assert.ok(listed.includes(job.name!));
  });

  it('a cancelled job goes through CANCELLING to CANCELLED', async () => {
    const job = await ai.batches.create({ model: MODEL, src: `gs://${BUCKET}/inputs/batch.jsonl`, config: { dest: `gs://${BUCKET}/cancelled` } });
    await ai.batches.cancel({ name: job.name! });
    assert.equal((await ai.batches.get({ name: job.name! })).state, JobState.JOB_STATE_CANCELLING);
    await sim.advanceBatches();
    assert.equal((await ai.batches.get({ name: job.name! })).state, JobState.JOB_STATE_CANCELLED);
  });

  it("over the project's quota of concurrent jobs a create is refused 429 RESOURCE_EXHAUSTED; once a job ends the next is taken; a list filters on display_name", async () => {
    const live = [...sim.jobs.values()].filter((job) => !/SUCCEEDED|FAILED|CANCELLED|EXPIRED/.test(String(job.resource.state))).length;
    sim.setJobQuota(live + 1);
    try {
      const first = await ai.batches.create({ model: MODEL, src: `gs://${BUCKET}/inputs/batch.jsonl`, config: { displayName: 'quota-first', dest: `gs://${BUCKET}/quota` } });
      await assert.rejects(ai.batches.create({ model: MODEL, src: `gs://${BUCKET}/inputs/batch.jsonl`, config: { displayName: 'quota-second', dest: `gs://${BUCKET}/quota` } }), (error: unknown) => {
        assert.ok(error instanceof ApiError);
        assert.equal(error.status, 429);
        const body = JSON.parse(error.message.slice(error.message.indexOf('{'))) as { error: { code: number; status: string; message: string } };
        assert.equal(body.error.code, 429);
        assert.equal(body.error.status, 'RESOURCE_EXHAUSTED');
        assert.match(body.error.message, /concurrent_batch_prediction_jobs/);
        return true;
      });
      assert.equal(sim.quotaRefusals, 1);
      const named = async (displayName: string) => {
        const names: string[] = [];
        for await (const job of await ai.batches.list({ config: { filter: `display_name="${displayName}"` } })) names.push(job.name!);
        return names;
      };
      assert.deepEqual(await named('quota-first'), [first.name]);
      assert.deepEqual(await named('quota-second'), [], 'the refused create made no job');
      await sim.advanceBatches();
      await sim.advanceBatches();
      assert.equal((await ai.batches.get({ name: first.name! })).state, JobState.JOB_STATE_SUCCEEDED);
      const second = await ai.batches.create({ model: MODEL, src: `gs://${BUCKET}/inputs/batch.jsonl`, config: { displayName: 'quota-second', dest: `gs://${BUCKET}/quota` } });
      assert.deepEqual(await named('quota-second'), [second.name]);
    } finally {
      sim.setJobQuota(undefined);
    }
  });

  it('Claude rawPredict takes the Messages body with the Vertex anthropic_version and no model', async () => {
    const client = serviceAccountClient(sim);
    const { token } = await client.getAccessToken();
    const url = `${sim.url}/v1/projects/${sim.project}/locations/${LOCATION}/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict`;
    const post = (body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const message = { max_tokens: 50, messages: [{ role: 'user', content: 'Hello Claude' }] };
    const ok = await post({ anthropic_version: VERTEX_ANTHROPIC_VERSION, ...message });
    assert.equal(ok.status, 200);
    const answer = (await ok.json()) as { type: string; content: Array<{ text: string }> };
    assert.equal(answer.type, 'message');
    assert.equal(answer.content[0].text, 'Hello Claude');
    assert.equal((await post(message)).status, 400, 'the version is required');
    assert.equal((await post({ anthropic_version: VERTEX_ANTHROPIC_VERSION, model: 'claude-sonnet-4', ...message })).status, 400, 'the model is named by the URL only');
  });

  it('a Claude batch prediction job (REST) reads {custom_id, request} lines from GCS and writes Anthropic responses, or the failure, under each custom_id', async () => {
    const { token } = await serviceAccountClient(sim).getAccessToken();
    const input = storage.bucket(BUCKET).file('claude/input.jsonl');
    const line = (id: string, text: string, extra: Record<string, unknown> = {}) => JSON.stringify({ custom_id: id, request: { anthropic_version: VERTEX_ANTHROPIC_VERSION, max_tokens: 50, messages: [{ role: 'user', content: text }], ...extra } });
    await input.save([line('request-1', 'Hello Claude batch'), line('request-2', 'FAIL'), line('request-3', 'named', { model: 'claude-x' })].join('\n') + '\n', { resumable: false, contentType: 'application/jsonl' });
    const jobs = `${sim.url}/v1/projects/${sim.project}/locations/${LOCATION}/batchPredictionJobs`;
    const call = async (url: string, body?: unknown) => {
      const response = await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body !== undefined && { body: JSON.stringify(body) }) });
      return { status: response.status, json: (await response.json()) as Record<string, unknown> };
    };
    const created = await call(jobs, {
      displayName: 'claude-batch',
      model: 'publishers/anthropic/models/claude-3-5-haiku@20241022',
      inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [`gs://${BUCKET}/claude/input.jsonl`] } },
      outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: `gs://${BUCKET}/claude/output` } },
    });
    assert.equal(created.status, 200);
    assert.equal(created.json.state, 'JOB_STATE_PENDING');
    assert.equal(created.json.model, 'publishers/anthropic/models/claude-3-5-haiku@20241022');
    const id = String(created.json.name).split('/').at(-1)!;
    await sim.advanceBatches();
    await sim.advanceBatches();
    const done = await call(`${jobs}/${id}`);
    assert.equal(done.json.state, 'JOB_STATE_SUCCEEDED');
    assert.deepEqual(done.json.completionStats, { successfulCount: '1', failedCount: '2', incompleteCount: '0' });
    const directory = String((done.json.outputInfo as { gcsOutputDirectory: string }).gcsOutputDirectory);
    assert.match(directory, new RegExp(`^gs://${BUCKET}/claude/output/`));
    const [outputs] = await storage.bucket(BUCKET).getFiles({ prefix: directory.replace(`gs://${BUCKET}/`, '') });
    assert.deepEqual(outputs.map((f) => f.name.split('/').at(-1)), ['predictions.jsonl']);
    const [bytes] = await outputs[0].download();
    const rows = bytes.toString('utf8').trim().split('\n').map((text) => JSON.parse(text) as { custom_id: string; status: string; request: unknown; response?: { type: string; model: string; content: Array<{ text: string }>; usage: { input_tokens: number } } });
    assert.deepEqual(rows.map((row) => row.custom_id), ['request-1', 'request-2', 'request-3']);
    assert.equal(rows[0].status, '');
    assert.equal(rows[0].response?.type, 'message');
    assert.equal(rows[0].response?.model, 'claude-3-5-haiku@20241022', 'the job names the model');
    assert.equal(rows[0].response?.content[0].text, 'Hello Claude batch');
    assert.ok((rows[0].response?.usage.input_tokens ?? 0) > 0);
    assert.ok(rows[0].request !== undefined, 'the request is written back with its answer');
    assert.equal(rows[1].response, undefined);
    assert.match(rows[1].status, /invalid_request_error/);
    assert.match(rows[2].status, /model: Extra inputs are not permitted/);
  });

  it('a Claude batch job is cancelled like any other; an unknown publisher is refused', async () => {
    const { token } = await serviceAccountClient(sim).getAccessToken();
    const jobs = `${sim.url}/v1/projects/${sim.project}/locations/${LOCATION}/batchPredictionJobs`;
    const post = (url: string, body: unknown) => fetch(url, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const job = (model: string) => ({ displayName: 'claude-cancel', model, inputConfig: { instancesFormat: 'jsonl', gcsSource: { uris: [`gs://${BUCKET}/claude/input.jsonl`] } }, outputConfig: { predictionsFormat: 'jsonl', gcsDestination: { outputUriPrefix: `gs://${BUCKET}/claude/cancelled` } } });
    const created = (await (await post(jobs, job('publishers/anthropic/models/claude-3-5-haiku@20241022'))).json()) as { name: string };
    const id = created.name.split('/').at(-1)!;
    assert.equal((await post(`${jobs}/${id}:cancel`, {})).status, 200);
    await sim.advanceBatches();
    const cancelled = (await (await fetch(`${jobs}/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as { state: string };
    assert.equal(cancelled.state, 'JOB_STATE_CANCELLED');
    assert.equal((await post(jobs, job('publishers/meta/models/llama'))).status, 400);
  });
});
