/**
 * Spend added to keys, users and teams, and the budgets it crosses on the way: a subject's spend
 * going from under its `soft_budget` or `max_budget` to at or over it. Each subject's spend is
 * added by one `UPDATE ... RETURNING` (SQLite and PostgreSQL), and the crossing is read from what
 * that update answers: the spend after it, less the amount it added, is the spend before it. The
 * update is atomic (PostgreSQL locks the row until the transaction ends; SQLite has one writer),
 * so of two instances adding spend at once, exactly one sees its own update cross: one event per
 * crossing. A reset of the budget period (spend back to 0) lets the budget be crossed again.
 *
 * What tells of a crossing (the webhook outbox's `budget.*` events) is written in the caller's
 * transaction, with the spend (`BudgetCrossingEvents`): a crash can neither lose an event nor
 * leave one for spend that was never stored.
 *
 *   const crossings = await addSubjectSpend(trx, { keys: new Map([['key_1', 0.25]]) });
 *   const written = await writeCrossingEvents(trx, crossings, events);   // in the transaction
 *   ... commit ...; written?.();                                          // wakes the delivery
 */
import type { Kysely, Transaction } from 'kysely';
import type { BudgetSubjectKind } from '../spec/budget-subjects.ts';
import type { DatabaseSchema } from './schema.ts';
import type { WrittenAlongside } from './written-alongside.ts';

export type BudgetThreshold = 'soft_budget' | 'max_budget';

/** A key's, user's or team's spend that reached one of its budgets with the spend just added. */
export interface BudgetCrossing {
  threshold: BudgetThreshold;
  kind: BudgetSubjectKind;
  /** The key's id (its `token`, never its secret), the `user_id` or the `team_id`. */
  id: string;
  /** `key_alias` of a key, `team_alias` of a team, `user_alias` of a user. */
  alias: string | null;
  /** A key's user; null for users and teams. */
  userId: string | null;
  /** A key's team, or the team itself; null for users. */
  teamId: string | null;
  /** Spend (USD) of the budget period after the addition. */
  spend: number;
  softBudget: number | null;
  maxBudget: number | null;
  /** Unix seconds: when the spend next goes back to 0; null without `budget_duration`. */
  budgetResetAt: number | null;
}

/**
 * What the events of crossings are, to be written in the transaction that added the spend
 * (the webhook outbox's `budget.soft_exceeded` / `budget.exceeded`); undefined when nothing wants them.
 */
export type BudgetCrossingEvents = (crossings: readonly BudgetCrossing[]) => WrittenAlongside | undefined;

/** Spend to add per subject id. */
export interface SubjectSpend {
  keys?: ReadonlyMap<string, number>;
  users?: ReadonlyMap<string, number>;
  teams?: ReadonlyMap<string, number>;
}

/**
 * The budgets crossed by adding `amount` to reach `spendAfter`: those under which the spend was
 * and at or over which it is. (The spend before is `spendAfter - amount`, as the database added
 * them; a spend landing within a rounding step of a budget could in theory be read either side.)
 */
export function crossedThresholds(spendAfter: number, amount: number, budgets: { softBudget: number | null; maxBudget: number | null }): BudgetThreshold[] {
  if (!(amount > 0)) return [];
  const before = spendAfter - amount;
  const crossed: BudgetThreshold[] = [];
  const crosses = (budget: number | null) => budget !== null && before < budget && spendAfter >= budget;
  if (crosses(budgets.softBudget)) crossed.push('soft_budget');
  if (crosses(budgets.maxBudget)) crossed.push('max_budget');
  return crossed;
}

/**
 * Adds each amount to its key's, user's or team's spend, one `UPDATE ... RETURNING` per subject,
 * in the caller's transaction; answers the budgets crossed. A subject with no row is no error
 * (keys may name users and teams that were never created).
 */
export async function addSubjectSpend(trx: Kysely<DatabaseSchema>, spend: SubjectSpend): Promise<BudgetCrossing[]> {
  const crossings: BudgetCrossing[] = [];
  const note = (amount: number, subject: Omit<BudgetCrossing, 'threshold' | 'softBudget' | 'maxBudget' | 'spend' | 'budgetResetAt'>, row: BudgetColumns) => {
    const budgets = { softBudget: numberOrNull(row.soft_budget), maxBudget: numberOrNull(row.max_budget) };
    const after = Number(row.spend);
    for (const threshold of crossedThresholds(after, amount, budgets)) {
      crossings.push({ ...subject, threshold, spend: after, ...budgets, budgetResetAt: numberOrNull(row.budget_reset_at) });
    }
  };
  for (const [id, amount] of inIdOrder(spend.keys)) {
    if (amount === 0) continue;
    const row = await trx
      .updateTable('api_keys')
      .set((eb) => ({ spend: eb('spend', '+', amount) }))
      .where('id', '=', id)
      .returning(['key_alias', 'user_id', 'team_id', ...BUDGET_COLUMNS])
      .executeTakeFirst();
    if (row) note(amount, { kind: 'key', id, alias: row.key_alias, userId: row.user_id, teamId: row.team_id }, row);
  }
  for (const [id, amount] of inIdOrder(spend.users)) {
    if (amount === 0) continue;
    const row = await trx
      .updateTable('users')
      .set((eb) => ({ spend: eb('spend', '+', amount) }))
      .where('user_id', '=', id)
      .returning(['user_alias', ...BUDGET_COLUMNS])
      .executeTakeFirst();
    if (row) note(amount, { kind: 'user', id, alias: row.user_alias, userId: null, teamId: null }, row);
  }
  for (const [id, amount] of inIdOrder(spend.teams)) {
    if (amount === 0) continue;
    const row = await trx
      .updateTable('teams')
      .set((eb) => ({ spend: eb('spend', '+', amount) }))
      .where('team_id', '=', id)
      .returning(['team_alias', ...BUDGET_COLUMNS])
      .executeTakeFirst();
    if (row) note(amount, { kind: 'team', id, alias: row.team_alias, userId: null, teamId: id }, row);
  }
  return crossings;
}

/**
 * A map's entries by id: two transactions adding to the same rows take their locks in the same
 * order, so concurrent flushes (instances, or the SQLite worker and the main connection) never
 * wait on each other in a cycle (PostgreSQL would abort one as a deadlock).
 */
function inIdOrder(amounts: ReadonlyMap<string, number> | undefined): [string, number][] {
  if (amounts === undefined) return [];
  return [...amounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Writes the events of `crossings` in the transaction that added the spend; answers what to
 * call once it committed (undefined when nothing was written).
 */
export async function writeCrossingEvents(trx: Transaction<DatabaseSchema>, crossings: readonly BudgetCrossing[], events: BudgetCrossingEvents | undefined): Promise<(() => void) | undefined> {
  if (crossings.length === 0 || events === undefined) return undefined;
  const alongside = events(crossings);
  if (alongside === undefined) return undefined;
  await alongside.write(trx);
  return () => alongside.committed?.();
}

/** What the spend ledger's SQLite worker procedure answers for a flush that would cross a budget (rolled back). */
export const CROSSES_A_BUDGET = 'crosses_a_budget';

const SUBJECT_TABLES = [
  ['byKey', 'api_keys', 'id'],
  ['byUser', 'users', 'user_id'],
  ['byTeam', 'teams', 'team_id'],
] as const;

/**
 * `addSubjectSpend` for the spend ledger's group commit on SQLite's worker thread
 * (`spend-log-store.ts`, `sqlite-worker.ts`): JavaScript source run there, inside the flush's
 * transaction, with `update(text)` (a prepared statement) and `byKey`, `byUser`, `byTeam` (id ->
 * amount) in scope. Without `checkBudgets`, plain UPDATEs. With it, each UPDATE returns the
 * budgets and, at the first crossing (the test of `crossedThresholds`), the transaction is rolled
 * back and the procedure answers `CROSSES_A_BUDGET`: the events are composed on the main thread
 * only (`BudgetCrossingEvents`), so that flush runs again there, where they are written with it.
 */
export function workerAddSpendSource(checkBudgets: boolean): string {
  if (!checkBudgets) {
    return SUBJECT_TABLES.map(([totals, table, id]) => `for (const [id, amount] of ${totals}) update('update "${table}" set "spend" = "spend" + ? where "${id}" = ?').run(amount, id);`).join('\n');
  }
  const crosses = '(budget) => budget !== null && row.spend - amount < budget && row.spend >= budget';
  return SUBJECT_TABLES.map(
    ([totals, table, id]) => `for (const [id, amount] of ${totals}) {
  const row = update('update "${table}" set "spend" = "spend" + ? where "${id}" = ? returning "spend", "soft_budget", "max_budget"').get(amount, id);
  const crosses = ${crosses};
  if (row !== undefined && amount > 0 && (crosses(row.soft_budget) || crosses(row.max_budget))) {
    db.exec('ROLLBACK');
    return ${JSON.stringify(CROSSES_A_BUDGET)};
  }
}`,
  ).join('\n');
}

const BUDGET_COLUMNS = ['spend', 'soft_budget', 'max_budget', 'budget_reset_at'] as const;

interface BudgetColumns {
  spend: number;
  soft_budget: number | null;
  max_budget: number | null;
  budget_reset_at: number | null;
}

function numberOrNull(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}
