/**
 * The `budget.soft_exceeded` and `budget.exceeded` events of a budget crossing
 * (`storage/budget-crossings.ts`), in OpenAI's event envelope; `data` names the subject as the
 * key, user and team routes show it (a key by its `token`, never its secret):
 *
 *   {"object": "event", "id": "evt_...", "type": "budget.exceeded", "created_at": 1750000000,
 *    "data": {"id": "key_...", "kind": "key", "key_alias": "ci", "user_id": "grace", "team_id": "research",
 *             "spend": 25.01, "soft_budget": 20, "max_budget": 25, "budget_reset_at": "2026-01-01T00:00:00.000Z"}}
 *
 * Who gets it (`owner`): a team's events and those of the team's keys go to the team's endpoints
 * (`team_id`) too; a user's budget spans every team the user is in, so a user's events, and those
 * of keys without a team, go only to the endpoints without a team.
 */
import { randomUUID } from 'node:crypto';
import type { WebhookEventType } from '../config/types.ts';
import type { BudgetCrossing } from '../storage/budget-crossings.ts';
import type { WebhookEvent } from './webhook-events.ts';

export interface BudgetEvent {
  type: WebhookEventType;
  data: WebhookEvent['data'];
  /** As objects are owned (`team:<id>`, `user:<id>`, `key:<id>`): team endpoints match `team:<id>`. */
  owner: string;
  /**
   * Tells this crossing apart from the subject's others (the next period's, or after its spend or
   * budget was changed): each crossing is seen by exactly one transaction, so it is drawn at random.
   */
  occurrence: string;
}

export function budgetEventOf(crossing: BudgetCrossing): BudgetEvent {
  const type: WebhookEventType = crossing.threshold === 'max_budget' ? 'budget.exceeded' : 'budget.soft_exceeded';
  const budgets = {
    spend: crossing.spend,
    soft_budget: crossing.softBudget,
    max_budget: crossing.maxBudget,
    budget_reset_at: crossing.budgetResetAt === null ? null : new Date(crossing.budgetResetAt * 1000).toISOString(),
  };
  switch (crossing.kind) {
    case 'key':
      return {
        type,
        data: { id: crossing.id, kind: 'key', key_alias: crossing.alias, user_id: crossing.userId, team_id: crossing.teamId, ...budgets },
        owner: crossing.teamId === null ? `key:${crossing.id}` : `team:${crossing.teamId}`,
        occurrence: randomUUID(),
      };
    case 'user':
      return { type, data: { id: crossing.id, kind: 'user', user_id: crossing.id, user_alias: crossing.alias, ...budgets }, owner: `user:${crossing.id}`, occurrence: randomUUID() };
    case 'team':
      return { type, data: { id: crossing.id, kind: 'team', team_id: crossing.id, team_alias: crossing.alias, ...budgets }, owner: `team:${crossing.id}`, occurrence: randomUUID() };
  }
}
