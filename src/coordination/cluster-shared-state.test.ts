/**
 * The workers' shared state without Redis (issue 14): the worker-side adapters and the primary's
 * host over a fake IPC channel that delivers like node:cluster's (asynchronously, in order), and
 * can lose, hold or close. The real channel is exercised by test/scale-out/workers.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PrimaryProcessUnavailableError, RateLimitError } from '../spec/errors.ts';
import { SHARED_STATE_ANSWER, SHARED_STATE_BROADCAST, type ClusterChannel } from './cluster-protocol.ts';
import { SharedStateHost } from './cluster-shared-state-host.ts';
import { ClusterDeploymentHealth, ClusterKeyEvictions, ClusterModelChanges, ClusterParallelRequests, ClusterQuotaReleases, ClusterRateLimiter, ClusterRoutingStats, SharedStateClient } from './cluster-shared-state.ts';
import { LiveRateLimits } from './live-rate-limits.ts';
import type { Principal } from '../spec/principal.ts';

const MINUTE = 60_000;
const POLICY = { allowedFails: 1, cooldownMs: 30_000, windowMs: MINUTE };

interface FakeWorker {
  channel: ClusterChannel;
  /** Deliver to the worker as the primary would (for stray messages). */
  deliver(message: unknown): void;
  /** Messages to the primary are kept, not delivered, until `release`. */
  hold(): void;
  release(): void;
  /** Messages to the primary vanish. */
  lose(): void;
  /** The primary is gone. */
  close(): void;
}

/** One primary (the real host) and workers on fake channels: delivery is asynchronous and ordered, as over IPC. */
class FakeCluster {
  readonly host: SharedStateHost;
  readonly #deliver = new Map<number, (message: unknown) => void>();
  #nextWorker = 1;

  constructor(now?: () => number, policy = POLICY) {
    this.host = new SharedStateHost({
      policy,
      now,
      broadcast: (event) => {
        for (const deliver of this.#deliver.values()) deliver({ type: SHARED_STATE_BROADCAST, event });
      },
    });
  }

  worker(): FakeWorker {
    const id = this.#nextWorker++;
    const listeners = new Set<(message: unknown) => void>();
    const closeListeners = new Set<() => void>();
    let connected = true;
    let mode: 'deliver' | 'hold' | 'lose' = 'deliver';
    const held: unknown[] = [];
    const toWorker = (message: unknown) => setImmediate(() => connected && listeners.forEach((listener) => listener(message)));
    const toPrimary = (message: unknown) => setImmediate(() => this.host.handle(id, message, toWorker));
    this.#deliver.set(id, toWorker);
    const channel: ClusterChannel = {
      send: (message, onSent) => {
        if (!connected) return onSent(new Error('channel closed'));
        if (mode === 'hold') held.push(message);
        else if (mode === 'deliver') toPrimary(message);
        onSent(null);
      },
      onMessage: (listener) => (listeners.add(listener), () => void listeners.delete(listener)),
      onClose: (listener) => (closeListeners.add(listener), () => void closeListeners.delete(listener)),
      get connected() {
        return connected;
      },
    };
    return {
      channel,
      deliver: toWorker,
      hold: () => void (mode = 'hold'),
      release: () => {
        mode = 'deliver';
        for (const message of held.splice(0)) toPrimary(message);
      },
      lose: () => void (mode = 'lose'),
      close: () => {
        connected = false;
        this.#deliver.delete(id);
        this.host.workerGone(id);
        for (const listener of closeListeners) listener();
      },
    };
  }
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('rate limits held by the primary', () => {
  it("a key's rpm_limit of 3 admits exactly 3 requests across two workers", async () => {
    // A clock standing half a minute into a minute: the counts are read back exactly, and a test
    // crossing a minute's end on the wall clock would read the sliding window's weighted share.
    const cluster = new FakeCluster(() => 1_000 * MINUTE + MINUTE / 2);
    const limiters = [new ClusterRateLimiter(new SharedStateClient(cluster.worker().channel)), new ClusterRateLimiter(new SharedStateClient(cluster.worker().channel))];
    const decisions = await Promise.all(Array.from({ length: 6 }, (_, i) => limiters[i % 2].tryAcquire('key:k1:rpm', 1, 3, MINUTE)));
    assert.deepEqual(
      decisions.map((decision) => decision.granted),
      [true, true, true, false, false, false],
    );
    assert.ok(decisions[5].retryAfterMs > 0, 'a refusal says when to retry');
    await limiters[1].record('key:k1:rpm', -1, MINUTE);
    assert.equal(await limiters[0].usage('key:k1:rpm', MINUTE), 2, 'a give-back through one worker is seen by the other');
    assert.equal(await cluster.host.limiter.usage('key:k1:rpm', MINUTE), 2, 'the one in-memory limiter of the primary holds the count');
  });

  it('a lost message fails the call closed after the timeout, with a 503 naming the primary', async () => {
    const cluster = new FakeCluster();
    const worker = cluster.worker();
    const limiter = new ClusterRateLimiter(new SharedStateClient(worker.channel, { timeoutMs: 20 }));
    worker.lose();
    const refused = await limiter.tryAcquire('key:k2:rpm', 1, 3, MINUTE).then(
      () => assert.fail('granted without the primary'),
      (error: unknown) => error,
    );
    assert.ok(refused instanceof PrimaryProcessUnavailableError);
    assert.equal(refused.httpStatus, 503);
    assert.equal(refused.code, 'primary_process_unavailable');
  });

  it('an answer that comes after its timeout is ignored, and so is an unknown id; later calls are answered', async () => {
    const cluster = new FakeCluster();
    const worker = cluster.worker();
    const limiter = new ClusterRateLimiter(new SharedStateClient(worker.channel, { timeoutMs: 20 }));
    worker.hold();
    await assert.rejects(limiter.tryAcquire('key:k3:rpm', 1, 3, MINUTE), PrimaryProcessUnavailableError);
    // The primary takes the held call now and answers an id nobody waits for any more.
    worker.release();
    worker.deliver({ type: SHARED_STATE_ANSWER, id: 12_345, value: { granted: true, used: 0, retryAfterMs: 0 } });
    await turn();
    await turn();
    const next = await limiter.tryAcquire('key:k3:rpm', 1, 3, MINUTE);
    // The late call did take its unit: failing closed errs toward fewer requests, never more.
    assert.deepEqual(next, { granted: true, used: 2, retryAfterMs: 0 });
  });

  it('once the primary is gone, waiting and later calls fail closed at once and counters are dropped', async () => {
    const cluster = new FakeCluster();
    const worker = cluster.worker();
    const client = new SharedStateClient(worker.channel, { timeoutMs: 60_000 });
    const limiter = new ClusterRateLimiter(client);
    worker.hold();
    const waiting = limiter.tryAcquire('key:k4:rpm', 1, 3, MINUTE);
    worker.close();
    await assert.rejects(waiting, PrimaryProcessUnavailableError, 'not after the 60 s timeout');
    await assert.rejects(limiter.usage('key:k4:rpm', MINUTE), PrimaryProcessUnavailableError);
    assert.equal(client.open, false);
    const stats = new ClusterRoutingStats(client);
    stats.started('d1');
    const health = new ClusterDeploymentHealth(client);
    await health.recordFailure('d1');
    await new ClusterKeyEvictions(client).publish(['hash']);
    assert.equal(cluster.host.stats.loadOf(['d1']).get('d1')?.requestsThisMinute, 0, 'nothing was sent');
  });
});

describe('cooldowns held by the primary', () => {
  it("a failure's allowed count (allowed_fails_policy) reaches the primary with the failure", async () => {
    const cluster = new FakeCluster();
    const health = new ClusterDeploymentHealth(new SharedStateClient(cluster.worker().channel, { timeoutMs: 60_000 }));
    for (let i = 0; i < POLICY.allowedFails; i++) await health.recordFailure('d-policy', undefined, POLICY.allowedFails + 2);
    assert.equal(cluster.host.health.isCoolingDown('d-policy'), false, 'under the count its class allows');
    await health.recordFailure('d-policy', undefined, POLICY.allowedFails + 1);
    assert.equal(cluster.host.health.isCoolingDown('d-policy'), true);
  });
});

/** A key limited to `maxParallelRequests` in flight, with no other limit. */
function parallelKey(keyId: string, maxParallelRequests: number): Principal {
  return { keyId, isMaster: false, owner: `key:${keyId}`, allowedModels: null, userId: null, teamId: null, budgetSubjects: [{ kind: 'key', id: keyId, spend: 0, maxParallelRequests }] };
}

/** A worker's live limits as `connectClusterSharedState` builds them. */
function workerLimits(channel: ClusterChannel, timeoutMs?: number): LiveRateLimits {
  const client = new SharedStateClient(channel, { timeoutMs });
  return new LiveRateLimits(new ClusterRateLimiter(client), [], new ClusterParallelRequests(client));
}

describe('max_parallel_requests held by the primary', () => {
  it("a key's max_parallel_requests of 2 admits 2 requests in flight across two workers, refuses the third in LiteLLM's words, and a release frees one", async () => {
    const cluster = new FakeCluster();
    const workers = [workerLimits(cluster.worker().channel), workerLimits(cluster.worker().channel)];
    const principal = parallelKey('key_p1', 2);
    const requests = [{}, {}, {}, {}];
    await workers[0].admit(principal, requests[0]);
    await workers[1].admit(principal, requests[1]);
    for (const worker of workers) {
      await assert.rejects(worker.admit(principal, requests[2]), (error: unknown) => {
        assert.ok(error instanceof RateLimitError);
        assert.equal(error.httpStatus, 429);
        assert.equal(error.message, 'Max parallel request limit reached. Hit limit for api_key: key_p1. max_parallel_requests: 2');
        return true;
      });
    }
    assert.equal(cluster.host.parallel.inFlight('key:key_p1'), 2, 'the refused requests hold nothing');
    workers[0].release(requests[0]);
    // The release is a notice: the worker's next call is read after it.
    await workers[0].admit(principal, requests[3]);
    assert.equal(cluster.host.parallel.inFlight('key:key_p1'), 2);
    await assert.rejects(workers[1].admit(principal, {}), RateLimitError);
  });

  it('a worker that exits with slots held gives them back to the others', async () => {
    const cluster = new FakeCluster();
    const dying = cluster.worker();
    const a = workerLimits(dying.channel);
    const b = workerLimits(cluster.worker().channel);
    const principal = parallelKey('key_p2', 2);
    await a.admit(principal, {});
    await a.admit(principal, {});
    await assert.rejects(b.admit(principal, {}), RateLimitError);
    dying.close();
    assert.equal(cluster.host.parallel.inFlight('key:key_p2'), 0);
    await b.admit(principal, {});
    await b.admit(principal, {});
    await assert.rejects(b.admit(principal, {}), RateLimitError);
  });

  it('without an answer in time the request fails closed with a 503, and the slots the primary takes later are given back', async () => {
    const cluster = new FakeCluster();
    const worker = cluster.worker();
    const limits = workerLimits(worker.channel, 20);
    worker.hold();
    await assert.rejects(limits.admit(parallelKey('key_p3', 1), {}), (error: unknown) => error instanceof PrimaryProcessUnavailableError && error.httpStatus === 503 && error.code === 'primary_process_unavailable');
    // The primary reads the late call (and takes the slot), then the give-back sent after it.
    worker.release();
    await turn();
    await turn();
    assert.equal(cluster.host.parallel.inFlight('key:key_p3'), 0);
    await limits.admit(parallelKey('key_p3', 1), {});
    assert.equal(cluster.host.parallel.inFlight('key:key_p3'), 1);
  });

  it('once the primary is gone a limited request fails closed at once, never unlimited', async () => {
    const cluster = new FakeCluster();
    const worker = cluster.worker();
    const limits = workerLimits(worker.channel, 60_000);
    worker.close();
    await assert.rejects(limits.admit(parallelKey('key_p4', 5), {}), PrimaryProcessUnavailableError);
  });
});

describe('cooldowns held by the primary', () => {
  it('a deployment cooled down through one worker is skipped by the other as soon as the failure is recorded', async () => {
    const cluster = new FakeCluster();
    const a = new SharedStateClient(cluster.worker().channel);
    const b = new SharedStateClient(cluster.worker().channel);
    const healthA = await ClusterDeploymentHealth.start(a, ['d1', 'd2']);
    const healthB = await ClusterDeploymentHealth.start(b, ['d1', 'd2']);
    assert.equal(healthB.coolingDown(['d1', 'd2']).size, 0);
    await healthA.recordFailure('d1');
    assert.deepEqual([...healthA.coolingDown(['d1', 'd2'])], ['d1'], 'the failing worker, before its request goes on');
    assert.deepEqual([...healthB.coolingDown(['d1', 'd2'])], ['d1'], 'the other worker, told before the failure was acknowledged');
    assert.equal(healthB.isCoolingDown('d2'), false);
    const until = healthB.cooldownEnds(['d1', 'd2']).get('d1');
    assert.ok(until !== undefined && until > Date.now() + 25_000 && until <= Date.now() + 30_000, 'the admin view, from the mirror');
  });

  it('a worker started during a cooldown reads it; a cooldown ends on time', async () => {
    let now = 1_000_000;
    const cluster = new FakeCluster(() => now);
    const first = await ClusterDeploymentHealth.start(new SharedStateClient(cluster.worker().channel), ['d1'], () => now);
    await first.recordFailure('d1');
    const late = await ClusterDeploymentHealth.start(new SharedStateClient(cluster.worker().channel), ['d1'], () => now);
    assert.equal(late.isCoolingDown('d1'), true);
    now += 30_000;
    assert.equal(late.isCoolingDown('d1'), false);
    assert.equal(first.coolingDown(['d1']).size, 0);
  });

  it('with allowed_fails 2, one failure in each of two workers cools the deployment down for both', async () => {
    const cluster = new FakeCluster(undefined, { ...POLICY, allowedFails: 2 });
    const a = await ClusterDeploymentHealth.start(new SharedStateClient(cluster.worker().channel), ['d1']);
    const b = await ClusterDeploymentHealth.start(new SharedStateClient(cluster.worker().channel), ['d1']);
    await a.recordFailure('d1');
    assert.equal(b.isCoolingDown('d1'), false, 'one failure is allowed');
    assert.equal(a.isCoolingDown('d1'), false);
    await b.recordFailure('d1');
    assert.equal(a.isCoolingDown('d1'), true, 'counted together, by the primary');
    assert.equal(b.isCoolingDown('d1'), true);
  });
});

describe('key deletions and routing statistics through the primary', () => {
  it('a key evicted through one worker is evicted in every worker before the publish resolves', async () => {
    const cluster = new FakeCluster();
    const heard: string[] = [];
    const workers = [cluster.worker(), cluster.worker(), cluster.worker()].map((worker, i) => {
      const evictions = new ClusterKeyEvictions(new SharedStateClient(worker.channel));
      evictions.subscribe((hashes) => heard.push(`${i}:${hashes.join(',')}`));
      return evictions;
    });
    await workers[1].publish(['h1', 'h2']);
    assert.deepEqual(heard.sort(), ['0:h1,h2', '1:h1,h2', '2:h1,h2']);
  });

  it("batch quota released through one worker wakes every worker's quota starter, key evictions none", async () => {
    const cluster = new FakeCluster();
    const heard: string[] = [];
    const workers = [cluster.worker(), cluster.worker()].map((worker, i) => {
      const client = new SharedStateClient(worker.channel);
      new ClusterKeyEvictions(client).subscribe((hashes) => heard.push(`${i}:evicted:${hashes.join(',')}`));
      const releases = new ClusterQuotaReleases(client);
      releases.subscribe((ids) => heard.push(`${i}:released:${ids.join(',')}`));
      return releases;
    });
    await workers[0].publish(['deployment-1']);
    assert.deepEqual(heard.sort(), ['0:released:deployment-1', '1:released:deployment-1']);
  });

  it('stored models changed through one worker are told to every worker, quota releases none', async () => {
    const cluster = new FakeCluster();
    const heard: string[] = [];
    const workers = [cluster.worker(), cluster.worker()].map((worker, i) => {
      const client = new SharedStateClient(worker.channel);
      new ClusterQuotaReleases(client).subscribe((ids) => heard.push(`${i}:released:${ids.join(',')}`));
      const changes = new ClusterModelChanges(client);
      changes.subscribe((words) => heard.push(`${i}:models:${words.join(',')}`));
      return changes;
    });
    await workers[1].publish(['changed']);
    assert.deepEqual(heard.sort(), ['0:models:changed', '1:models:changed']);
  });

  it("the load is every worker's, and a dead worker's requests stop counting as in flight", async () => {
    const cluster = new FakeCluster();
    const workerA = cluster.worker();
    const a = new ClusterRoutingStats(new SharedStateClient(workerA.channel));
    const b = new ClusterRoutingStats(new SharedStateClient(cluster.worker().channel));
    a.started('d1');
    a.started('d1');
    b.started('d1');
    b.finished('d1', 120);
    b.charge('d1', 50);
    const load = (await b.loadOf(['d1'])).get('d1');
    assert.deepEqual(load, { inFlight: 2, latencyMs: 120, tokensThisMinute: 50, requestsThisMinute: 3 });
    workerA.close();
    assert.equal((await b.loadOf(['d1'])).get('d1')?.inFlight, 0);
  });

  it('the primary answers an unknown call with an error and ignores messages that are not its own', async () => {
    const cluster = new FakeCluster();
    const answers: unknown[] = [];
    cluster.host.handle(1, { type: 'portico:shared-state-call', id: 7, name: 'toString', args: [] }, (answer) => answers.push(answer));
    cluster.host.handle(1, { type: 'portico:own-metrics-answer', id: 7 }, (answer) => answers.push(answer));
    cluster.host.handle(1, { cmd: 'NODE_CLUSTER' }, (answer) => answers.push(answer));
    cluster.host.handle(1, { type: 'portico:shared-state-notice', name: 'hasOwnProperty', args: [] }, (answer) => answers.push(answer));
    assert.deepEqual(answers, [{ type: SHARED_STATE_ANSWER, id: 7, error: 'unknown call toString' }]);
  });
});
