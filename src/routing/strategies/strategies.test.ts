import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment } from '../../spec/provider.ts';
import { type DeploymentLoad, InMemoryRoutingStats } from '../routing-stats.ts';
import { pickDeployment } from '../weighted-pick.ts';
import { strategyChooser } from './index.ts';
import { preferEnqueuedTokenRoom } from './enqueued-token-room.ts';

function deployment(id: string, limits: { rpm?: number; tpm?: number; batchMaxEnqueuedTokens?: number } = {}): Deployment {
  return { id, modelGroup: 'g', providerName: 'openai', upstreamModel: 'm', timeoutMs: 1000, maxRetries: 0, weight: 1, batchMode: 'emulate', pricing: {}, params: {}, settings: undefined, ...limits };
}

function load(entries: Record<string, Partial<DeploymentLoad>>): Map<string, DeploymentLoad> {
  return new Map(Object.entries(entries).map(([id, value]) => [id, { inFlight: 0, tokensThisMinute: 0, requestsThisMinute: 0, ...value }]));
}

const a = deployment('a');
const b = deployment('b');
const c = deployment('c');
const first = () => 0;
const last = () => 0.999;

describe('routing strategies', () => {
  it('least-busy picks the deployment with the fewest requests in flight; ties share by weight', () => {
    const choose = strategyChooser('least-busy', load({ a: { inFlight: 3 }, b: { inFlight: 1 }, c: { inFlight: 2 } }), first);
    assert.equal(choose([a, b, c])?.id, 'b');
    const tie = load({ a: { inFlight: 1 }, b: { inFlight: 1 }, c: { inFlight: 5 } });
    assert.equal(strategyChooser('least-busy', tie, first)([a, b, c])?.id, 'a');
    assert.equal(strategyChooser('least-busy', tie, last)([a, b, c])?.id, 'b');
  });

  it('latency-based-routing measures every deployment first, then picks the fastest', () => {
    assert.equal(strategyChooser('latency-based-routing', load({ a: { latencyMs: 50 }, b: {}, c: { latencyMs: 10 } }), first)([a, b, c])?.id, 'b');
    assert.equal(strategyChooser('latency-based-routing', load({ a: { latencyMs: 50 }, b: { latencyMs: 20 }, c: { latencyMs: 10 } }), first)([a, b, c])?.id, 'c');
  });

  it('usage-based-routing-v2 picks the fewest tokens this minute among deployments under their tpm and rpm', () => {
    const x = deployment('x', { tpm: 100 });
    const y = deployment('y', { rpm: 2 });
    const z = deployment('z');
    const usage = load({ x: { tokensThisMinute: 100 }, y: { tokensThisMinute: 5, requestsThisMinute: 2 }, z: { tokensThisMinute: 400 } });
    assert.equal(strategyChooser('usage-based-routing-v2', usage, first)([x, y, z])?.id, 'z', 'x is at its tpm, y at its rpm');
    assert.equal(strategyChooser('usage-based-routing-v2', load({ x: { tokensThisMinute: 30 }, z: { tokensThisMinute: 20 } }), first)([x, z])?.id, 'z');
    // All over their limits: the lowest anyway (admission answers the 429).
    assert.equal(strategyChooser('usage-based-routing-v2', load({ x: { tokensThisMinute: 150 }, y: { requestsThisMinute: 9 } }), first)([x, y])?.id, 'y');
  });

  it('a strategy chooses only among what pickDeployment leaves in play (untried, not cooling)', () => {
    const choose = strategyChooser('least-busy', load({ a: { inFlight: 0 }, b: { inFlight: 4 }, c: { inFlight: 9 } }), first);
    assert.equal(pickDeployment({ candidates: [a, b, c], cooling: new Set(['a']), tried: new Set(), random: first, choose })?.id, 'b');
    assert.equal(pickDeployment({ candidates: [a, b, c], cooling: new Set(), tried: new Set(['a', 'b']), random: first, choose })?.id, 'c');
  });

  it('in-memory stats count requests in flight, average the last latencies, and reset tokens each minute', () => {
    let now = 60_000;
    const stats = new InMemoryRoutingStats(() => now);
    stats.started('a');
    stats.started('a');
    stats.finished('a', 30);
    stats.charge('a', 120);
    stats.started('b');
    stats.finished('b', 10);
    stats.finished('b', 20);
    assert.deepEqual(stats.loadOf(['a', 'b']).get('a'), { inFlight: 1, latencyMs: 30, tokensThisMinute: 120, requestsThisMinute: 2 });
    assert.equal(stats.loadOf(['b']).get('b')?.inFlight, 0, 'never below zero');
    assert.equal(stats.loadOf(['b']).get('b')?.latencyMs, 15);
    now += 60_000;
    assert.deepEqual(stats.loadOf(['a']).get('a'), { inFlight: 1, latencyMs: 30, tokensThisMinute: 0, requestsThisMinute: 0 });
  });

  it('a batch prefers the deployments where its tokens fit the enqueued-token quota now; with none, the smallest share of a quota ahead of it', () => {
    const full = deployment('full', { batchMaxEnqueuedTokens: 300 });
    const roomy = deployment('roomy', { batchMaxEnqueuedTokens: 300 });
    const queued = deployment('queued', { batchMaxEnqueuedTokens: 1000 });
    const unlimited = deployment('unlimited');
    const enqueued = new Map([
      ['full', { held: 200, waiting: 0 }],
      ['roomy', { held: 50, waiting: 0 }],
      // Room in its held tokens, but batches wait there: a new one would queue behind them.
      ['queued', { held: 0, waiting: 900 }],
    ]);
    const prefer = preferEnqueuedTokenRoom(200, enqueued);
    assert.deepEqual(prefer([full, roomy, queued]).map((d) => d.id), ['roomy']);
    assert.deepEqual(prefer([full, roomy, unlimited]).map((d) => d.id), ['roomy', 'unlimited'], 'no quota: always room');
    // Nothing fits: full has 400/300 of its quota ahead and in it, queued 1100/1000.
    assert.deepEqual(prefer([full, queued]).map((d) => d.id), ['queued']);
    // Larger than a whole quota: that deployment refuses it outright, so it comes last.
    assert.deepEqual(preferEnqueuedTokenRoom(500, enqueued)([full, queued]).map((d) => d.id), ['queued']);
  });

  it("a request's preference narrows the pool the weighted shuffle or the strategy then chooses in", () => {
    const x = deployment('x', { batchMaxEnqueuedTokens: 100 });
    const y = deployment('y', { batchMaxEnqueuedTokens: 100 });
    const prefer = preferEnqueuedTokenRoom(60, new Map([['x', { held: 60, waiting: 0 }]]));
    // random() = 0 picks the first of a pool: x, were the pool not narrowed to y.
    assert.equal(pickDeployment({ candidates: [x, y], cooling: new Set(), random: first, choose: (pool) => pool[0], prefer })?.id, 'y');
    // y cooling: pickDeployment leaves x alone in play, and the preference never empties a pool.
    assert.equal(pickDeployment({ candidates: [x, y], cooling: new Set(['y']), random: first, choose: (pool) => pool[0], prefer })?.id, 'x');
    // The preference narrows before the order: a deployment of a later order that the request prefers wins over a first one it does not.
    const firstOrder = { ...deployment('first', { batchMaxEnqueuedTokens: 100 }), order: 1 };
    const laterOrder = { ...deployment('later', { batchMaxEnqueuedTokens: 100 }), order: 2 };
    const roomOnLater = preferEnqueuedTokenRoom(60, new Map([['first', { held: 60, waiting: 0 }]]));
    assert.equal(pickDeployment({ candidates: [firstOrder, laterOrder], cooling: new Set(), random: first, prefer: roomOnLater })?.id, 'later');
    assert.equal(pickDeployment({ candidates: [firstOrder, laterOrder], cooling: new Set(), random: first })?.id, 'first');
  });
});
