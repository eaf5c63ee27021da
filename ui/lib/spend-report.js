/**
 * Totals from `/global/spend/report` (LiteLLM's shape: one entry per day, each with a list of
 * groups named by `group_by`): summed per group over the period, and per day with empty days
 * filled in, for the Spend page's charts.
 */

const LIST_AND_NAME = {
  day: ['days', 'day'],
  model: ['models', 'model'],
  api_key: ['api_keys', 'api_key'],
  team: ['teams', 'team_name'],
  user: ['users', 'user_id'],
};

/** `[{name, spend, tokens, requests}]`, largest spend first; a null group is named `unnamed`. */
export function totalsByGroup(report, groupBy, unnamed = '(none)') {
  const [list, nameField] = LIST_AND_NAME[groupBy];
  const totals = new Map();
  for (const day of report) {
    for (const group of day[list] ?? []) {
      const name = group[nameField] ?? unnamed;
      const total = totals.get(name) ?? { name, spend: 0, tokens: 0, requests: 0 };
      total.spend += group.total_spend ?? 0;
      total.tokens += group.total_tokens ?? 0;
      total.requests += group.api_requests ?? 0;
      totals.set(name, total);
    }
  }
  return [...totals.values()].sort((a, b) => b.spend - a.spend || b.tokens - a.tokens);
}

/** Every day from `startDay` to `endDay` (YYYY-MM-DD, inclusive) with its spend; days without any are 0. */
export function spendPerDay(report, startDay, endDay) {
  const byDay = new Map(totalsByGroup(report, 'day').map((total) => [total.name, total]));
  const days = [];
  for (let day = new Date(`${startDay}T00:00:00Z`); day <= new Date(`${endDay}T00:00:00Z`); day = new Date(day.getTime() + 86_400_000)) {
    const name = day.toISOString().slice(0, 10);
    days.push(byDay.get(name) ?? { name, spend: 0, tokens: 0, requests: 0 });
  }
  return days;
}
