/**
 * The tokens of each answer, charged to its deployment's minute in the routing stats (for
 * `usage-based-routing-v2`): a JSON answer's `usage`, a stream's as it ends.
 */
import { tokensOfAnswer } from '../routing/rate-limits/deployment-budgets.ts';
import type { AttemptReport } from '../routing/router.ts';
import type { RoutingStats } from '../routing/routing-stats.ts';
import type { UpstreamStream } from '../spec/provider.ts';
import { meterStreamUsage } from './stream-usage.ts';

function isUpstreamStream(result: unknown): result is UpstreamStream {
  const body = (result as { body?: unknown } | null)?.body;
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

export function chargeRoutingUsage(stats: RoutingStats, report: AttemptReport): void {
  if (report.result === undefined) return;
  const charge = (tokens: number) => stats.charge(report.deploymentId, tokens);
  if (isUpstreamStream(report.result)) meterStreamUsage(report.result, charge);
  else charge(tokensOfAnswer(report.result));
}
