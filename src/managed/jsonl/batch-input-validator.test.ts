import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchInputValidator } from './batch-input-validator.ts';

function validate(text: string | Buffer, maxLines = 50_000) {
  const validator = new BatchInputValidator({ maxLines, maxLineBytes: 1024 });
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  // Feed in small, uneven chunks so lines straddle chunk boundaries.
  for (let i = 0; i < bytes.length; i += 7) validator.push(bytes.subarray(i, i + 7));
  return validator.finish();
}

const line = (customId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [] }, ...extra });

test('a valid file is summarised with its line count, endpoint and models', () => {
  const summary = validate(`${line('a')}\r\n${line('b')}\n\n${line('c')}`);
  assert.equal(summary.problem, null);
  assert.equal(summary.lineCount, 3);
  assert.equal(summary.endpoint, '/v1/chat/completions');
  assert.deepEqual([...summary.models], [['gpt-4o-mini', 3]]);
});

test('an unparseable line is reported with its line number', () => {
  const summary = validate(`${line('a')}\n{not json\n`);
  assert.deepEqual(summary.problem, { line: 2, code: 'invalid_json_line', param: null, message: 'This line is not parseable as valid JSON.' });
});

test('a missing custom_id is a missing_required_parameter naming the field', () => {
  const summary = validate(JSON.stringify({ method: 'POST', url: '/v1/chat/completions', body: { model: 'm' } }));
  assert.equal(summary.problem?.code, 'missing_required_parameter');
  assert.equal(summary.problem?.param, 'custom_id');
  assert.equal(summary.problem?.line, 1);
});

test('duplicate custom_ids, streaming bodies, wrong methods and urls are rejected', () => {
  assert.equal(validate(`${line('a')}\n${line('a')}`).problem?.code, 'duplicate_custom_id');
  assert.equal(validate(line('a', { body: { model: 'm', stream: true } })).problem?.code, 'streaming_unsupported');
  assert.equal(validate(line('a', { method: 'GET' })).problem?.param, 'method');
  assert.equal(validate(line('a', { url: '/v1/nope' })).problem?.code, 'invalid_url');
  assert.equal(validate(`${line('a')}\n${line('b', { url: '/v1/embeddings' })}`).problem?.code, 'invalid_url');
  assert.equal(validate(line('a', { body: { messages: [] } })).problem?.param, 'body.model');
});

test("Azure's /chat/completions line url is accepted as /v1/chat/completions", () => {
  const summary = validate(line('a', { url: '/chat/completions' }));
  assert.equal(summary.problem, null);
  assert.equal(summary.endpoint, '/v1/chat/completions');
});

test('an empty file and too many lines are rejected', () => {
  assert.equal(validate('\n\n').problem?.code, 'empty_file');
  assert.equal(validate(`${line('a')}\n${line('b')}\n${line('c')}`, 2).problem?.code, 'too_many_tasks');
});

test('a line over the length limit stops validation instead of filling memory', () => {
  const summary = validate(Buffer.alloc(5000, 'x'));
  assert.equal(summary.problem?.code, 'invalid_json_line');
  assert.equal(summary.problem?.line, 1);
});

test('a custom_id over the length bound is refused; duplicates are found by digest whatever the length', () => {
  const long = 'z'.repeat(512);
  assert.equal(validate(line(long)).problem, null);
  assert.deepEqual(validate(`${line('a')}\n${line(`${long}z`)}`).problem, {
    line: 2,
    code: 'invalid_value',
    param: 'custom_id',
    message: 'The custom_id is too long: at most 512 characters.',
  });
  assert.equal(validate(`${line(long)}\n${line('b')}\n${line(long)}`).problem?.code, 'duplicate_custom_id');
  assert.equal(validate(`${line(`${long.slice(1)}a`)}\n${line(`${long.slice(1)}b`)}`).problem, null);
});

test('a body.model over the length bound is refused, so the summary of models stays small', () => {
  const problem = validate(line('a', { body: { model: 'm'.repeat(257), messages: [] } })).problem;
  assert.equal(problem?.param, 'body.model');
  assert.equal(problem?.code, 'invalid_value');
  assert.equal(validate(line('a', { body: { model: 'm'.repeat(256), messages: [] } })).problem, null);
});

test('a line nested deeper than the limit is refused at upload, before the batch engine stringifies it', () => {
  const deep = JSON.stringify({ custom_id: 'deep', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } }).replace('"messages":[]', `"messages":${'['.repeat(200)}${']'.repeat(200)}`);
  assert.deepEqual(validate(`${line('a')}\n${deep}\n`).problem, { line: 2, code: 'invalid_json_line', param: null, message: 'This line is nested more than 128 levels deep.' });
  const fine = JSON.stringify({ custom_id: 'ok', method: 'POST', url: '/v1/chat/completions', body: { model: 'm', messages: [] } }).replace('"messages":[]', `"messages":${'['.repeat(100)}${']'.repeat(100)}`);
  assert.equal(validate(fine).problem, null);
});

test('a method or url that is an object with its own toString key is reported, not thrown (found by the fuzz suite)', () => {
  const hostile = { toString: 'x' };
  assert.equal(validate(line('a', { url: hostile })).problem?.code, 'invalid_url');
  assert.equal(validate(line('a', { method: hostile })).problem?.param, 'method');
});
