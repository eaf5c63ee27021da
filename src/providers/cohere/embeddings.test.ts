import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError } from '../../spec/errors.ts';
import { embeddingListOf, embedResponseOf, MAX_TEXTS_PER_REQUEST, translateEmbeddingsRequest } from './embeddings.ts';
import { fixtureJson } from './fixtures/load.ts';

const MODEL = 'embed-english-v3.0';

function refused(body: Record<string, unknown>, param: string, message: RegExp): void {
  assert.throws(() => translateEmbeddingsRequest({ model: 'group', ...body }, MODEL), (error: unknown) => {
    assert.ok(error instanceof InvalidRequestError);
    assert.equal(error.param, param);
    assert.match(error.message, message);
    return true;
  });
}

test("a string or an array of strings becomes Cohere's texts, with LiteLLM's default input_type and float embeddings", () => {
  assert.deepEqual(translateEmbeddingsRequest({ model: 'group', input: 'hello' }, MODEL), {
    requests: [{ model: MODEL, texts: ['hello'], input_type: 'search_document', embedding_types: ['float'] }],
    base64: false,
    warnings: [],
  });
  const { requests } = translateEmbeddingsRequest({ model: 'group', input: ['a', 'b'], input_type: 'search_query', dimensions: 256, truncate: 'END' }, 'embed-v4.0');
  assert.deepEqual(requests, [{ model: 'embed-v4.0', texts: ['a', 'b'], input_type: 'search_query', embedding_types: ['float'], output_dimension: 256, truncate: 'END' }]);
});

test("more than 96 inputs go as several requests of at most 96 texts, in order", () => {
  const input = Array.from({ length: 200 }, (_, i) => `t${i}`);
  const { requests } = translateEmbeddingsRequest({ model: 'group', input }, MODEL);
  assert.deepEqual(requests.map((request) => request.texts.length), [MAX_TEXTS_PER_REQUEST, MAX_TEXTS_PER_REQUEST, 8]);
  assert.deepEqual(requests.flatMap((request) => request.texts), input);
});

test('token arrays, empty input and bad options are a 400 naming the parameter', () => {
  refused({ input: [1, 2, 3] }, 'input', /Token arrays cannot be embedded on Cohere deployments/);
  refused({ input: [[1, 2], [3]] }, 'input', /Token arrays/);
  refused({ input: [] }, 'input', /non-empty/);
  refused({ input: 'x', encoding_format: 'int8' }, 'encoding_format', /'float' or 'base64'/);
  refused({ input: 'x', dimensions: 0 }, 'dimensions', /positive integer/);
  refused({ input: 'x', input_type: 'image' }, 'input_type', /search_document, search_query, classification, clustering/);
  refused({ input: 'x', truncate: 'MIDDLE' }, 'truncate', /'NONE', 'START' or 'END'/);
});

test('user is dropped with a warning', () => {
  assert.deepEqual(translateEmbeddingsRequest({ model: 'group', input: 'x', user: 'u' }, MODEL).warnings.map((warning) => warning.param), ['user']);
});

test("Cohere's float embeddings become OpenAI's list, usage from billed input tokens; base64 is float32 little-endian", () => {
  const answer = embedResponseOf(fixtureJson('embed-float.json'), 2);
  assert.ok(answer !== null);
  const list = embeddingListOf([answer], { model: MODEL, base64: false });
  assert.equal(list.object, 'list');
  assert.equal(list.model, MODEL);
  assert.deepEqual(list.usage, { prompt_tokens: 2, total_tokens: 2 });
  assert.deepEqual(list.data.map((item) => [item.object, item.index]), [['embedding', 0], ['embedding', 1]]);
  assert.deepEqual(list.data[0].embedding, [0.016296387, -0.008354187, -0.04699707, -0.07104492]);

  const encoded = embeddingListOf([answer], { model: MODEL, base64: true }).data[1].embedding as string;
  const bytes = Buffer.from(encoded, 'base64');
  assert.equal(bytes.length, 16);
  assert.ok(Math.abs(bytes.readFloatLE(0) - 0.00793457) < 1e-7);
});

test('answers of several requests are joined with running indexes and summed tokens', () => {
  const list = embeddingListOf([{ vectors: [[1], [2]], tokens: 3 }, { vectors: [[3]], tokens: 4 }], { model: MODEL, base64: false });
  assert.deepEqual(list.data.map((item) => [item.index, item.embedding]), [[0, [1]], [1, [2]], [2, [3]]]);
  assert.deepEqual(list.usage, { prompt_tokens: 7, total_tokens: 7 });
});

test('an answer without float embeddings, or with the wrong count, is not an embed response', () => {
  assert.equal(embedResponseOf({ embeddings: { int8: [[1]] } }, 1), null);
  assert.equal(embedResponseOf(fixtureJson('embed-float.json'), 3), null);
  assert.equal(embedResponseOf('nope', 1), null);
});
