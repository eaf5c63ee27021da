/**
 * `router_settings.routing_strategy` beyond simple-shuffle, on real upstreams: `least-busy`,
 * `latency-based-routing` and `usage-based-routing-v2`, in one instance's memory and shared by
 * two routers (two instances) through Redis. The routers' shuffle always prefers deployment `a`
 * (random 0), so every pick of `b` is the strategy's.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { RedisRoutingStats } from '../../src/coordination/redis-routing-stats.ts';
import type { RedisConnection } from '../../src/coordination/redis-connection.ts';
import { chargeRoutingUsage } from '../../src/coordination/routing-usage.ts';
import { Router, type RouterOptions } from '../../src/routing/router.ts';
import { InMemoryRoutingStats, type RoutingStats } from '../../src/routing/routing-stats.ts';
import type { CallOptions, ProviderClient, UpstreamJsonResponse } from '../../src/spec/provider.ts';
import { OPENAI_SIMULATOR_API_KEY, type OpenAISimulator, startOpenAISimulator } from '../simulators/openai-simulator.ts';
import { connectTestRedis, deleteRedisKeys, uniqueRedisPrefix, waitFor } from './redis-helpers.ts';

const chat = (client: ProviderClient, call: CallOptions): Promise<UpstreamJsonResponse> =>
  client.chatCompletions({ messages: [{ role: 'user', content: 'hello there, how are you' }] }, call);

describe('routing strategies', () => {
  let simA: OpenAISimulator;
  let simB: OpenAISimulator;
  let prefix: string;
  let connections: RedisConnection[];
  before(async () => {
    [simA, simB] = await Promise.all([startOpenAISimulator(), startOpenAISimulator()]);
  });
  after(async () => {
    await Promise.all([simA.close(), simB.close()]);
  });
  beforeEach(async () => {
    simA.setLatency(0);
    simB.setLatency(0);
    simA.requests.length = 0;
    simB.requests.length = 0;
    prefix = uniqueRedisPrefix('routing');
    connections = [];
  });
  const closeRedis = async () => {
    await Promise.all(connections.map((connection) => connection.close()));
    await deleteRedisKeys(prefix);
  };

  function config(strategy: string) {
    const entry = (sim: OpenAISimulator, id: string) =>
      `  - {model_name: g, litellm_params: {model: openai/gpt-4o-mini, api_base: "${sim.url}", api_key: ${OPENAI_SIMULATOR_API_KEY}}, model_info: {id: ${id}}}\n`;
    return parseConfig(`model_list:\n${entry(simA, 'a')}${entry(simB, 'b')}router_settings: {num_retries: 0, routing_strategy: ${strategy}}\n`, {});
  }
  const router = (strategy: string, stats: RoutingStats, onAttempt?: RouterOptions['onAttempt']) =>
    new Router(config(strategy), { random: () => 0, stats, onAttempt });
  const sharedStats = async () => {
    const connection = await connectTestRedis(prefix);
    connections.push(connection);
    return new RedisRoutingStats(connection);
  };
  /** The simulator that answered the last request. */
  const answeredBy = () => (simB.requests.length > 0 ? 'b' : 'a');

  it('simple-shuffle with this random always picks a (the baseline the strategies change)', async () => {
    const plain = new Router(config('simple-shuffle'), { random: () => 0 });
    await plain.send('g', chat);
    await plain.send('g', chat);
    assert.equal(simA.requests.length, 2);
  });

  it('least-busy sends a request away from a deployment busy with another, in memory and across instances through Redis', async () => {
    simA.setLatency(400);
    const local = router('least-busy', new InMemoryRoutingStats());
    const slow = local.send('g', chat);
    await waitFor(() => simA.requests.length === 1, 2_000, 'the slow request to reach a');
    await local.send('g', chat);
    assert.equal(simB.requests.length, 1);
    await slow;

    simB.requests.length = 0;
    simA.requests.length = 0;
    try {
      const [stats1, stats2] = [await sharedStats(), await sharedStats()];
      const first = router('least-busy', stats1);
      const second = router('least-busy', stats2);
      const busy = first.send('g', chat);
      await waitFor(async () => ((await stats2.loadOf(['a'])).get('a')?.inFlight ?? 0) === 1, 2_000, 'the in-flight count in Redis');
      await second.send('g', chat);
      assert.equal(simB.requests.length, 1, "the second instance saw the first's request in flight");
      await busy;
      await waitFor(async () => ((await stats2.loadOf(['a'])).get('a')?.inFlight ?? 1) === 0, 2_000, 'the request to end in Redis');
    } finally {
      await closeRedis();
    }
  });

  it('latency-based-routing measures both deployments, then prefers the faster, also for another instance', async () => {
    simA.setLatency(150);
    try {
      const [stats1, stats2] = [await sharedStats(), await sharedStats()];
      const first = router('latency-based-routing', stats1);
      await first.send('g', chat); // a: no data yet, the shuffle's pick
      await first.send('g', chat); // b: still unmeasured, so preferred
      assert.deepEqual([simA.requests.length, simB.requests.length], [1, 1]);
      await waitFor(async () => (await stats2.loadOf(['a', 'b'])).get('b')?.latencyMs !== undefined, 2_000, 'latencies in Redis');
      simA.requests.length = 0;
      simB.requests.length = 0;
      await router('latency-based-routing', stats2).send('g', chat);
      assert.equal(answeredBy(), 'b');
    } finally {
      await closeRedis();
    }
  });

  it("usage-based-routing-v2 sends the next request to the deployment with fewer tokens this minute, counting another instance's", async () => {
    try {
      const [stats1, stats2] = [await sharedStats(), await sharedStats()];
      const first = router('usage-based-routing-v2', stats1, (report) => chargeRoutingUsage(stats1, report));
      await first.send('g', chat);
      assert.equal(simA.requests.length, 1);
      await waitFor(async () => ((await stats2.loadOf(['a'])).get('a')?.tokensThisMinute ?? 0) > 0, 2_000, 'the tokens in Redis');
      simA.requests.length = 0;
      await router('usage-based-routing-v2', stats2).send('g', chat);
      assert.equal(answeredBy(), 'b');
    } finally {
      await closeRedis();
    }
  });

  it('an unsupported strategy is warned about and runs as simple-shuffle; usage-based-routing runs as v2', () => {
    assert.equal(config('cost-based-routing').router.routingStrategy, 'simple-shuffle');
    assert.match(config('cost-based-routing').warnings.join('\n'), /routing_strategy: "cost-based-routing" is not supported/);
    assert.equal(config('usage-based-routing').router.routingStrategy, 'usage-based-routing-v2');
    assert.equal(config('least-busy').warnings.length, 0);
  });
});
