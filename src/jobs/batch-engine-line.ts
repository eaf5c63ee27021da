/**
 * Runs one leased line of an emulated batch: one upstream attempt through the router (the
 * deployment's timeout applies; no retries inside: a failed line is rescheduled with
 * `retryItem`, so no worker sleeps while holding a slot), then records the result under the
 * lease. A line completes at most once: `completeItem(s)` refuses a lease that passed to another
 * worker.
 */
import type { Logger } from '../observability/logger.ts';
import { activeTracer } from '../observability/tracing.ts';
import type { Router } from '../routing/router.ts';
import { BATCH_REQUEST_ID_PREFIX, type DeploymentBudgets } from '../routing/rate-limits/deployment-budgets.ts';
import type { KeyBudgets, KeyLimits } from '../routing/rate-limits/key-budgets.ts';
import type { BatchInputLine } from '../spec/openai-objects.ts';
import type { BatchItemLease, BatchItemRecord, BatchItemStore } from '../storage/batch-item-store.ts';
import { nowSeconds } from '../storage/row-mapping.ts';
import { httpErrorLine, lineCallFor, succeededLine, tokensOfLine } from '../managed/batches/executors/emulated-lines.ts';
import type { BatchLineResults } from './batch-line-results.ts';
import { decideLineFailure, type LineRetrySettings } from './batch-engine-retry.ts';

export interface LineRunnerDeps {
  router: Router;
  items: BatchItemStore;
  /** Where finished lines are recorded (grouped writes of `BatchItemStore.completeItem`). */
  results: BatchLineResults;
  budgets: DeploymentBudgets;
  /** Charges a line's tokens to the key that created its batch, its user and team, those with a `tpm_limit`. */
  keyBudgets: KeyBudgets;
  retry: LineRetrySettings;
  logger: Logger;
}

export interface LeasedLine {
  item: BatchItemRecord;
  deploymentId: string;
  /** The limits (of its batch's key, user, team) the line counts against; null when none has any. */
  limitedBy?: KeyLimits | null;
  lease: BatchItemLease;
  /** Aborted when the engine stops: the line is given back, not failed. */
  signal: AbortSignal;
  /** Called once the upstream call is over, before the result is recorded (frees the slot). */
  onCallDone?: () => void;
}

export type LineOutcome =
  | { kind: 'succeeded' | 'failed' }
  | { kind: 'retry'; delayMs: number; rateLimited: boolean }
  /** Given back to `pending` at once (the engine is stopping). */
  | { kind: 'released' }
  /** The lease had passed to another worker: nothing recorded. */
  | { kind: 'lost' };

export async function runLeasedLine(deps: LineRunnerDeps, line: LeasedLine): Promise<LineOutcome> {
  const { item, lease } = line;
  const key = { batchId: item.batchId, lineIndex: item.lineIndex };
  const request = item.request as unknown as BatchInputLine;
  const requestId = `${BATCH_REQUEST_ID_PREFIX}${item.batchId}-${item.lineIndex}-${item.attempts}`;
  const run = lineCallFor(request.url);
  // With tracing on, each line is a span (a trace of its own), its upstream attempt inside it.
  const tracer = activeTracer();
  const span = tracer?.startSpan('batch line', undefined, 'internal', { 'portico.batch_id': item.batchId, 'portico.batch_line': item.lineIndex, 'portico.custom_id': item.customId, 'portico.attempt': item.attempts });
  let answer;
  try {
    answer = await deps.router.sendTo(line.deploymentId, (client, call) => run(client, request.body, call), {
      signal: line.signal,
      requestId,
      maxRetries: 0,
      // The engine took this line from the deployment's budget itself (and charges its tokens
      // below): the live-traffic accounting must not count it again.
      countAgainstLimits: false,
      ...(span !== undefined && { trace: { parent: span, operation: request.url.includes('embeddings') ? 'embeddings' : 'chat' } }),
    });
    if (span !== undefined) tracer!.end(span);
  } catch (error) {
    if (span !== undefined) tracer!.end(span, error);
    line.onCallDone?.();
    if (line.signal.aborted) {
      return (await deps.items.retryItem(key, lease, nowSeconds())) ? { kind: 'released' } : { kind: 'lost' };
    }
    const decision = decideLineFailure(error, item.attempts, deps.retry);
    if (decision.kind === 'retry') {
      const rescheduled = await deps.items.retryItem(key, lease, nowSeconds() + decision.delayMs / 1000);
      return rescheduled ? decision : { kind: 'lost' };
    }
    const completed = await deps.results.complete(key, lease, { state: 'failed', result: httpErrorLine(item.customId, error, requestId) });
    return completed ? { kind: 'failed' } : { kind: 'lost' };
  }
  line.onCallDone?.();
  const output = succeededLine(item.customId, answer, requestId);
  const tokens = tokensOfLine(output);
  await deps.budgets.recordTokens(line.deploymentId, tokens.inputTokens + tokens.outputTokens).catch(() => undefined);
  if (line.limitedBy) await deps.keyBudgets.recordTokens(line.limitedBy, tokens.inputTokens + tokens.outputTokens).catch(() => undefined);
  const completed = await deps.results.complete(key, lease, { state: 'succeeded', result: output, ...tokens });
  if (!completed) deps.logger.info({ batch_id: item.batchId, line: item.lineIndex }, 'batch line finished after its lease passed to another worker; result dropped');
  return completed ? { kind: 'succeeded' } : { kind: 'lost' };
}
