/**
 * The limits of a caller's user and team (LiteLLM `/user/new`, `/team/new` `rpm_limit`,
 * `max_parallel_requests`), next to its key's: counted per subject, so two keys of one team share
 * the team's; a refused request takes nothing from any subject.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InMemoryRateLimiter } from '../routing/rate-limits/in-memory-rate-limiter.ts';
import { InMemoryParallelRequests } from '../routing/rate-limits/parallel-requests.ts';
import { RATE_WINDOW_MS } from '../routing/rate-limits/deployment-budgets.ts';
import type { BudgetSubject } from '../spec/budget-subjects.ts';
import { assertWithinBudgets } from '../spec/budget-subjects.ts';
import { BudgetExceededError, RateLimitError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import { LiveRateLimits } from './live-rate-limits.ts';

function teamKey(keyId: string, team: Partial<BudgetSubject>, key: Partial<BudgetSubject> = {}): Principal {
  return {
    keyId,
    isMaster: false,
    owner: 'team:t1',
    allowedModels: null,
    userId: null,
    teamId: 't1',
    budgetSubjects: [
      { kind: 'key', id: keyId, spend: 0, ...key },
      { kind: 'team', id: 't1', spend: 0, ...team },
    ],
  };
}

describe('limits of users and teams', () => {
  it("two keys of a team share the team's rpm_limit; a refused request gives back what it took from its key", async () => {
    const limiter = new InMemoryRateLimiter();
    const limits = new LiveRateLimits(limiter, []);
    const a = teamKey('key_a', { rpmLimit: 2 }, { rpmLimit: 10 });
    const b = teamKey('key_b', { rpmLimit: 2 });
    await limits.admit(a, {});
    await limits.admit(b, {});
    await assert.rejects(limits.admit(a, {}), (error: unknown) => error instanceof RateLimitError && /for team t1 on requests per min \(RPM\): Limit 2/.test(error.message));
    assert.equal(await limiter.usage('key:key_a:rpm', RATE_WINDOW_MS), 1, 'the refused request was given back to the key');
    assert.equal(LiveRateLimits.appliesTo(teamKey('key_c', {})), false, 'no limit anywhere: no limiter call');
  });

  it("max_parallel_requests of a team: a slot per request in flight, given back on release, none taken by a refused request", async () => {
    const parallel = new InMemoryParallelRequests();
    const limits = new LiveRateLimits(new InMemoryRateLimiter(), [], parallel);
    const a = teamKey('key_a', { maxParallelRequests: 1 }, { maxParallelRequests: 5 });
    const first = {};
    await limits.admit(a, first);
    await assert.rejects(limits.admit(teamKey('key_b', { maxParallelRequests: 1 }), {}), (error: unknown) => {
      assert.ok(error instanceof RateLimitError);
      assert.equal(error.httpStatus, 429);
      assert.match(error.message, /^Max parallel request limit reached\. Hit limit for team: t1\. max_parallel_requests: 1$/);
      assert.equal(error.headers['retry-after'], '1');
      return true;
    });
    assert.equal(parallel.inFlight('key:key_a'), 1);
    assert.equal(parallel.inFlight('key:key_b'), 0, 'the refused request holds no slot of its key');
    limits.release(first);
    limits.release(first);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(parallel.inFlight('team:t1'), 0);
    await limits.admit(teamKey('key_b', { maxParallelRequests: 1 }), {});
  });

  it("max_budget: the first of key, user, team over its budget refuses, in LiteLLM's words", () => {
    assert.doesNotThrow(() => assertWithinBudgets(teamKey('key_a', { maxBudget: 1, spend: 0.5 })));
    assert.throws(
      () => assertWithinBudgets(teamKey('key_a', { maxBudget: 1, spend: 1 })),
      (error: unknown) => error instanceof BudgetExceededError && error.httpStatus === 400 && error.type === 'budget_exceeded' && error.message === 'Budget has been exceeded! Team=t1 Current cost: 1, Max budget: 1',
    );
    assert.throws(() => assertWithinBudgets(teamKey('key_a', { maxBudget: 1, spend: 2 }, { maxBudget: 0.1, spend: 0.2 })), /^BudgetExceededError: Budget has been exceeded! Current cost: 0.2, Max budget: 0.1$/);
  });
});
