import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BudgetExceededError } from '../spec/errors.ts';
import type { Principal } from '../spec/principal.ts';
import type { SpendLogFilter } from '../storage/spend-log-store.ts';
import { ProxyBudget } from './proxy-budget.ts';

function ledger(spends: Array<number | Error>) {
  const asked: SpendLogFilter[] = [];
  return {
    asked,
    totalSpend(filter: SpendLogFilter): Promise<number> {
      asked.push(filter);
      const next = spends.shift() ?? 0;
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
  };
}

test('refuses only above the budget, with LiteLLM\'s words', async () => {
  let now = 1_000_000;
  const spends = ledger([9.99, 10, 10.5]);
  const budget = new ProxyBudget(spends, { maxBudget: 10 }, { ttlMs: 100, now: () => now });
  await budget.check();
  now += 100;
  await budget.check();
  now += 100;
  await assert.rejects(budget.check(), (error: unknown) => error instanceof BudgetExceededError && error.message === 'Budget has been exceeded! Current cost: 10.5, Max budget: 10');
  assert.deepEqual(spends.asked, [{}, {}, {}], 'without budget_duration: all the spend the ledger keeps');
});

test('one ledger query per ttl, over the window back from now; a failed sum is asked again', async () => {
  let now = 2_000_000;
  const spends = ledger([new Error('database down'), 1, 2]);
  const budget = new ProxyBudget(spends, { maxBudget: 10, windowMs: 60_000 }, { ttlMs: 1_000, now: () => now });
  await assert.rejects(budget.check(), /database down/);
  await budget.check();
  now += 999;
  await budget.check();
  assert.equal(spends.asked.length, 2, 'the second sum served the request within its ttl');
  now += 1;
  await budget.check();
  assert.equal(spends.asked.length, 3);
  assert.deepEqual(spends.asked.at(-1), { from: (now - 60_000) / 1000 });
});

test('every caller but the master key', () => {
  assert.equal(ProxyBudget.appliesTo({ isMaster: true } as Principal), false);
  assert.equal(ProxyBudget.appliesTo({ isMaster: false } as Principal), true);
  assert.equal(ProxyBudget.appliesTo(null), true);
});
