/**
 * What a batch's status means to a person: the badge (a batch with failed lines never reads as a
 * plain success), its progress, and an ETA from the rate so far. Pure functions over OpenAI's
 * `Batch` object, shared by the pages and unit-tested under Node (test/console/).
 */

export const TERMINAL_STATUSES = new Set(['completed', 'failed', 'expired', 'cancelled']);

export function isTerminal(batch) {
  return TERMINAL_STATUSES.has(batch.status);
}

/** Lines done (completed or failed), failed, and the total, from `request_counts`. */
export function progressOf(batch) {
  const counts = batch.request_counts ?? { total: 0, completed: 0, failed: 0 };
  const total = counts.total ?? 0;
  const completed = counts.completed ?? 0;
  const failed = counts.failed ?? 0;
  const done = Math.min(total, completed + failed);
  return { total, completed, failed, done, fraction: total > 0 ? done / total : isTerminal(batch) ? 1 : 0 };
}

function lines(count) {
  return `${count} failed line${count === 1 ? '' : 's'}`;
}

/**
 * `{label, tone}`: tone is one of success, warning, danger, info, neutral (the CSS classes).
 * Completed with failed lines is a warning that says how many, in words, not only in colour.
 */
export function badgeOf(batch) {
  const { failed, done, total } = progressOf(batch);
  switch (batch.status) {
    case 'completed':
      return failed > 0 ? { label: `completed with ${lines(failed)}`, tone: 'warning' } : { label: 'completed', tone: 'success' };
    case 'failed':
      return { label: 'failed', tone: 'danger' };
    case 'expired':
      return { label: failed > 0 || done < total ? `expired: ${done} of ${total} lines done${failed > 0 ? `, ${lines(failed)}` : ''}` : 'expired', tone: 'danger' };
    case 'cancelled':
      return { label: failed > 0 ? `cancelled with ${lines(failed)}` : 'cancelled', tone: 'neutral' };
    case 'in_progress':
      return { label: failed > 0 ? `in progress, ${lines(failed)}` : 'in progress', tone: failed > 0 ? 'warning' : 'info' };
    default:
      return { label: String(batch.status).replace(/_/g, ' '), tone: 'info' };
  }
}

/**
 * Seconds left at the rate lines have been done since the batch started (`in_progress_at`, else
 * `created_at`); null when it cannot be told yet (nothing done, or finished).
 */
export function etaSeconds(batch, nowSeconds) {
  if (isTerminal(batch) || batch.status === 'cancelling') return null;
  const { total, done } = progressOf(batch);
  const startedAt = batch.in_progress_at ?? batch.created_at;
  const elapsed = nowSeconds - startedAt;
  if (done <= 0 || done >= total || elapsed <= 0) return null;
  return Math.ceil(((total - done) * elapsed) / done);
}

/** When the batch reached its end state, whichever that is; null while it runs. */
export function finishedAt(batch) {
  return batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at ?? null;
}
