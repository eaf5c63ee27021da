/**
 * LiteLLM's `general_settings.global_max_parallel_requests`: one Portico process serves at most
 * that many model requests at once, whoever sends them (the master key too). One more is a 429 in
 * OpenAI's envelope with LiteLLM's words and a `retry-after`; a slot frees when its response
 * closes: answered, streamed to its end, or cut by the client. Routes that call no model are not
 * counted. Through the `openai` SDK against the OpenAI simulator.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { eventually } from '../helpers/budget-assertions.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { OPENAI_SIMULATOR_API_KEY, startOpenAISimulator, type OpenAISimulator } from '../simulators/openai-simulator.ts';

const MASTER_KEY = 'sk-global-parallel-master-0123';

let simulator: OpenAISimulator;
let portico: PorticoUnderTest;

before(async () => {
  simulator = await startOpenAISimulator();
  portico = await startPortico(`
model_list:
  - model_name: upstream
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${simulator.url}", api_key: ${OPENAI_SIMULATOR_API_KEY} }
general_settings:
  master_key: ${MASTER_KEY}
  global_max_parallel_requests: 2
router_settings:
  num_retries: 0
`);
});

after(async () => {
  await portico?.close();
  await simulator?.close();
});

const ask = (client: OpenAI, options: OpenAI.RequestOptions = {}) =>
  client.chat.completions.create({ model: 'upstream', messages: [{ role: 'user', content: 'a question' }] }, options);

test('a third model request while two hang upstream is a 429 with LiteLLM\'s words; slots free when a client gives up and when an answer ends', async () => {
  const client = portico.client(MASTER_KEY);
  const other = portico.client((await portico.generateKey({})).key);
  simulator.slowNext({ ms: 10_000, match: { path: /chat\/completions/ } });
  simulator.slowNext({ ms: 10_000, match: { path: /chat\/completions/ } });
  const seen = simulator.requests.length;
  const abortFirst = new AbortController();
  const abortSecond = new AbortController();
  const first = ask(client, { signal: abortFirst.signal }).catch((error: unknown) => error);
  const second = ask(other, { signal: abortSecond.signal }).catch((error: unknown) => error);
  await eventually('both requests reach the upstream', async () => simulator.requests.slice(seen).filter((r) => r.path.endsWith('/chat/completions')).length === 2);

  const response = await portico.fetch('/v1/chat/completions', {
    apiKey: MASTER_KEY,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'upstream', messages: [{ role: 'user', content: 'third' }] }),
  });
  assert.equal(response.status, 429);
  const body = (await response.json()) as { error: { type: string; code: string; message: string } };
  assert.equal(body.error.type, 'rate_limit_error');
  assert.equal(body.error.code, 'rate_limit_exceeded');
  assert.equal(body.error.message, 'Max parallel request limit reached Hit Global Limit: Limit=2, current: 2');
  assert.ok(Number(response.headers.get('retry-after')) >= 1);
  await assert.rejects(ask(portico.client(MASTER_KEY, { maxRetries: 0 })), OpenAI.RateLimitError);

  // A route that calls no model is not counted.
  assert.equal((await portico.fetch('/v1/models', { apiKey: MASTER_KEY })).status, 200);

  // The first client gives up: its slot frees, and one more request is served.
  abortFirst.abort();
  assert.ok((await first) instanceof Error);
  await eventually('a slot is free after a client gave up', () => ask(client).then(() => true, () => false));
  // Still one slot held by the second: a streamed answer takes the other and gives it back at its end.
  const stream = await client.chat.completions.create({ model: 'upstream', stream: true, messages: [{ role: 'user', content: 'streamed' }] });
  for await (const _chunk of stream) {
    // drained
  }
  assert.equal((await ask(client)).object, 'chat.completion');
  abortSecond.abort();
  assert.ok((await second) instanceof Error);
  // Both slots free once Portico saw the second client go: two at once are served.
  await eventually('two requests at once are served after the second client gave up', () =>
    Promise.all([ask(client), ask(other)]).then((both) => both.every((answer) => answer.object === 'chat.completion'), () => false),
  );
});
