/**
 * What the CLI makes of an error: the line a user reads (the API's own message from its error
 * envelope, never a stack trace) with the exit code, and whether a failed look at a watched batch
 * is worth trying again.
 */
import OpenAI from 'openai';
import { CliUsageError, EXIT } from './exit-codes.ts';

/** The API's message from OpenAI's envelope (`{"error": {"message": ...}}`), else the SDK's. */
function apiMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const message = (error.error as { message?: unknown } | undefined)?.message;
  return typeof message === 'string' && message !== '' ? message : error.message;
}

/** The message of an error as a user should read it, and the exit code it means. */
export function describeError(error: unknown): { text: string; code: number } {
  if (error instanceof CliUsageError) return { text: error.message, code: EXIT.usage };
  if (error instanceof OpenAI.APIUserAbortError) return { text: 'interrupted', code: EXIT.interrupted };
  if (error instanceof OpenAI.APIConnectionError) {
    const cause = error.cause instanceof Error && error.cause.message !== error.message ? ` (${causeText(error.cause)})` : '';
    return { text: `cannot reach the endpoint: ${error.message}${cause}`, code: EXIT.apiError };
  }
  if (error instanceof OpenAI.APIError) return { text: `${error.status ?? 'error'}: ${apiMessage(error)}`, code: EXIT.apiError };
  return { text: error instanceof Error ? error.message : String(error), code: EXIT.apiError };
}

/** fetch's "fetch failed" hides the useful part (ECONNREFUSED ...) one cause deeper. */
function causeText(cause: Error): string {
  const inner = (cause as { cause?: unknown }).cause;
  return inner instanceof Error ? `${cause.message}: ${inner.message}` : cause.message;
}

/**
 * A failure that may pass: the endpoint unreachable or timing out, a 5xx, a 429. A watch keeps
 * looking through these (a gateway restarting, a proxy's hiccup); anything else ends it.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof OpenAI.APIUserAbortError) return false;
  if (error instanceof OpenAI.APIConnectionError) return true;
  if (error instanceof OpenAI.APIError) return error.status === 429 || (error.status !== undefined && error.status >= 500);
  return false;
}
