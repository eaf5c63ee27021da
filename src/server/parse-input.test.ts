/**
 * What a client is told when a field has the wrong type or is missing: OpenAI's wording, with
 * `param` naming the field, for single types and for fields that may be one of several
 * (the endpoints' own schemas from `spec/endpoints.ts`).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { ENDPOINTS } from '../spec/endpoints.ts';
import { InvalidRequestError } from '../spec/errors.ts';
import { parseInput } from './parse-input.ts';

function rejection(schema: z.ZodType, body: unknown): InvalidRequestError {
  try {
    parseInput(schema, body);
  } catch (error) {
    assert.ok(error instanceof InvalidRequestError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(body)}`);
}

function bodyOf(url: string): z.ZodType {
  const schema = ENDPOINTS.find((endpoint) => endpoint.url === url)?.body;
  assert.ok(schema, url);
  return schema;
}

describe('parseInput', () => {
  it('names a union field that is missing as missing', () => {
    const error = rejection(bodyOf('/v1/embeddings'), { model: 'text-embedding-3-small' });
    assert.equal(error.message, "Missing required parameter: 'input'.");
    assert.equal(error.param, 'input');
    assert.equal(error.code, 'missing_required_parameter');
  });

  it('names every type a union field may be, and the type it got', () => {
    const error = rejection(bodyOf('/v1/embeddings'), { model: 'text-embedding-3-small', input: { text: 'hi' } });
    assert.equal(error.message, "Invalid type for 'input': expected one of a string or an array, but got an object instead.");
    assert.equal(error.param, 'input');
    assert.equal(error.code, 'invalid_type');
    assert.equal(error.httpStatus, 400);
  });

  it("checks a response's input when there is one, and takes none", () => {
    const schema = bodyOf('/v1/responses');
    const error = rejection(schema, { model: 'gpt-4o-mini', input: 5 });
    assert.equal(error.message, "Invalid type for 'input': expected one of a string or an array, but got a number instead.");
    assert.equal(error.param, 'input');
    assert.doesNotThrow(() => parseInput(schema, { model: 'gpt-4o-mini', input: 'Hello' }));
    assert.doesNotThrow(() => parseInput(schema, { model: 'gpt-4o-mini', input: [{ role: 'user', content: 'Hello' }] }));
    assert.doesNotThrow(() => parseInput(schema, { model: 'gpt-4o-mini', previous_response_id: 'resp_1' }));
  });

  it('keeps a branch-specific message when a branch took the type and failed inside it', () => {
    const schema = z.object({ input: z.union([z.string(), z.array(z.string())]) });
    const error = rejection(schema, { input: [5] });
    assert.equal(error.code, 'invalid_value');
    assert.equal(error.param, 'input');
  });

  it('lists three or more types with commas', () => {
    const schema = z.object({ stop: z.union([z.string(), z.array(z.string()), z.null()]) });
    const error = rejection(schema, { stop: 5 });
    assert.equal(error.message, "Invalid type for 'stop': expected one of a string, an array, or a null, but got a number instead.");
  });

  it('says a wrong single type as before', () => {
    const error = rejection(bodyOf('/v1/chat/completions'), { model: 'gpt-4o-mini', messages: 'hi' });
    assert.equal(error.message, "Invalid type for 'messages': expected array, but got a string instead.");
  });

  it("names a rerank's missing query, a documents that is not a list, and a document of neither type", () => {
    const schema = bodyOf('/v1/rerank');
    assert.equal(rejection(schema, { model: 'rerank', documents: ['a'] }).message, "Missing required parameter: 'query'.");
    const notList = rejection(schema, { model: 'rerank', query: 'q', documents: 'a' });
    assert.equal(notList.message, "Invalid type for 'documents': expected array, but got a string instead.");
    assert.equal(notList.param, 'documents');
    const document = rejection(schema, { model: 'rerank', query: 'q', documents: ['a', 7] });
    assert.equal(document.message, "Invalid type for 'documents[1]': expected one of a string or an object, but got a number instead.");
    assert.equal(document.param, 'documents[1]');
  });
});
