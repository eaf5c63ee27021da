import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BlobStoreUnavailableError, InvalidRequestError, UpstreamConnectionError, UpstreamError, UpstreamTimeoutError } from '../spec/errors.ts';
import type { Deployment } from '../spec/provider.ts';
import { HEALTHY, afterFailure, isCoolingDown } from './cooldown.ts';
import { InMemoryDeploymentHealth } from './deployment-health.ts';
import { type FallbackTarget, failureKindOf, fallbackTargets } from './fallback-plan.ts';
import { allowedFailsFor, countsAsDeploymentFailure, retryAfterMs, retryClassOf, retryDelayMs, shouldFallBack, shouldRetry } from './retry-policy.ts';
import { pickDeployment, weightedChoice } from './weighted-pick.ts';

function deployment(id: string, weight = 1): Deployment {
  return {
    id,
    modelGroup: 'g',
    providerName: 'mock',
    upstreamModel: 'm',
    timeoutMs: 1000,
    maxRetries: 2,
    weight,
    batchMode: 'emulate',
    settings: undefined,
    pricing: {},
    params: {},
  };
}

function upstream(status: number, headers: Record<string, string> = {}, code: string | null = null): UpstreamError {
  return new UpstreamError(status, { message: 'x', type: 'server_error', param: null, code }, { headers });
}

/** A deterministic sequence of "random" numbers. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('weighted shuffle', () => {
  it('picks in proportion to weight', () => {
    const pool = [deployment('a', 1), deployment('b', 3)];
    assert.equal(weightedChoice(pool, () => 0.2)?.id, 'a');
    assert.equal(weightedChoice(pool, () => 0.26)?.id, 'b');
    assert.equal(weightedChoice(pool, () => 0.99)?.id, 'b');
    let b = 0;
    const random = sequence(...Array.from({ length: 400 }, (_, i) => i / 400));
    for (let i = 0; i < 400; i++) if (weightedChoice(pool, random)?.id === 'b') b++;
    assert.equal(b, 300);
  });

  it('skips a cooling deployment while another is available', () => {
    const candidates = [deployment('a'), deployment('b')];
    for (const r of [0, 0.3, 0.7, 0.99]) {
      assert.equal(pickDeployment({ candidates, cooling: new Set(['a']), random: () => r })?.id, 'b');
    }
  });

  it('picks a cooling deployment anyway when all are cooling', () => {
    const candidates = [deployment('a'), deployment('b')];
    const picked = pickDeployment({ candidates, cooling: new Set(['a', 'b']), random: () => 0.1 });
    assert.equal(picked?.id, 'a');
  });

  it('prefers a deployment not yet tried, and reuses one when all were tried', () => {
    const candidates = [deployment('a'), deployment('b')];
    assert.equal(pickDeployment({ candidates, cooling: new Set(), tried: new Set(['a']), random: () => 0 })?.id, 'b');
    assert.equal(pickDeployment({ candidates, cooling: new Set(['b']), tried: new Set(['a', 'b']), random: () => 0.9 })?.id, 'a');
    assert.equal(pickDeployment({ candidates: [], cooling: new Set(), random: () => 0 }), undefined);
  });

  it("LiteLLM's order: the lowest order serves while it is available; a cooling or tried one passes to the next; no order comes last", () => {
    const ordered = (id: string, order?: number) => ({ ...deployment(id), ...(order !== undefined && { order }) });
    const candidates = [ordered('backup', 2), ordered('primary-1', 1), ordered('unordered'), ordered('primary-2', 1)];
    const seen = new Set<string>();
    for (const r of [0, 0.3, 0.6, 0.99]) seen.add(pickDeployment({ candidates, cooling: new Set(), random: () => r })!.id);
    assert.deepEqual([...seen].sort(), ['primary-1', 'primary-2'], 'spread over the lowest order, never beyond it');
    assert.equal(pickDeployment({ candidates, cooling: new Set(['primary-1', 'primary-2']), random: () => 0 })?.id, 'backup');
    assert.equal(pickDeployment({ candidates, cooling: new Set(['primary-1']), tried: new Set(['primary-2']), random: () => 0 })?.id, 'backup');
    assert.equal(pickDeployment({ candidates, cooling: new Set(), tried: new Set(['primary-1', 'primary-2', 'backup']), random: () => 0 })?.id, 'unordered');
    // A strategy chooses within the lowest order only.
    const offered: string[][] = [];
    pickDeployment({ candidates, cooling: new Set(), random: () => 0, choose: (pool) => (offered.push(pool.map((d) => d.id)), pool[0]) });
    assert.deepEqual(offered, [['primary-1', 'primary-2']]);
  });
});

describe('retry policy', () => {
  it("LiteLLM's retry_policy: retries by the class of the error replace the usual limit for that class; a class it leaves out keeps the rule", () => {
    const coded = (status: number, code: string) => new UpstreamError(status, { message: 'x', type: 'invalid_request_error', param: null, code });
    assert.deepEqual(
      [upstream(400), upstream(401), upstream(429), upstream(408), new UpstreamTimeoutError(), upstream(503), new UpstreamConnectionError('down'), coded(400, 'content_filter'), upstream(404), new Error('bug')].map(retryClassOf),
      ['badRequest', 'authentication', 'rateLimit', 'timeout', 'timeout', 'internalServer', 'internalServer', 'contentPolicy', undefined, undefined],
    );
    const policy = { rateLimit: 5, badRequest: 1, internalServer: 0 };
    assert.equal(shouldRetry(upstream(429), 4, 0, policy), true, 'five 429 retries though num_retries is 0');
    assert.equal(shouldRetry(upstream(429), 5, 0, policy), false);
    assert.equal(shouldRetry(upstream(400), 0, 3, policy), true, 'a 400 retried when the policy says so');
    assert.equal(shouldRetry(upstream(400), 1, 3, policy), false);
    assert.equal(shouldRetry(upstream(503), 0, 3, policy), false, 'no retries for 5xx, whatever num_retries says');
    assert.equal(shouldRetry(upstream(401), 0, 3, policy), false, 'not in the policy: the usual rule (a 401 is not retried)');
    assert.equal(shouldRetry(new UpstreamTimeoutError(), 1, 2, policy), true, 'not in the policy: the usual rule');
  });

  it('retries 408, 409, 429, 5xx, connection failures and timeouts, up to the limit', () => {
    for (const status of [408, 409, 429, 500, 502, 503]) assert.equal(shouldRetry(upstream(status), 0, 2), true, String(status));
    assert.equal(shouldRetry(new UpstreamConnectionError('down'), 1, 2), true);
    assert.equal(shouldRetry(new UpstreamTimeoutError(), 0, 1), true);
    assert.equal(shouldRetry(upstream(500), 2, 2), false, 'no retries left');
    assert.equal(shouldRetry(upstream(400), 0, 2), false);
    assert.equal(shouldRetry(upstream(401), 0, 2), false);
    assert.equal(shouldRetry(new Error('bug'), 0, 2), false);
  });

  it('honours retry-after-ms, then retry-after in seconds or as a date', () => {
    assert.equal(retryAfterMs(upstream(429, { 'retry-after-ms': '1500', 'retry-after': '9' })), 1500);
    assert.equal(retryAfterMs(upstream(429, { 'retry-after': '2' })), 2000);
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(retryAfterMs(upstream(429, { 'retry-after': 'Wed, 01 Jan 2025 00:00:03 GMT' }), now), 3000);
    assert.equal(retryAfterMs(upstream(429)), undefined);
    assert.equal(retryDelayMs(upstream(429, { 'retry-after': '2' }), 0, () => 0), 2000);
  });

  it('backs off exponentially with jitter, capped, and ignores a retry-after beyond a minute', () => {
    const settings = { initialDelayMs: 100, maxDelayMs: 1000, maxRetryAfterMs: 60_000 };
    assert.equal(retryDelayMs(upstream(500), 0, () => 0, settings), 100);
    assert.equal(retryDelayMs(upstream(500), 1, () => 0, settings), 200);
    assert.equal(retryDelayMs(upstream(500), 2, () => 0, settings), 400);
    assert.equal(retryDelayMs(upstream(500), 10, () => 0, settings), 1000);
    assert.equal(retryDelayMs(upstream(500), 1, () => 1, settings), 150, 'jitter takes up to 25% off');
    assert.equal(retryDelayMs(upstream(429, { 'retry-after': '3600' }), 0, () => 0, settings), 100);
  });

  it('counts upstream trouble and rejected keys against a deployment, not client errors', () => {
    assert.equal(countsAsDeploymentFailure(upstream(429)), true);
    assert.equal(countsAsDeploymentFailure(upstream(503)), true);
    assert.equal(countsAsDeploymentFailure(new UpstreamTimeoutError()), true);
    assert.equal(countsAsDeploymentFailure(upstream(401)), true);
    assert.equal(countsAsDeploymentFailure(upstream(400)), false);
    assert.equal(countsAsDeploymentFailure(upstream(409)), false);
    assert.equal(countsAsDeploymentFailure(new InvalidRequestError('bad')), false);
  });

  it("LiteLLM's allowed_fails_policy: a failure's class sets the allowed count; a class it names counts, a bad request included; the others keep allowed_fails", () => {
    const policy = { rateLimit: 10, badRequest: 2, contentPolicy: 5 };
    assert.equal(allowedFailsFor(upstream(429), policy), 10);
    assert.equal(allowedFailsFor(upstream(400), policy), 2);
    assert.equal(allowedFailsFor(upstream(400, {}, 'content_policy_violation'), policy), 5);
    assert.equal(allowedFailsFor(upstream(503), policy), undefined, 'not named: allowed_fails');
    assert.equal(allowedFailsFor(upstream(429), undefined), undefined);
    assert.equal(countsAsDeploymentFailure(upstream(400), policy), true);
    assert.equal(countsAsDeploymentFailure(upstream(400), { rateLimit: 10 }), false);
    assert.equal(countsAsDeploymentFailure(new InvalidRequestError('bad'), policy), true, "Portico's own 400 is the request's: counted only when the policy names bad requests");
    assert.equal(countsAsDeploymentFailure(new BlobStoreUnavailableError(), policy), false);
  });

  it('a blob store failing under a provider call (the file it sends) is not the deployment\'s: no cooldown, no retry, no fallback', () => {
    const storeDown = new BlobStoreUnavailableError();
    assert.equal(countsAsDeploymentFailure(storeDown), false);
    assert.equal(shouldRetry(storeDown, 0, 2), false);
    assert.equal(shouldFallBack(storeDown), false);
  });

  it('falls back on upstream trouble and on deployments that reject us, not on a bad request', () => {
    assert.equal(shouldFallBack(upstream(500)), true);
    assert.equal(shouldFallBack(upstream(429)), true);
    assert.equal(shouldFallBack(upstream(404)), true);
    assert.equal(shouldFallBack(upstream(401)), true);
    assert.equal(shouldFallBack(upstream(400)), false);
    assert.equal(shouldFallBack(new InvalidRequestError('bad')), false);
  });
});

describe('cooldown', () => {
  const policy = { allowedFails: 3, cooldownMs: 30_000, windowMs: 60_000 };

  it('cools a deployment down after allowed_fails failures within a minute', () => {
    let state = HEALTHY;
    state = afterFailure(state, 1_000, policy);
    state = afterFailure(state, 2_000, policy);
    assert.equal(isCoolingDown(state, 2_000), false);
    state = afterFailure(state, 3_000, policy);
    assert.equal(isCoolingDown(state, 3_000), true);
    assert.equal(isCoolingDown(state, 32_999), true);
    assert.equal(isCoolingDown(state, 33_000), false, 'cooldown_time later it is back');
  });

  it('does not count failures older than the window', () => {
    let state = HEALTHY;
    state = afterFailure(state, 0, policy);
    state = afterFailure(state, 1_000, policy);
    state = afterFailure(state, 61_500, policy);
    assert.equal(isCoolingDown(state, 61_500), false);
    assert.deepEqual(state.failures, [61_500]);
  });

  it('the in-memory health store applies the policy per deployment', () => {
    let now = 0;
    const health = new InMemoryDeploymentHealth({ allowedFails: 2, cooldownMs: 5_000, windowMs: 60_000 }, () => now);
    health.recordFailure('a');
    health.recordFailure('a');
    health.recordFailure('b');
    assert.deepEqual([...health.coolingDown(['a', 'b', 'c'])], ['a']);
    now = 5_000;
    assert.equal(health.isCoolingDown('a'), false);
  });

  it("a failure's allowed count (allowed_fails_policy) sets the threshold at that failure; failures of every class count together", () => {
    const health = new InMemoryDeploymentHealth({ allowedFails: 2, cooldownMs: 5_000, windowMs: 60_000 }, () => 0);
    health.recordFailure('a', undefined, 4);
    health.recordFailure('a', undefined, 4);
    health.recordFailure('a', undefined, 4);
    assert.equal(health.isCoolingDown('a'), false, 'three failures under a class allowing four');
    health.recordFailure('a');
    assert.equal(health.isCoolingDown('a'), true, 'the fourth, of a class with allowed_fails 2, is over it');
  });

  it("a deployment's own cooldown_time replaces the router's for that deployment", () => {
    let now = 0;
    const health = new InMemoryDeploymentHealth({ allowedFails: 1, cooldownMs: 5_000, windowMs: 60_000 }, () => now);
    health.recordFailure('own', 60_000);
    health.recordFailure('router');
    assert.deepEqual(health.cooldownEnds(['own', 'router']), new Map([['own', 60_000], ['router', 5_000]]));
    now = 30_000;
    assert.deepEqual([...health.coolingDown(['own', 'router'])], ['own']);
  });
});

describe('fallback plan', () => {
  const settings = {
    fallbacks: { a: ['b', 'zzz', 'a', 'c', 'b'] },
    contextWindowFallbacks: { a: ['long'] },
    contentPolicyFallbacks: { a: ['dep-lenient'] },
    defaultFallbacks: ['c'],
  };
  const resolve = (name: string): FallbackTarget | undefined => {
    if (['a', 'b', 'c', 'long', 'lenient'].includes(name)) return { kind: 'group', group: name };
    if (name === 'dep-lenient') return { kind: 'deployment', id: name, group: 'lenient' };
    return undefined;
  };
  const groupsOf = (targets: FallbackTarget[]) => targets.map((t) => (t.kind === 'group' ? t.group : `#${t.id}`));

  it('general failures try the fallbacks in order, skipping unknown targets, the group itself and repeats', () => {
    assert.deepEqual(groupsOf(fallbackTargets('a', 'general', settings, resolve)), ['b', 'c']);
  });

  it("max_fallbacks caps the targets tried, counted after unknown ones and repeats are left out (LiteLLM's max_fallbacks)", () => {
    assert.deepEqual(groupsOf(fallbackTargets('a', 'general', { ...settings, maxFallbacks: 1 }, resolve)), ['b']);
    assert.deepEqual(groupsOf(fallbackTargets('a', 'general', { ...settings, maxFallbacks: 0 }, resolve)), []);
    assert.deepEqual(groupsOf(fallbackTargets('a', 'general', { ...settings, maxFallbacks: 5 }, resolve)), ['b', 'c']);
  });

  it('a group without fallbacks of its own uses default_fallbacks; not for context-window or content-policy failures', () => {
    assert.deepEqual(groupsOf(fallbackTargets('b', 'general', settings, resolve)), ['c']);
    assert.deepEqual(fallbackTargets('b', 'context_window', settings, resolve), []);
    assert.deepEqual(fallbackTargets('b', 'content_policy', settings, resolve), []);
  });

  it('context-window and content-policy failures use their own lists; a target may be a deployment id', () => {
    assert.deepEqual(groupsOf(fallbackTargets('a', 'context_window', settings, resolve)), ['long']);
    assert.deepEqual(groupsOf(fallbackTargets('a', 'content_policy', settings, resolve)), ['#dep-lenient']);
  });

  it("every variant leaves out targets whose group the caller may not use (a deployment id by its group)", () => {
    const onlyA = (group: string) => group === 'a';
    for (const kind of ['general', 'context_window', 'content_policy'] as const) {
      assert.deepEqual(fallbackTargets('a', kind, settings, resolve, onlyA), [], kind);
      assert.deepEqual(fallbackTargets('b', kind, settings, resolve, onlyA), [], kind);
    }
    assert.deepEqual(groupsOf(fallbackTargets('a', 'general', settings, resolve, (group) => group !== 'b')), ['c']);
  });

  it('classifies failures by their OpenAI code: context length, content policy, other upstream trouble, none', () => {
    const upstream = (status: number, code: string | null) => new UpstreamError(status, { message: 'x', type: 'invalid_request_error', param: null, code });
    assert.equal(failureKindOf(upstream(400, 'context_length_exceeded')), 'context_window');
    assert.equal(failureKindOf(upstream(400, 'content_policy_violation')), 'content_policy');
    assert.equal(failureKindOf(upstream(400, 'content_filter')), 'content_policy');
    assert.equal(failureKindOf(upstream(503, null)), 'general');
    assert.equal(failureKindOf(upstream(400, null)), undefined);
    assert.equal(failureKindOf(new Error('bug')), undefined);
  });
});
