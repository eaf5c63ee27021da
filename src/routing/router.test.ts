import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AZURE_SIMULATOR_API_KEY, type AzureSimulator, startAzureSimulator } from '../../test/simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../../test/simulators/openai-simulator.ts';
import { parseConfig } from '../config/load-config.ts';
import { UpstreamAbortedError } from '../providers/http/transport-errors.ts';
import { chatStreamText, collectSseData } from '../providers/testing/provider-test-helpers.ts';
import { NotFoundError, UpstreamError, UpstreamTimeoutError } from '../spec/errors.ts';
import type { UpstreamJsonResponse } from '../spec/provider.ts';
import { type AttemptReport, Router, type RouterOptions } from './router.ts';

const chat = (text: string) => (client: import('../spec/provider.ts').ProviderClient, call: import('../spec/provider.ts').CallOptions) =>
  client.chatCompletions({ messages: [{ role: 'user', content: text }] }, call);

function contentOf(answer: UpstreamJsonResponse): string {
  return (answer.body as { choices: Array<{ message: { content: string } }> }).choices[0].message.content;
}

describe('the router against upstream simulators', () => {
  let openaiA: OpenAISimulator;
  let openaiB: OpenAISimulator;
  let azure: AzureSimulator;
  let sleeps: number[];
  let attempts: AttemptReport[];

  before(async () => {
    [openaiA, openaiB, azure] = await Promise.all([startOpenAISimulator(), startOpenAISimulator(), startAzureSimulator({ deployments: ['backup-dep'] })]);
  });
  after(async () => {
    await Promise.all([openaiA.close(), openaiB.close(), azure.close()]);
  });
  beforeEach(() => {
    sleeps = [];
    attempts = [];
    for (const sim of [openaiA, openaiB, azure]) sim.requests.length = 0;
  });

  const openaiEntry = (group: string, sim: OpenAISimulator, id: string, extra = '') =>
    `  - {model_name: ${group}, litellm_params: {model: openai/gpt-4o-mini, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}${extra}}, model_info: {id: ${id}}}\n`;
  const azureEntry = (group: string) =>
    `  - {model_name: ${group}, litellm_params: {model: azure/backup-dep, api_base: "${azure.url}", api_key: ${AZURE_SIMULATOR_API_KEY}}, model_info: {id: azure-backup}}\n`;

  function router(modelList: string, routerSettings = '{num_retries: 2}', options: RouterOptions = {}): Router {
    const config = parseConfig(`model_list:\n${modelList}router_settings: ${routerSettings}\n`, {});
    return new Router(config, {
      random: () => 0,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
      onAttempt: (report) => attempts.push(report),
      ...options,
    });
  }

  it('retries a 429 on the only deployment after the wait the upstream asked for, then succeeds', async () => {
    const r = router(openaiEntry('g', openaiA, 'a'));
    openaiA.failNext({ status: 429, count: 2, headers: { 'retry-after-ms': '7' } });
    const answer = await r.send('g', chat('after two 429s'));
    assert.equal(contentOf(answer), 'after two 429s');
    assert.equal(openaiA.requests.length, 3);
    assert.deepEqual(sleeps, [7, 7]);
    assert.deepEqual(attempts.map((a) => [a.deploymentId, a.attempt, a.error instanceof UpstreamError ? a.error.httpStatus : 'ok']), [
      ['a', 1, 429],
      ['a', 2, 429],
      ['a', 3, 'ok'],
    ]);
  });

  it('retries a 500 on another deployment of the group at once', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + openaiEntry('g', openaiB, 'b'));
    openaiA.failNext({ status: 500 });
    const answer = await r.send('g', chat('moved to b'));
    assert.equal(contentOf(answer), 'moved to b');
    assert.equal(openaiA.requests.length, 1);
    assert.equal(openaiB.requests.length, 1);
    assert.deepEqual(sleeps, [], 'no backoff when another deployment is available');
  });

  it('gives up after num_retries with the upstream status kept', async () => {
    const r = router(openaiEntry('g', openaiA, 'a'));
    openaiA.failNext({ status: 503, count: 3 });
    await assert.rejects(r.send('g', chat('x')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 503);
    assert.equal(openaiA.requests.length, 3, 'one attempt and num_retries=2 retries');
    assert.equal(sleeps.length, 2);
    assert.ok(sleeps[1] > sleeps[0], 'exponential backoff');
  });

  it('a deployment max_retries overrides num_retries', async () => {
    const r = router(openaiEntry('g', openaiA, 'a', ', max_retries: 0'));
    openaiA.failNext({ status: 500, count: 1 });
    await assert.rejects(r.send('g', chat('x')), UpstreamError);
    assert.equal(openaiA.requests.length, 1);
  });

  it("router_settings.retry_policy: a 429 is retried as often as the policy says, num_retries 0 notwithstanding; a 503 not at all", async () => {
    const r = router(openaiEntry('g', openaiA, 'a'), '{num_retries: 0, retry_policy: {RateLimitErrorRetries: 3, InternalServerErrorRetries: 0}}');
    openaiA.failNext({ status: 429, count: 3, headers: { 'retry-after-ms': '1' } });
    assert.equal(contentOf(await r.send('g', chat('after three 429s'))), 'after three 429s');
    assert.equal(openaiA.requests.length, 4);
    openaiA.failNext({ status: 503, count: 1 });
    await assert.rejects(r.send('g', chat('x')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 503);
    assert.equal(openaiA.requests.length, 5, 'no retry of the 503');
    // A caller that sets its own retries (the batch engine's lines) keeps them.
    openaiA.failNext({ status: 429, count: 1, headers: { 'retry-after-ms': '1' } });
    await assert.rejects(r.send('g', chat('y'), { maxRetries: 0 }), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 429);
    assert.equal(openaiA.requests.length, 6);
  });

  it('does not retry a bad request', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + openaiEntry('g', openaiB, 'b'));
    await assert.rejects(r.send('g', chat('FAIL')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 400);
    assert.equal(openaiA.requests.length + openaiB.requests.length, 1);
  });

  it('falls back to another model group once the group is exhausted', async () => {
    const r = router(openaiEntry('primary', openaiA, 'a') + azureEntry('backup'), '{num_retries: 1, fallbacks: [{primary: [backup]}]}');
    openaiA.failNext({ status: 500, count: 2 });
    const answer = await r.send('primary', chat('served by the fallback'));
    assert.equal(contentOf(answer), 'served by the fallback');
    assert.equal(openaiA.requests.length, 2);
    assert.equal(azure.requests.length, 1);
    assert.deepEqual(
      attempts.map((a) => a.modelGroup),
      ['primary', 'primary', 'backup'],
    );
    openaiA.failNext({ status: 500, count: 2 });
    await assert.rejects(r.send('primary', chat('x'), { fallbacks: false }), UpstreamError);
    assert.equal(azure.requests.length, 1);
  });

  it('leaves out the fallback groups the caller may not use', async () => {
    const r = router(openaiEntry('primary', openaiA, 'a') + azureEntry('backup'), '{num_retries: 0, fallbacks: [{primary: [backup]}]}');
    openaiA.failNext({ status: 500 });
    await assert.rejects(r.send('primary', chat('x'), { mayUseGroup: (group) => group === 'primary' }), UpstreamError);
    assert.equal(azure.requests.length, 0);
    openaiA.failNext({ status: 500 });
    assert.equal(contentOf(await r.send('primary', chat('allowed'), { mayUseGroup: () => true })), 'allowed');
    assert.equal(azure.requests.length, 1);
  });

  it('does not fall back on a bad request', async () => {
    const r = router(openaiEntry('primary', openaiA, 'a') + azureEntry('backup'), '{fallbacks: [{primary: [backup]}]}');
    await assert.rejects(r.send('primary', chat('FAIL')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 400);
    assert.equal(azure.requests.length, 0);
  });

  it('a deployment that keeps failing cools down and is skipped by later requests', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + openaiEntry('g', openaiB, 'b'), '{num_retries: 2, allowed_fails: 1, cooldown_time: 60}');
    openaiA.failNext({ status: 500 });
    await r.send('g', chat('first'));
    assert.equal(openaiA.requests.length, 1);
    // random() = 0 always prefers a; a is cooling, so b serves every following request.
    for (let i = 0; i < 3; i++) await r.send('g', chat(`later ${i}`));
    assert.equal(openaiA.requests.length, 1);
    assert.equal(openaiB.requests.length, 4);
  });

  it("allowed_fails_policy: a deployment whose rate limits the policy allows several of keeps serving; bad requests it names cool it down", async () => {
    const limits = router(openaiEntry('g', openaiA, 'a') + openaiEntry('g', openaiB, 'b'), '{num_retries: 0, allowed_fails: 1, cooldown_time: 60, allowed_fails_policy: {RateLimitErrorAllowedFails: 3, BadRequestErrorAllowedFails: 2}}');
    const seenA = openaiA.requests.length;
    openaiA.failNext({ status: 429 });
    await assert.rejects(limits.send('g', chat('limited')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 429);
    // allowed_fails alone (1) would cool `a` down here; the policy allows 3 rate limits.
    await limits.send('g', chat('after one 429'));
    assert.equal(openaiA.requests.length - seenA, 2, 'a still serves');

    const bad = router(openaiEntry('h', openaiA, 'a') + openaiEntry('h', openaiB, 'b'), '{num_retries: 0, cooldown_time: 60, allowed_fails_policy: {BadRequestErrorAllowedFails: 2}}');
    const before = { a: openaiA.requests.length, b: openaiB.requests.length };
    for (let i = 0; i < 2; i++) await assert.rejects(bad.send('h', chat('FAIL')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 400);
    // Two bad requests reached the policy's count: `a` cools down and `b` serves.
    await bad.send('h', chat('served'));
    assert.equal(openaiA.requests.length - before.a, 2);
    assert.equal(openaiB.requests.length - before.b, 1);
  });

  it("retry_after: a retry waits at least that long, longer than the backoff would (LiteLLM's retry_after)", async () => {
    const r = router(openaiEntry('g', openaiA, 'a'), '{num_retries: 1, retry_after: 3}');
    sleeps.length = 0;
    openaiA.failNext({ status: 500 });
    await r.send('g', chat('retried'));
    assert.deepEqual(sleeps, [3_000]);
  });

  it("model_group_retry_policy: a group's own retry_policy replaces the router's for it; other groups keep the router's", async () => {
    const r = router(openaiEntry('strict', openaiA, 'a') + openaiEntry('loose', openaiB, 'b'), '{num_retries: 0, retry_policy: {RateLimitErrorRetries: 2}, model_group_retry_policy: {strict: {RateLimitErrorRetries: 0}}}');
    const before = { a: openaiA.requests.length, b: openaiB.requests.length };
    openaiA.failNext({ status: 429 });
    await assert.rejects(r.send('strict', chat('once')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 429);
    assert.equal(openaiA.requests.length - before.a, 1, 'not retried');
    openaiB.failNext({ status: 429 });
    await r.send('loose', chat('retried'));
    assert.equal(openaiB.requests.length - before.b, 2, "the router's policy retries it");
  });

  it('disable_cooldowns: a deployment that keeps failing is never skipped', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + openaiEntry('g', openaiB, 'b'), '{num_retries: 0, allowed_fails: 1, cooldown_time: 60, disable_cooldowns: true}');
    const seen = openaiA.requests.length;
    openaiA.failNext({ status: 500 });
    await assert.rejects(r.send('g', chat('fails')), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 500);
    await r.send('g', chat('after'));
    assert.equal(openaiA.requests.length - seen, 2, 'random() = 0 prefers a, which is not cooling');
  });

  it('the deployment timeout aborts a slow upstream with a timeout error', async () => {
    const r = router(openaiEntry('g', openaiA, 'a', ', timeout: 0.2'), '{num_retries: 0}');
    openaiA.setLatency(1_000);
    try {
      const started = Date.now();
      await assert.rejects(r.send('g', chat('slow')), UpstreamTimeoutError);
      assert.ok(Date.now() - started < 900);
    } finally {
      openaiA.setLatency(0);
    }
  });

  it("stream_timeout times streamed requests, timeout the others (LiteLLM's stream_timeout)", async () => {
    const r = router(openaiEntry('g', openaiA, 'a', ', timeout: 30, stream_timeout: 0.2'), '{num_retries: 0}');
    openaiA.setLatency(1_000);
    try {
      const streamed = (client: import('../spec/provider.ts').ProviderClient, call: import('../spec/provider.ts').CallOptions) =>
        client.chatCompletionsStream({ messages: [{ role: 'user', content: 'slow' }] }, call);
      await assert.rejects(r.send('g', streamed, { stream: true }), UpstreamTimeoutError);
      assert.equal(contentOf(await r.send('g', chat('slow but within timeout'))), 'slow but within timeout');
    } finally {
      openaiA.setLatency(0);
    }
  });

  it('a client that disconnects stops the retries', async () => {
    const controller = new AbortController();
    const r = router(openaiEntry('g', openaiA, 'a'), '{num_retries: 5}', {
      sleep: async () => {
        controller.abort();
        throw new DOMException('aborted', 'AbortError');
      },
    });
    openaiA.failNext({ status: 500, count: 1 });
    await assert.rejects(r.send('g', chat('x'), { signal: controller.signal }), UpstreamAbortedError);
    assert.equal(openaiA.requests.length, 1);
  });

  it('a stream that fails to open is retried; send resolves once it is open', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + azureEntry('g'));
    openaiA.failNext({ status: 502 });
    const stream = await r.send('g', (client, call) => client.chatCompletionsStream({ messages: [{ role: 'user', content: 'streamed after a retry' }] }, call));
    assert.equal(stream.status, 200);
    assert.equal(chatStreamText(await collectSseData(stream.body)), 'streamed after a retry');
    assert.equal(azure.requests.length, 1);
  });

  it('sendTo retries on the one deployment it is given', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + openaiEntry('g', openaiB, 'b'));
    openaiB.failNext({ status: 500 });
    const answer = await r.sendTo('b', chat('pinned'));
    assert.equal(contentOf(answer), 'pinned');
    assert.equal(openaiA.requests.length, 0);
    assert.equal(openaiB.requests.length, 2);
  });

  it('knows its groups and deployments, and rejects an unknown model group', async () => {
    const r = router(openaiEntry('g', openaiA, 'a') + azureEntry('backup'));
    assert.deepEqual(r.modelGroups(), ['g', 'backup']);
    assert.equal(r.hasModelGroup('g'), true);
    assert.deepEqual(r.deploymentsOf('backup').map((d) => d.id), ['azure-backup']);
    assert.equal(r.deployment('a')?.providerName, 'openai');
    assert.equal(r.clientFor('azure-backup').batchLineModel, 'backup-dep');
    assert.equal(r.clientFor('a'), r.clientFor('a'), 'clients are created once');
    await assert.rejects(r.send('nope', chat('x')), (error: unknown) => error instanceof NotFoundError && error.code === 'model_not_found');
  });
});

describe('the router with the mock provider', () => {
  it('balances a group by weight', async () => {
    const config = parseConfig(
      `model_list:
  - {model_name: g, litellm_params: {model: mock/m, mock_response: one, weight: 1}, model_info: {id: one}}
  - {model_name: g, litellm_params: {model: mock/m, mock_response: three, weight: 3}, model_info: {id: three}}
`,
      {},
    );
    let i = 0;
    const r = new Router(config, { random: () => (i++ % 4) / 4 });
    const counts = new Map<string, number>();
    for (let n = 0; n < 40; n++) {
      const answer = await r.send('g', chat('hi'));
      counts.set(contentOf(answer), (counts.get(contentOf(answer)) ?? 0) + 1);
    }
    assert.deepEqual(Object.fromEntries(counts), { one: 10, three: 30 });
  });

  it("send with `only` goes to those deployments alone, and falls back to no other group when they fail", async () => {
    const config = parseConfig(
      `model_list:
  - {model_name: g, litellm_params: {model: mock/m, mock_response: first}, model_info: {id: first}}
  - {model_name: g, litellm_params: {model: mock/m, mock_response: second}, model_info: {id: second}}
  - {model_name: backup, litellm_params: {model: mock/m, mock_response: backup}, model_info: {id: backup}}
router_settings: {fallbacks: [{g: [backup]}], num_retries: 0}
`,
      {},
    );
    const r = new Router(config, { random: () => 0 });
    for (let n = 0; n < 4; n++) assert.equal(contentOf(await r.send('g', chat('hi'), { only: new Set(['second']) })), 'second');
    const failing = (client: import('../spec/provider.ts').ProviderClient) =>
      client.deployment.id === 'backup' ? client.chatCompletions({ messages: [{ role: 'user', content: 'x' }] }) : Promise.reject(new UpstreamError(500, { message: 'down', type: 'api_error', param: null, code: null }, { isRetryable: true }));
    assert.equal(contentOf(await r.send('g', failing)), 'backup', 'without `only`, the fallback answers');
    await assert.rejects(r.send('g', failing, { only: new Set(['second']) }), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 500);
  });

  it("send picks within the request's preferred deployments, under simple-shuffle and a load-aware strategy alike", async () => {
    for (const strategy of ['simple-shuffle', 'least-busy']) {
      const config = parseConfig(
        `model_list:
  - {model_name: g, litellm_params: {model: mock/m, mock_response: first}, model_info: {id: first}}
  - {model_name: g, litellm_params: {model: mock/m, mock_response: second}, model_info: {id: second}}
router_settings: {routing_strategy: ${strategy}}
`,
        {},
      );
      // random() = 0 always picks the first deployment of a pool.
      const r = new Router(config, { random: () => 0 });
      assert.equal(contentOf(await r.send('g', chat('hi'))), 'first', strategy);
      const answer = await r.send('g', chat('hi'), { prefer: (pool) => pool.filter((d) => d.id === 'second') });
      assert.equal(contentOf(answer), 'second', strategy);
    }
  });
});
