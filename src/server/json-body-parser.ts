/**
 * The `application/json` body parser: Fastify's default, minus two regular-expression scans of
 * nearly every body.
 *
 * Fastify parses with secure-json-parse, which after `JSON.parse` searches the whole text twice
 * with regular expressions for `"__proto__":` and `"constructor":` keys (either may be spelled
 * with `\uXXXX` escapes) and refuses a body that has one. Chat bodies carry whole conversations,
 * so those scans cost about as much as the parse. Such a key needs `proto` or `constructor` in
 * the text, or a `\u` escape: a body without any of them is answered from `JSON.parse` alone;
 * every other body (an invalid or BOM-prefixed one) goes to Fastify's own default parser, which
 * answers exactly as before.
 *
 * An empty body is no body (`undefined`), whatever its content type: the official Python SDK sends
 * `content-type: application/json` with the empty bodies of `batches.cancel`, `files.delete`,
 * `responses.cancel`, ..., which Fastify's parser refuses and OpenAI accepts. A route that needs a
 * body still answers 400 ("The request body must be a JSON object.", `parse-input.ts`).
 *
 * A body parsed here keeps its text (`spec/received-json.ts`): unchanged, it goes upstream as sent.
 *
 * Either way, a body nested deeper than `MAX_JSON_DEPTH` is a 400 (see `spec/json-depth.ts`).
 */
import type { FastifyInstance } from 'fastify';
import { InvalidRequestError } from '../spec/errors.ts';
import { MAX_JSON_DEPTH, mayNestDeeperThan, nestsDeeperThan } from '../spec/json-depth.ts';
import { keepReceivedText } from '../spec/received-json.ts';

/** `quickJsonParse` could not decide alone: the default parser must. */
export const UNDECIDED: unique symbol = Symbol('undecided');

/** The parse of `text` when it needs none of secure-json-parse's checks; else `UNDECIDED`. */
export function quickJsonParse(text: string): unknown {
  if (text.length === 0 || text.charCodeAt(0) === 0xfeff) return UNDECIDED;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return UNDECIDED;
  }
  if (parsed === null || typeof parsed !== 'object') return parsed;
  if (text.indexOf('proto') === -1 && text.indexOf('constructor') === -1 && text.indexOf('\\u') === -1) {
    // Sent upstream as it came when nothing changes it (`spec/received-json.ts`).
    keepReceivedText(parsed, text);
    return parsed;
  }
  return UNDECIDED;
}

export function useQuickJsonBodyParser(app: FastifyInstance): void {
  const { onProtoPoisoning, onConstructorPoisoning } = app.initialConfig;
  const fallback = app.getDefaultJsonParser(onProtoPoisoning ?? 'error', onConstructorPoisoning ?? 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.length === 0) return done(null, undefined);
    const parsed = quickJsonParse(text);
    if (parsed !== UNDECIDED) return done(tooDeep(text, parsed), parsed);
    fallback(request, text, (error, value) => (error ? done(forbiddenKey(text) ?? error) : done(tooDeep(text, value), value)));
  });
}

/**
 * Fastify's parser refuses a `__proto__` key, and a `constructor` key holding a `prototype`, with
 * the same error as text that is not JSON at all ("could not parse the JSON body"). When the text
 * is valid JSON, that refusal was the reason: say which key. Walked without recursion, as the
 * depth check has not run yet.
 */
function forbiddenKey(text: string): InvalidRequestError | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  let constructorFound = false;
  const stack: unknown[] = [parsed];
  while (stack.length > 0) {
    const value = stack.pop();
    if (typeof value !== 'object' || value === null) continue;
    if (!Array.isArray(value)) {
      if (Object.hasOwn(value, '__proto__')) return refusedKey('__proto__');
      const inner = (value as Record<string, unknown>).constructor;
      if (Object.hasOwn(value, 'constructor') && typeof inner === 'object' && inner !== null && Object.hasOwn(inner, 'prototype')) constructorFound = true;
    }
    for (const child of Object.values(value)) if (typeof child === 'object' && child !== null) stack.push(child);
  }
  return constructorFound ? refusedKey('constructor') : null;
}

function refusedKey(name: string): InvalidRequestError {
  return new InvalidRequestError(`The JSON body may not contain a '${name}' key.`, { code: 'invalid_json' });
}

/** Most bodies have too few `{`/`[` to nest that deep: only the others are walked. */
function tooDeep(text: string, value: unknown): InvalidRequestError | null {
  if (!mayNestDeeperThan(text, MAX_JSON_DEPTH) || !nestsDeeperThan(value, MAX_JSON_DEPTH)) return null;
  return new InvalidRequestError(`The JSON body is nested more than ${MAX_JSON_DEPTH} levels deep.`, { code: 'invalid_json' });
}
