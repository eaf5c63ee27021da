/**
 * Exit codes of `portico batch`, for scripts: what the batch came to, or why the command could
 * not tell. Documented in `portico batch --help` and the README.
 */
import type OpenAI from 'openai';

export const EXIT = Object.freeze({
  /** The command did what it was asked; a watched batch completed with no failed line. */
  ok: 0,
  /** Bad flags or arguments, a missing or malformed input file. */
  usage: 2,
  /** The endpoint could not be reached or answered an error (its message is printed). */
  apiError: 3,
  /** The batch completed, but some of its lines failed (they are in the error file). */
  completedWithFailures: 4,
  /** The batch failed as a whole (e.g. its input was refused). */
  batchFailed: 5,
  /** The batch expired before all its lines ran. */
  batchExpired: 6,
  /** The batch was cancelled. */
  batchCancelled: 7,
  /** Interrupted (Ctrl-C) while watching: the batch keeps running. */
  interrupted: 130,
});

/** The exit code for a batch in a terminal status; undefined while it still runs. */
export function exitCodeOfBatch(batch: Pick<OpenAI.Batches.Batch, 'status' | 'request_counts'>): number | undefined {
  switch (batch.status) {
    case 'completed':
      return (batch.request_counts?.failed ?? 0) > 0 ? EXIT.completedWithFailures : EXIT.ok;
    case 'failed':
      return EXIT.batchFailed;
    case 'expired':
      return EXIT.batchExpired;
    case 'cancelled':
      return EXIT.batchCancelled;
    default:
      return undefined;
  }
}

/** A problem with what the user typed or gave; printed without a stack trace. */
export class CliUsageError extends Error {}
