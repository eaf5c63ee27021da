import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BudgetExceededError, PermissionDeniedError } from '../spec/errors.ts';
import type { EndUserRecord } from '../storage/end-user-store.ts';
import { EndUserLimits, periodStart } from './end-user-limits.ts';

function customer(fields: Partial<EndUserRecord>): EndUserRecord {
  return { userId: 'u', alias: null, blocked: false, maxBudget: null, budgetDuration: null, metadata: {}, createdAt: 1_000, ...fields };
}

describe('EndUserLimits', () => {
  it('costs nothing without an end user, nor without customers and a default budget once that is known', async () => {
    let finds = 0;
    let asks = 0;
    const limits = new EndUserLimits({ find: async () => ((finds += 1), undefined), any: async () => ((asks += 1), false) }, { totalSpend: async () => 0 });
    assert.equal(limits.check(undefined), undefined);
    // Unknown at first: checked, and whether any customer exists is asked.
    await limits.check('alice');
    assert.equal(asks, 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(limits.check('bob'), undefined, 'no customer exists: no wait');
    assert.equal(finds, 1);
  });

  it('refuses a blocked customer, and one at its own budget, else the default budget', async () => {
    const customers = new Map([
      ['blocked', customer({ userId: 'blocked', blocked: true })],
      ['rich', customer({ userId: 'rich', maxBudget: 100 })],
    ]);
    const spend = new Map([['rich', 50], ['poor', 5], ['blocked', 0]]);
    const limits = new EndUserLimits({ find: async (id) => customers.get(id), any: async () => true }, { totalSpend: async (filter) => spend.get(filter.endUser!) ?? 0 }, { maxEndUserBudget: 5 });
    await assert.rejects(limits.check('blocked')!, PermissionDeniedError);
    await limits.check('rich');
    await assert.rejects(limits.check('poor')!, BudgetExceededError);
    await limits.check('new');
  });

  it('counts a budget_duration period from the customer’s creation', () => {
    const created = customer({ createdAt: 1_000, budgetDuration: '1h' });
    assert.equal(periodStart(created, 1_000_000 + 30 * 60_000), 1_000);
    assert.equal(periodStart(created, 1_000_000 + 90 * 60_000), 1_000 + 3_600);
    assert.equal(periodStart(customer({ budgetDuration: null }), 5_000_000), undefined);
  });
});
