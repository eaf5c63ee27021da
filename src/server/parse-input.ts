/**
 * Strict validation of what clients send, with OpenAI's wording: the first problem becomes a 400
 * `invalid_request_error` whose `param` names the field (`messages`, `messages[0].role`) and
 * whose `code` is OpenAI's (`missing_required_parameter`, `invalid_type`, `invalid_value`,
 * `unknown_parameter`).
 */
import type { z } from 'zod';
import { InvalidRequestError } from '../spec/errors.ts';

type Issue = z.core.$ZodIssue;

export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidRequestError('The request body must be a JSON object.', { code: 'invalid_type' });
  }
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw issueToError(result.error.issues[0], input);
}

/** For query strings: same messages, and a missing query is an empty object. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  return parseInput(schema, query ?? {});
}

/**
 * A query string whose every key appears once. Repeated keys (`?purpose=a&purpose=b`) arrive as
 * arrays, which no list route takes: a 400 naming the key, rather than an array reaching code
 * that expects a string.
 */
export function singleValuedQuery(query: unknown): Record<string, string | undefined> {
  const values: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (typeof value !== 'string') {
      const param = name.slice(0, 64);
      throw new InvalidRequestError(`Invalid value for '${param}': the query parameter may be given only once.`, { param, code: 'invalid_value' });
    }
    values[name] = value;
  }
  return values;
}

function issueToError(issue: Issue, input: unknown): InvalidRequestError {
  if (issue.code === 'unrecognized_keys') {
    const param = formatParam([...issue.path, issue.keys[0]]);
    return new InvalidRequestError(`Unrecognized request argument supplied: ${issue.keys.join(', ')}`, {
      param,
      code: 'unknown_parameter',
    });
  }
  const param = formatParam(issue.path);
  const value = valueAt(input, issue.path);
  if (issue.code === 'invalid_type') {
    if (value === undefined) {
      return new InvalidRequestError(`Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
    }
    return new InvalidRequestError(`Invalid type for '${param}': expected ${issue.expected}, but got ${describe(value)} instead.`, {
      param,
      code: 'invalid_type',
    });
  }
  if (issue.code === 'invalid_union') {
    // A field that may be one of several types (`input`: a string or an array): missing, or of
    // none of them, is said as for a single type, naming every type it may be.
    if (value === undefined) {
      return new InvalidRequestError(`Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
    }
    const expected = unionTypes(issue);
    if (expected !== undefined) {
      return new InvalidRequestError(`Invalid type for '${param}': expected ${oneOf(expected)}, but got ${describe(value)} instead.`, {
        param,
        code: 'invalid_type',
      });
    }
  }
  return new InvalidRequestError(`Invalid value for '${param}': ${issue.message}`, { param, code: 'invalid_value' });
}

/**
 * The types a union's branches expected, when every branch failed on the value's type itself;
 * undefined when a branch took the type and failed inside it (its own message is the better one).
 */
function unionTypes(issue: Extract<Issue, { code: 'invalid_union' }>): string[] | undefined {
  const types: string[] = [];
  for (const branch of issue.errors) {
    const first = branch[0];
    if (branch.length !== 1 || first === undefined || first.code !== 'invalid_type' || first.path.length > 0) return undefined;
    if (!types.includes(first.expected)) types.push(first.expected);
  }
  return types.length > 0 ? types : undefined;
}

function oneOf(types: readonly string[]): string {
  const named = types.map((type) => `${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}`);
  if (named.length === 1) return named[0];
  return `one of ${named.slice(0, -1).join(', ')}${named.length > 2 ? ',' : ''} or ${named[named.length - 1]}`;
}

function formatParam(path: readonly PropertyKey[]): string {
  let text = '';
  for (const segment of path) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else text += text === '' ? String(segment) : `.${String(segment)}`;
  }
  return text;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const segment of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}
