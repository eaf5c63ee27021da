import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Deployment } from '../../spec/provider.ts';
import { BATCH_REQUEST_ID_PREFIX, DeploymentBudgets, deploymentRpmKey, deploymentTpmKey, liveTrafficMeter, RATE_WINDOW_MS } from './deployment-budgets.ts';
import { InMemoryRateLimiter } from './in-memory-rate-limiter.ts';

const deployment = (fields: Partial<Deployment>): Deployment => ({ id: 'd1', rpm: undefined, tpm: undefined, ...fields }) as Deployment;
const report = (fields: Record<string, unknown>) => ({ modelGroup: 'g', deploymentId: 'd1', durationMs: 1, attempt: 1, ...fields });

describe('deployment budgets', () => {
  it('admits batch requests up to (1 - live share) of rpm, counting live requests, and then asks to wait', async () => {
    const limiter = new InMemoryRateLimiter(() => 0);
    const budgets = new DeploymentBudgets(limiter, 0.2);
    const d = deployment({ rpm: 10 });
    await limiter.record(deploymentRpmKey('d1'), 3, RATE_WINDOW_MS);
    assert.deepEqual(await budgets.admitBatchRequests(d, 4), { granted: 4, retryAfterMs: 0 });
    const partial = await budgets.admitBatchRequests(d, 4);
    assert.equal(partial.granted, 1);
    const none = await budgets.admitBatchRequests(d, 4);
    assert.equal(none.granted, 0);
    assert.ok(none.retryAfterMs > 0);
    await budgets.returnUnused(d, 1);
    assert.equal((await budgets.admitBatchRequests(d, 4)).granted, 1);
  });

  it('admits everything without rpm, and nothing while the tokens of the window are over the tpm share', async () => {
    const limiter = new InMemoryRateLimiter(() => 0);
    const budgets = new DeploymentBudgets(limiter, 0.5);
    assert.equal((await budgets.admitBatchRequests(deployment({}), 50)).granted, 50);
    const d = deployment({ tpm: 1000 });
    await budgets.recordTokens('d1', 499);
    assert.equal((await budgets.admitBatchRequests(d, 3)).granted, 3);
    await budgets.recordTokens('d1', 1);
    assert.equal((await budgets.admitBatchRequests(d, 3)).granted, 0);
  });

  it('refuses a live share outside [0, 1)', () => {
    assert.throws(() => new DeploymentBudgets(new InMemoryRateLimiter(), 1), RangeError);
    assert.throws(() => new DeploymentBudgets(new InMemoryRateLimiter(), -0.1), RangeError);
  });

  it('the live-traffic meter counts answered inference calls and their tokens, not the engine, failures or other operations', async () => {
    const limiter = new InMemoryRateLimiter(() => 0);
    const meter = liveTrafficMeter(limiter);
    meter(report({ requestId: `${BATCH_REQUEST_ID_PREFIX}spoofed-by-a-client`, result: { status: 200, body: { usage: { total_tokens: 5 } } } }));
    meter(report({ requestId: 'req-1', result: { status: 200, body: { usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } } } }));
    meter(report({ requestId: 'req-2', result: { status: 200, body: (async function* () {})() } }));
    meter(report({ requestId: `${BATCH_REQUEST_ID_PREFIX}batch_x-1-1`, countedAgainstLimits: false, result: { status: 200, body: { usage: { total_tokens: 99 } } } }));
    meter(report({ requestId: 'req-3', error: new Error('upstream down') }));
    meter(report({ requestId: 'req-4', result: { id: 'batch_1', status: 'in_progress' } }));
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(await limiter.usage(deploymentRpmKey('d1'), RATE_WINDOW_MS), 3);
    assert.equal(await limiter.usage(deploymentTpmKey('d1'), RATE_WINDOW_MS), 15);
  });
});
