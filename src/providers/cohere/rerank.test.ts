import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError } from '../../spec/errors.ts';
import { billedSearchesOf } from '../../spec/rerank.ts';
import { rerankResponseOf, translateRerankRequest, translateRerankResponse } from './rerank.ts';
import { fixtureJson } from './fixtures/load.ts';

const MODEL = 'rerank-english-v3.0';

function refused(body: Record<string, unknown>, param: string, message: RegExp): void {
  assert.throws(() => translateRerankRequest({ model: 'group', query: 'q', documents: ['a'], ...body }, MODEL), (error: unknown) => {
    assert.ok(error instanceof InvalidRequestError);
    assert.equal(error.httpStatus, 400);
    assert.equal(error.param, param);
    assert.match(error.message, message);
    return true;
  });
}

test("string documents go as they are, with the deployment's model and Cohere's own fields passed on", () => {
  assert.deepEqual(translateRerankRequest({ model: 'group', query: 'capital?', documents: ['a', 'b'], top_n: 1, max_tokens_per_doc: 512, priority: 2 }, MODEL), {
    request: { model: MODEL, query: 'capital?', documents: ['a', 'b'], top_n: 1, max_tokens_per_doc: 512, priority: 2 },
    warnings: [],
  });
});

test('a document object goes as its text; with rank_fields, or without a text, as field lines of those fields (all of them without rank_fields)', () => {
  const documents = [
    { text: 'plain text', title: 'ignored without rank_fields' },
    { title: 'Notes', body: 'line one\nline two', year: 2024, tags: ['a', 'b'] },
    'a string stays a string',
  ];
  assert.deepEqual(translateRerankRequest({ model: 'group', query: 'q', documents }, MODEL).request.documents, [
    'plain text',
    'title: Notes\nbody: "line one\\nline two"\nyear: 2024\ntags: ["a","b"]',
    'a string stays a string',
  ]);
  const ranked = translateRerankRequest({ model: 'group', query: 'q', documents, rank_fields: ['title', 'text'] }, MODEL);
  assert.deepEqual(ranked.request.documents, ['title: ignored without rank_fields\ntext: plain text', 'title: Notes', 'a string stays a string']);
  assert.equal('rank_fields' in ranked.request, false);
  assert.deepEqual(ranked.warnings, []);
});

test("v1's max_chunks_per_doc and keys Cohere does not take are dropped with a warning; return_documents is not sent", () => {
  const { request, warnings } = translateRerankRequest({ model: 'group', query: 'q', documents: ['a'], max_chunks_per_doc: 10, user: 'u', return_documents: true }, MODEL);
  assert.deepEqual(request, { model: MODEL, query: 'q', documents: ['a'] });
  assert.deepEqual(warnings.map((warning) => warning.param), ['max_chunks_per_doc', 'user']);
  assert.match(warnings[0].message, /v1 rerank parameter.*max_tokens_per_doc/);
});

test('bad documents and options are a 400 naming the parameter', () => {
  refused({ documents: 'a' }, 'documents', /array of strings or objects/);
  refused({ documents: ['a', 3] }, 'documents[1]', /string or an object/);
  refused({ query: 5 }, 'query', /must be a string/);
  refused({ rank_fields: 'title' }, 'rank_fields', /array of strings/);
  refused({ return_documents: 'yes' }, 'return_documents', /boolean/);
  refused({ top_n: 0 }, 'top_n', /positive integer/);
  refused({ max_tokens_per_doc: 1.5 }, 'max_tokens_per_doc', /positive integer/);
});

test("Cohere's answer is passed back in its shape, with Cohere's id and meta; billed as its search units", () => {
  const response = rerankResponseOf(fixtureJson('rerank.json'));
  assert.ok(response !== null);
  const answer = translateRerankResponse(response, undefined);
  assert.deepEqual(answer, fixtureJson('rerank.json'));
  assert.equal(answer.id, '07734bd2-2473-4f07-94e1-0d9f0e6843cf');
  assert.equal(billedSearchesOf(answer), 1);
  assert.equal(billedSearchesOf({ ...answer, meta: { billed_units: { search_units: 3 } } }), 3);
  assert.equal(billedSearchesOf({ results: [] }), 1, 'an answer without search units is one search');
});

test('return_documents: true gives each result its document as the client sent it, {text} for a string', () => {
  const documents = ['zero', { text: 'one', title: 'One' }, 'two', 'three', { title: 'four' }];
  const { returned } = translateRerankRequest({ model: 'group', query: 'q', documents, return_documents: true }, MODEL);
  const answer = translateRerankResponse(rerankResponseOf(fixtureJson('rerank.json'))!, returned);
  assert.deepEqual(
    answer.results.map((result) => [result.index, result.document]),
    [
      [3, { text: 'three' }],
      [4, { title: 'four' }],
      [0, { text: 'zero' }],
    ],
  );
  assert.equal(translateRerankRequest({ model: 'group', query: 'q', documents, return_documents: false }, MODEL).returned, undefined);
});

test('an answer without results, or with a result lacking its score, is not a rerank response', () => {
  assert.equal(rerankResponseOf({ id: 'x' }), null);
  assert.equal(rerankResponseOf({ results: [{ index: 0 }] }), null);
  assert.equal(rerankResponseOf({ results: [{ index: 'a', relevance_score: 1 }] }), null);
  assert.equal(rerankResponseOf('nope'), null);
});
