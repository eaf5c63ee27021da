import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../config/load-config.ts';
import { InMemoryRateLimiter } from '../routing/rate-limits/in-memory-rate-limiter.ts';
import type { RateLimitDecision, RateLimiter } from '../routing/rate-limits/rate-limiter.ts';
import { BATCH_REQUEST_ID_PREFIX, deploymentTpmKey } from '../routing/rate-limits/deployment-budgets.ts';
import { Router } from '../routing/router.ts';
import { RateLimitError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { CallOptions, ProviderClient, UpstreamStream } from '../spec/provider.ts';
import { keyTpmKey, LiveRateLimits } from './live-rate-limits.ts';
import { tokensOfEvent, tokensOfEventText } from './stream-usage.ts';

const MINUTE = 60_000;

/**
 * The limiters' clock stands still half a minute into a minute: the tests read usage back with
 * exact equality, and on the wall clock a test that crossed a minute's end would read the sliding
 * window's weighted share of the minute before (4 as 3.9998).
 */
const STANDING_CLOCK = () => 1_000 * MINUTE + MINUTE / 2;

function keyPrincipal(limits: { rpmLimit?: number; tpmLimit?: number }, keyId = `key_${Math.random()}`): Principal {
  return { keyId, isMaster: false, owner: `key:${keyId}`, allowedModels: null, userId: null, teamId: null, ...limits };
}

/** A limiter that counts the calls made to it. */
class CountingLimiter implements RateLimiter {
  calls = 0;
  readonly inner = new InMemoryRateLimiter(STANDING_CLOCK);
  tryAcquire(key: string, amount: number, limit: number, windowMs: number): Promise<RateLimitDecision> {
    this.calls += 1;
    return this.inner.tryAcquire(key, amount, limit, windowMs);
  }
  record(key: string, amount: number, windowMs: number): Promise<void> {
    this.calls += 1;
    return this.inner.record(key, amount, windowMs);
  }
  usage(key: string, windowMs: number): Promise<number> {
    this.calls += 1;
    return this.inner.usage(key, windowMs);
  }
}

const chat = (client: ProviderClient, call: CallOptions) => client.chatCompletions({ messages: [{ role: 'user', content: 'hello there' }] }, call);

function routerWith(modelList: string, limits: LiveRateLimits | ((config: ReturnType<typeof parseConfig>) => LiveRateLimits)): { router: Router; limits: LiveRateLimits } {
  const config = parseConfig(`model_list:\n${modelList}router_settings: {num_retries: 0}\n`, {});
  const live = typeof limits === 'function' ? limits(config) : limits;
  const router = new Router(config, { admission: live.deploymentAdmission, onAttempt: (report) => live.observeAttempt(report), random: () => 0 });
  return { router, limits: live };
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('per-key limits', () => {
  it("a key's rpm_limit admits exactly that many requests a minute, then answers 429 with retry-after", async () => {
    const limits = new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), []);
    const principal = keyPrincipal({ rpmLimit: 3 });
    const outcomes = await Promise.allSettled(Array.from({ length: 7 }, (_, i) => limits.admit(principal, { request: i })));
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
    const refusal = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    assert.ok(refusal.reason instanceof RateLimitError);
    assert.equal(refusal.reason.httpStatus, 429);
    assert.equal(refusal.reason.code, 'rate_limit_exceeded');
    assert.match(refusal.reason.message, /requests per min \(RPM\): Limit 3, Used 3/);
    const seconds = Number(refusal.reason.headers['retry-after']);
    assert.ok(seconds >= 1 && seconds <= 120, `retry-after ${seconds}`);
  });

  it("a key's tpm_limit lets requests through until the answers' tokens reach it; a refusal does not use up a request", async () => {
    const { router, limits } = routerWith('  - {model_name: g, litellm_params: {model: mock/m}}\n', (config) => new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), config.deployments));
    const principal = keyPrincipal({ tpmLimit: 30, rpmLimit: 100 }, 'key_tpm');
    let tokens = 0;
    let admitted = 0;
    for (let i = 0; ; i++) {
      const accountingToken = {};
      try {
        await limits.admit(principal, accountingToken);
      } catch (error) {
        assert.ok(error instanceof RateLimitError);
        assert.match(error.message, /tokens per min \(TPM\): Limit 30/);
        break;
      }
      admitted += 1;
      const answer = await router.send('g', chat, { requestId: `req-${i}`, accountingToken });
      tokens += (answer.body as { usage: { total_tokens: number } }).usage.total_tokens;
      await settle();
      assert.ok(i < 30, 'the tokens limit stopped the requests');
    }
    assert.ok(tokens >= 30, `refused only once the answers' ${tokens} tokens reached the limit`);
    assert.equal(Math.round(await limits.limiter.usage(keyTpmKey('key_tpm'), MINUTE)), tokens);
    assert.equal(Math.round(await limits.limiter.usage('key:key_tpm:rpm', MINUTE)), admitted, 'the refused request was given back');
  });

  it("a wildcard route's tpm is charged for the model names it serves, each under its own deployment", async () => {
    const { router, limits } = routerWith('  - {model_name: "mock-*", litellm_params: {model: "mock/*", tpm: 1000}, model_info: {id: route}}\n', (config) => new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), config.deployments));
    const answer = (await router.send('mock-alpha', chat)) as { body: { usage: { total_tokens: number } } };
    await settle();
    const [derived] = router.deploymentsOf('mock-alpha');
    assert.equal(derived.upstreamModel, 'alpha');
    assert.ok(answer.body.usage.total_tokens > 0);
    assert.equal(await limits.limiter.usage(deploymentTpmKey(derived.id), MINUTE), answer.body.usage.total_tokens);
  });

  it('the tokens of a streamed answer are charged when the stream ends, from its usage event', async () => {
    const { router, limits } = routerWith('  - {model_name: g, litellm_params: {model: mock/m}, model_info: {id: streamed}}\n  - {model_name: g2, litellm_params: {model: mock/m, tpm: 1000}, model_info: {id: limited}}\n', (config) => new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), config.deployments));
    const principal = keyPrincipal({ tpmLimit: 1000 }, 'key_stream');
    const accountingToken = {};
    await limits.admit(principal, accountingToken);
    const stream = await router.send('g2', (client, call) => client.chatCompletionsStream({ messages: [{ role: 'user', content: 'count me' }], stream_options: { include_usage: true } }, call), { requestId: 'stream-1', accountingToken });
    assert.equal(await limits.limiter.usage(keyTpmKey('key_stream'), MINUTE), 0, 'nothing is charged before the stream ends');
    let usageTokens = 0;
    for await (const chunk of stream.body) usageTokens = tokensOfEvent(new TextDecoder().decode(chunk)) || usageTokens;
    await settle();
    assert.ok(usageTokens > 0);
    assert.equal(await limits.limiter.usage(keyTpmKey('key_stream'), MINUTE), usageTokens);
    assert.equal(await limits.limiter.usage(deploymentTpmKey('limited'), MINUTE), usageTokens);
  });

  it('a streamed answer without usage is charged an estimate from its generated text', async () => {
    const { router, limits } = routerWith('  - {model_name: g2, litellm_params: {model: mock/m, tpm: 1000}, model_info: {id: limited}}\n', (config) => new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), config.deployments));
    const principal = keyPrincipal({ tpmLimit: 1000 }, 'key_plain_stream');
    const accountingToken = {};
    await limits.admit(principal, accountingToken);
    const stream = await router.send('g2', (client, call) => client.chatCompletionsStream({ messages: [{ role: 'user', content: 'count me' }] }, call), { requestId: 'stream-2', accountingToken });
    let text = '';
    let sawUsage = false;
    for await (const chunk of stream.body) {
      for (const event of new TextDecoder().decode(chunk).split('\n\n')) {
        sawUsage ||= tokensOfEvent(event) > 0;
        text += tokensOfEventText(event).generatedChars > 0 ? (JSON.parse(event.slice(5)) as { choices: Array<{ delta: { content: string } }> }).choices[0].delta.content : '';
      }
    }
    await settle();
    assert.equal(sawUsage, false, 'the client did not ask for usage');
    assert.ok(text.length > 0);
    const estimate = Math.ceil(text.length / 4);
    assert.equal(await limits.limiter.usage(keyTpmKey('key_plain_stream'), MINUTE), estimate);
    assert.equal(await limits.limiter.usage(deploymentTpmKey('limited'), MINUTE), estimate);
  });

  it('a key without limits (and the master key) never touches the limiter', async () => {
    const limiter = new CountingLimiter();
    const limits = new LiveRateLimits(limiter, []);
    const plain = keyPrincipal({});
    assert.equal(LiveRateLimits.appliesTo(plain), false);
    assert.equal(LiveRateLimits.appliesTo({ ...plain, keyId: null, isMaster: true, rpmLimit: 1 }), false);
    await limits.admit(plain, {});
    assert.equal(limiter.calls, 0);
  });
});

describe('per-deployment limits in routing', () => {
  it('a deployment at its rpm is skipped while another deployment of the group has room', async () => {
    const { router } = routerWith(
      '  - {model_name: g, litellm_params: {model: mock/a, rpm: 2}, model_info: {id: small}}\n  - {model_name: g, litellm_params: {model: mock/b}, model_info: {id: large}}\n',
      (config) => new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), config.deployments),
    );
    const served: string[] = [];
    for (let i = 0; i < 6; i++) served.push(await router.send('g', async (client) => client.deployment.id));
    // random() = 0 always prefers the first deployment: it serves its 2, the other the rest.
    assert.deepEqual(served, ['small', 'small', 'large', 'large', 'large', 'large']);
  });

  it('when every deployment of the group is at its rpm, the request gets 429 with retry-after and nothing reaches an upstream', async () => {
    const { router } = routerWith(
      '  - {model_name: g, litellm_params: {model: mock/a, rpm: 1}, model_info: {id: one}}\n  - {model_name: g, litellm_params: {model: mock/b, rpm: 1}, model_info: {id: two}}\n',
      (config) => new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), config.deployments),
    );
    let calls = 0;
    const operation = async () => ++calls;
    await router.send('g', operation);
    await router.send('g', operation);
    const refused = await router.send('g', operation).then(
      () => assert.fail('a third request went through'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof RateLimitError);
    assert.equal(refused.httpStatus, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    assert.equal(calls, 2);
  });

  it("a deployment whose window's tokens reached its tpm is skipped until they age out", async () => {
    const limiter = new InMemoryRateLimiter(STANDING_CLOCK);
    const { router } = routerWith(
      '  - {model_name: g, litellm_params: {model: mock/a, tpm: 100}, model_info: {id: tpm-limited}}\n  - {model_name: g, litellm_params: {model: mock/b}, model_info: {id: other}}\n',
      (config) => new LiveRateLimits(limiter, config.deployments),
    );
    assert.equal(await router.send('g', async (client) => client.deployment.id), 'tpm-limited');
    await limiter.record(deploymentTpmKey('tpm-limited'), 100, MINUTE);
    assert.equal(await router.send('g', async (client) => client.deployment.id), 'other');
  });

  it('deployments without rpm/tpm cost no limiter call, and batch-engine attempts are not charged again', async () => {
    const limiter = new CountingLimiter();
    const { router } = routerWith('  - {model_name: g, litellm_params: {model: mock/a}, model_info: {id: free}}\n  - {model_name: h, litellm_params: {model: mock/a, tpm: 1000}, model_info: {id: metered}}\n', (config) => new LiveRateLimits(limiter, config.deployments));
    for (let i = 0; i < 5; i++) await router.send('g', chat);
    assert.equal(limiter.calls, 0);
    await router.sendTo('metered', chat, { requestId: `${BATCH_REQUEST_ID_PREFIX}b-1-1`, countAgainstLimits: false });
    await settle();
    assert.equal(limiter.calls, 0, 'the engine admits and charges its own lines');
  });

  it('starting a batch upstream does not count against the rpm', async () => {
    const limiter = new InMemoryRateLimiter(STANDING_CLOCK);
    const { router } = routerWith('  - {model_name: g, litellm_params: {model: mock/a, rpm: 1}, model_info: {id: one}}\n', (config) => new LiveRateLimits(limiter, config.deployments));
    for (let i = 0; i < 3; i++) await router.send('g', async () => 'started', { countAgainstLimits: false });
    assert.equal(await router.send('g', async () => 'live'), 'live');
  });
});

describe('stream usage', () => {
  it('reads the usage of chat chunks and of Responses API completion events', () => {
    assert.equal(tokensOfEvent('data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}}'), 7);
    assert.equal(tokensOfEvent('event: response.completed\ndata: {"type":"response.completed","response":{"usage":{"input_tokens":5,"output_tokens":6,"total_tokens":11}}}'), 11);
    assert.equal(tokensOfEvent('data: {"choices":[{"delta":{"content":"usage"}}]}'), 0);
    assert.equal(tokensOfEvent('data: [DONE]'), 0);
    assert.deepEqual(tokensOfEventText('data: {"choices":[{"delta":{"content":"Hello","tool_calls":[{"function":{"arguments":"{\\"a\\":1}"}}]}}],"usage":null}'), { usage: 0, generatedChars: 12 });
    assert.deepEqual(tokensOfEventText('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"abc"}'), { usage: 0, generatedChars: 3 });
  });

  it('passes every byte through unchanged', async () => {
    const limits = new LiveRateLimits(new InMemoryRateLimiter(STANDING_CLOCK), parseConfig('model_list:\n  - {model_name: g, litellm_params: {model: mock/a, tpm: 10}, model_info: {id: d}}\n', {}).deployments);
    const chunks = ['data: {"a":1}\n\n', 'data: {"choices":[],"usa', 'ge":{"total_tokens":9}}\n\ndata: [DONE]\n\n'].map((text) => new TextEncoder().encode(text));
    const stream: UpstreamStream = { status: 200, body: (async function* () { yield* chunks; })() };
    limits.observeAttempt({ modelGroup: 'g', deploymentId: 'd', durationMs: 1, attempt: 1, result: stream });
    const relayed: Uint8Array[] = [];
    for await (const chunk of stream.body) relayed.push(chunk);
    assert.deepEqual(relayed, chunks);
    await settle();
    assert.equal(await limits.limiter.usage(deploymentTpmKey('d'), MINUTE), 9);
  });
});

