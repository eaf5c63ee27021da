/**
 * LiteLLM's rerank through Portico, as a LiteLLM user configures it (`model:
 * cohere/rerank-english-v3.0`, `api_key: os.environ/COHERE_API_KEY`) and calls it: with `fetch`
 * on `/rerank`, `/v1/rerank` and `/v2/rerank` (the openai SDK has no rerank), and with Cohere's
 * own SDK pointed at Portico. Against the Cohere simulator (proven with Cohere's SDK in
 * test/simulators/cohere-simulator.test.ts): results by relevance, `top_n`, `return_documents`
 * answered by Portico (Cohere's v2 has none), document objects sent as text, a key's model
 * allowlist and rate limit, a chat-only deployment's 400, malformed bodies in OpenAI's envelope,
 * Cohere's errors with their status, the health check of a `mode: rerank` deployment, and the
 * spend ledger's row priced per search.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CohereClientV2 } from 'cohere-ai';
import { startPortico, type PorticoUnderTest } from '../../helpers/portico.ts';
import { COHERE_SIMULATOR_API_KEY, startCohereSimulator, type CohereSimulator } from '../../simulators/cohere-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-cohere-rerank-e2e-master-0123456789';
const WARNINGS = 'x-portico-warnings';
const QUERY = 'What is the capital of France?';
const DOCUMENTS = ['Paris is in France.', 'The capital of France is Paris.', 'Berlin is in Germany.', 'Bananas are yellow.'];

interface RerankAnswer {
  id: string;
  results: { index: number; relevance_score: number; document?: Record<string, unknown> }[];
  meta: { api_version?: { version: string }; billed_units: { search_units: number } };
}

interface ErrorAnswer {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function config(cohere: CohereSimulator, openai: OpenAISimulator): string {
  return `
model_list:
  - model_name: rerank-english-v3.0
    litellm_params:
      model: cohere/rerank-english-v3.0
      api_key: os.environ/COHERE_API_KEY
      api_base: ${cohere.url}
    model_info: { mode: rerank }
  - model_name: rerank-wrong-key
    litellm_params: { model: cohere/rerank-v3.5, api_key: wrong-key, api_base: "${cohere.url}/v2/rerank" }
  - model_name: gpt-4o-mini
    litellm_params: { model: openai/gpt-4o-mini, api_key: ${OPENAI_SIMULATOR_API_KEY}, api_base: "${openai.url}" }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 0
portico_settings:
  spend_logs: { flush_interval_ms: 20 }
`;
}

describe('rerank through Portico', () => {
  let cohere: CohereSimulator;
  let openai: OpenAISimulator;
  let portico: PorticoUnderTest;

  before(async () => {
    cohere = await startCohereSimulator();
    openai = await startOpenAISimulator();
    portico = await startPortico(config(cohere, openai), { env: { ...process.env, COHERE_API_KEY: COHERE_SIMULATOR_API_KEY } });
  });
  after(async () => {
    await portico?.close();
    await openai?.close();
    await cohere?.close();
  });

  const rerank = (path: string, body: Record<string, unknown>, init: { apiKey?: string; requestId?: string } = {}) =>
    portico.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(init.requestId !== undefined && { 'x-request-id': init.requestId }) },
      body: JSON.stringify(body),
      ...(init.apiKey !== undefined && { apiKey: init.apiKey }),
    });
  const lastRerank = () => cohere.requests.filter((request) => request.path === '/v2/rerank').at(-1)!;
  const rerankCalls = () => cohere.requests.filter((request) => request.path === '/v2/rerank').length;

  test("/rerank answers Cohere's shape, most relevant first, with Cohere's id and billed units; Cohere gets the deployment's model", async () => {
    const response = await rerank('/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as RerankAnswer;
    assert.deepEqual(answer.results.map((result) => result.index), [1, 0, 2, 3]);
    assert.ok(answer.results.every((result, i) => result.document === undefined && (i === 0 || result.relevance_score <= answer.results[i - 1].relevance_score)));
    assert.match(answer.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(answer.meta.billed_units, { search_units: 1 });
    assert.equal(answer.meta.api_version?.version, '2');
    assert.equal(response.headers.get(WARNINGS), null);
    const sent = lastRerank();
    assert.equal(sent.headers.authorization, `Bearer ${COHERE_SIMULATOR_API_KEY}`);
    assert.deepEqual(sent.json, { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS });
  });

  test('/v1/rerank keeps top_n; return_documents is answered by Portico, document objects go to Cohere as their text', async () => {
    const documents = [{ text: 'Paris is in France.', source: 'atlas' }, 'The capital of France is Paris.', { text: 'Berlin is in Germany.' }];
    const response = await rerank('/v1/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents, top_n: 2, return_documents: true });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as RerankAnswer;
    assert.deepEqual(
      answer.results.map((result) => [result.index, result.document]),
      [
        [1, { text: 'The capital of France is Paris.' }],
        [0, { text: 'Paris is in France.', source: 'atlas' }],
      ],
    );
    assert.deepEqual(lastRerank().json, { model: 'rerank-english-v3.0', query: QUERY, documents: ['Paris is in France.', 'The capital of France is Paris.', 'Berlin is in Germany.'], top_n: 2 });
  });

  test('/v2/rerank serves the same; rank_fields rank structured documents by those fields; v1-only parameters are dropped and named', async () => {
    const documents = [{ title: 'Bananas', body: 'yellow fruit' }, { title: 'France', body: 'Its capital is Paris' }];
    const response = await rerank('/v2/rerank', { model: 'rerank-english-v3.0', query: 'capital of France', documents, rank_fields: ['title', 'body'], max_chunks_per_doc: 3 });
    assert.equal(response.status, 200);
    assert.deepEqual(((await response.json()) as RerankAnswer).results.map((result) => result.index), [1, 0]);
    assert.deepEqual((lastRerank().json as { documents: string[] }).documents, ['title: Bananas\nbody: yellow fruit', 'title: France\nbody: Its capital is Paris']);
    assert.match(response.headers.get(WARNINGS) ?? '', /^max_chunks_per_doc: 'max_chunks_per_doc' is Cohere's v1 rerank parameter/);
  });

  test("Cohere's own SDK pointed at Portico, the master key as its token, reranks through /v2/rerank", async () => {
    const client = new CohereClientV2({ token: MASTER_KEY, environment: portico.url, maxRetries: 0 });
    const answer = await client.rerank({ model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS, topN: 3 });
    assert.deepEqual(answer.results.map((result) => result.index), [1, 0, 2]);
    assert.equal(answer.meta?.billedUnits?.searchUnits, 1);
    assert.equal(typeof answer.id, 'string');
  });

  test('a key without the model gets 403, an unknown model 404, and a key over its rpm_limit 429, as on the other model routes', async () => {
    const chatOnly = await portico.generateKey({ models: ['gpt-4o-mini'] });
    const refused = await rerank('/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS }, { apiKey: chatOnly.key });
    assert.equal(refused.status, 403);
    assert.equal(((await refused.json()) as ErrorAnswer).error.code, 'model_not_allowed');
    const unknown = await rerank('/rerank', { model: 'rerank-nope', query: QUERY, documents: DOCUMENTS });
    assert.equal(unknown.status, 404);

    const limited = await portico.generateKey({ models: ['rerank-english-v3.0'], rpm_limit: 1 });
    assert.equal((await rerank('/v1/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS }, { apiKey: limited.key })).status, 200);
    const over = await rerank('/v1/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS }, { apiKey: limited.key });
    assert.equal(over.status, 429);
    assert.equal(((await over.json()) as ErrorAnswer).error.type, 'rate_limit_error');
  });

  test('a chat-only deployment answers a 400 naming the missing capability; no upstream call', async () => {
    const before = openai.requests.length;
    const response = await rerank('/rerank', { model: 'gpt-4o-mini', query: QUERY, documents: DOCUMENTS });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as ErrorAnswer;
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.code, 'unsupported_operation');
    assert.match(error.message, /does not support \/v1\/rerank/);
    assert.equal(openai.requests.length, before);
  });

  test("a malformed body is a 400 in OpenAI's envelope naming the field, before any upstream call", async () => {
    const before = rerankCalls();
    const noQuery = await rerank('/rerank', { model: 'rerank-english-v3.0', documents: DOCUMENTS });
    assert.equal(noQuery.status, 400);
    assert.deepEqual(((await noQuery.json()) as ErrorAnswer).error, { message: "Missing required parameter: 'query'.", type: 'invalid_request_error', param: 'query', code: 'missing_required_parameter' });
    const notList = await rerank('/v1/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: 'Paris' });
    assert.equal(notList.status, 400);
    assert.equal(((await notList.json()) as ErrorAnswer).error.param, 'documents');
    const badTopN = await rerank('/v2/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS, top_n: 0 });
    assert.equal(badTopN.status, 400);
    assert.equal(((await badTopN.json()) as ErrorAnswer).error.param, 'top_n');
    const notJson = await portico.fetch('/rerank', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model": ' });
    assert.equal(notJson.status, 400);
    assert.equal(rerankCalls(), before);
  });

  test("Cohere's errors keep their status in OpenAI's envelope: 400, 429, 401", async () => {
    const empty = await rerank('/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: [] });
    assert.equal(empty.status, 400);
    assert.equal(((await empty.json()) as ErrorAnswer).error.message, 'invalid request: list of documents must not be empty');
    const limited = await rerank('/rerank', { model: 'rerank-english-v3.0', query: 'FAIL:429', documents: DOCUMENTS });
    assert.equal(limited.status, 429);
    assert.equal(((await limited.json()) as ErrorAnswer).error.code, 'rate_limit_exceeded');
    const wrongKey = await rerank('/rerank', { model: 'rerank-wrong-key', query: QUERY, documents: DOCUMENTS });
    assert.equal(wrongKey.status, 401);
    assert.equal(((await wrongKey.json()) as ErrorAnswer).error.type, 'authentication_error');
  });

  test("GET /health checks a deployment whose model_info.mode is rerank with a rerank", async () => {
    const response = await portico.fetch('/health?model=rerank-english-v3.0');
    assert.equal(response.status, 200);
    assert.equal(((await response.json()) as { healthy_count: number }).healthy_count, 1);
    assert.deepEqual(lastRerank().json, { model: 'rerank-english-v3.0', query: 'test from portico', documents: ['test from portico'] });
  });

  test('the spend ledger records each rerank, priced per search ($0.002 each, as /model/info shows): one search up to 100 documents, three for 250', async () => {
    assert.equal((await rerank('/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: DOCUMENTS }, { requestId: 'rerank-one-search' })).status, 200);
    const many = Array.from({ length: 250 }, (_, i) => `document ${i}`);
    assert.equal((await rerank('/v2/rerank', { model: 'rerank-english-v3.0', query: QUERY, documents: many }, { requestId: 'rerank-three-searches' })).status, 200);
    assert.equal((await rerank('/rerank', { model: 'rerank-english-v3.0', query: 'FAIL:500', documents: DOCUMENTS }, { requestId: 'rerank-failed' })).status, 500);
    await portico.services.spend!.ledger.flushAll();
    const row = async (requestId: string) => {
      const response = await portico.fetch(`/spend/logs?request_id=${requestId}`);
      assert.equal(response.status, 200);
      const rows = (await response.json()) as { call_type: string; spend: number; model_group: string; custom_llm_provider: string; status: string }[];
      assert.equal(rows.length, 1, requestId);
      return rows[0];
    };
    const one = await row('rerank-one-search');
    assert.deepEqual([one.call_type, one.model_group, one.custom_llm_provider, one.status], ['/rerank', 'rerank-english-v3.0', 'cohere', 'success']);
    assert.ok(Math.abs(one.spend - 0.002) < 1e-12, String(one.spend));
    assert.ok(Math.abs((await row('rerank-three-searches')).spend - 0.006) < 1e-12);
    const failed = await row('rerank-failed');
    assert.deepEqual([failed.status, failed.spend], ['failure', 0]);
 
    const info = (await (await portico.fetch('/model/info')).json()) as { data: { model_name: string; model_info: { input_cost_per_query: number | null } }[] };
    assert.equal(info.data.find((entry) => entry.model_name === 'rerank-english-v3.0')?.model_info.input_cost_per_query, 0.002);
  });
});
