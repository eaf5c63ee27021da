/**
 * A budget event (`budget-events.ts`) as a Slack message, for the Slack incoming webhooks of
 * LiteLLM's `budget_alerts` (`general_settings.alerting: ["slack"]`): the outbox stores the event
 * as it stores every event, and the delivery job posts this instead of the signed event JSON to
 * an endpoint of `format: slack`. LiteLLM's layout (`Level`, `Timestamp`, `Message`).
 */
import { slackAlertText } from '../observability/slack-alerts.ts';
import type { WebhookEvent } from './webhook-events.ts';

function usd(amount: unknown): string {
  return typeof amount === 'number' ? `$${amount.toFixed(amount < 1 ? 6 : 2)}` : 'none';
}

function subjectOf(data: Record<string, unknown>): string {
  const alias = data.key_alias ?? data.team_alias ?? data.user_alias;
  const name = typeof alias === 'string' && alias !== '' ? `\`${alias}\` (${String(data.id)})` : `\`${String(data.id)}\``;
  return `${String(data.kind ?? 'subject')} ${name}`;
}

/** The Slack body (`{"text": ...}`) of a stored event's payload. */
export function slackBudgetMessage(payload: string): string {
  const event = JSON.parse(payload) as WebhookEvent & { data: Record<string, unknown> };
  const data = event.data;
  const exceeded = event.type === 'budget.exceeded';
  const budget = exceeded ? `its max_budget of ${usd(data.max_budget)}` : `its soft_budget of ${usd(data.soft_budget)} (max_budget ${usd(data.max_budget)})`;
  const reset = typeof data.budget_reset_at === 'string' ? `; the budget resets at ${data.budget_reset_at}` : '';
  const message = `Budget ${exceeded ? 'exceeded' : 'crossed (soft budget)'}: ${subjectOf(data)} has spent ${usd(data.spend)}, over ${budget}${reset}.`;
  return JSON.stringify({ text: slackAlertText(exceeded ? 'High' : 'Medium', event.created_at * 1000, message) });
}
