/** Assertions shared by the budget suites (live requests, batch reservations). */
import assert from 'node:assert/strict';
import OpenAI from 'openai';

/** Checks every 100 ms until `check` holds, failing after `tries`. */
export async function eventually(what: string, check: () => Promise<boolean>, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail(`never: ${what}`);
}

/** LiteLLM's over-budget answer: 400, type `budget_exceeded`, code "400", and the message. */
export function isBudgetExceeded(error: unknown, message: RegExp): boolean {
  assert.ok(error instanceof OpenAI.APIError, `expected an API error, got ${String(error)}`);
  assert.equal(error.status, 400);
  assert.equal(error.type, 'budget_exceeded');
  assert.equal(error.code, '400');
  assert.match((error.error as { message: string }).message, message);
  return true;
}
