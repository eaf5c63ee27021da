/**
 * PostgreSQL cannot hold the NUL character: not in text (SQLSTATE 22021,
 * character_not_in_repertoire) nor as `\u0000` in jsonb (22P05, untranslatable_character). Such a
 * value can only have come from a client (a key, an id, a filter, a name, metadata), so a query
 * that fails on it is the client's 400, not a 500. SQLite stores NUL like any other character.
 */
import { InvalidRequestError } from '../spec/errors.ts';

const UNSTORABLE_TEXT_SQLSTATES = new Set(['22021', '22P05']);

/** The error to throw for `error`: an `InvalidRequestError` when it is PostgreSQL refusing NUL, else `error` itself. */
export function asUnstorableText(error: unknown): unknown {
  if (typeof error !== 'object' || error === null) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string' || !UNSTORABLE_TEXT_SQLSTATES.has(code)) return error;
  return new InvalidRequestError('Text values may not contain the NUL character (\\u0000).', { code: 'invalid_value' });
}
