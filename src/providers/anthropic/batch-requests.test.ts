import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidRequestError, PayloadTooLargeError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { buildBatchRequestsBody } from './batch-requests.ts';

const translation = { model: 'claude-3-5-haiku-20241022', defaultMaxTokens: 1024 };

function line(customId: string, body: Record<string, unknown> = {}): BatchInputLine {
  return {
    custom_id: customId,
    method: 'POST',
    url: '/v1/chat/completions',
    body: { model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: `hello ${customId}` }], ...body },
  };
}

function build(lines: BatchInputLine[], endpoint = '/v1/chat/completions', limits?: { maxRequests: number; maxBytes: number }) {
  return buildBatchRequestsBody({ endpoint, lines: () => lines }, translation, limits);
}

async function textOf(chunks: AsyncIterable<string>): Promise<string> {
  let text = '';
  for await (const chunk of chunks) text += chunk;
  return text;
}

test('lines become Anthropic batch requests with their custom_id and translated params', async () => {
  const body = await build([line('r0', { max_tokens: 50, temperature: 1.5 }), line('r1')]);
  const text = await textOf(body.chunks());
  assert.equal(await textOf(body.chunks()), text, 'the body can be produced again (a retried create)');
  assert.equal(Buffer.byteLength(text), body.bytes);
  assert.deepEqual(JSON.parse(text), {
    requests: [
      {
        custom_id: 'r0',
        params: { model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello r0' }] }], max_tokens: 50, temperature: 1 },
      },
      {
        custom_id: 'r1',
        params: { model: 'claude-3-5-haiku-20241022', messages: [{ role: 'user', content: [{ type: 'text', text: 'hello r1' }] }], max_tokens: 1024 },
      },
    ],
  });
  assert.deepEqual(body.warnings.map((warning) => warning.param), ['temperature']);
});

test('a warning repeated on many lines is reported once with the number of lines', async () => {
  const body = await build([line('a', { seed: 1 }), line('b', { seed: 1 }), line('c', { seed: 1 })]);
  assert.equal(body.warnings.length, 1);
  assert.match(body.warnings[0].message, /\(3 lines\)$/);
});

test('only chat completions batches are accepted', async () => {
  await assert.rejects(() => build([line('a')], '/v1/embeddings'), (error: unknown) => error instanceof InvalidRequestError && error.param === 'endpoint');
});

test('a custom_id that is not Anthropic-safe, or used twice, is refused naming the line', async () => {
  await assert.rejects(() => build([line('ok'), line('not safe!')]), /Line 2: custom_id 'not safe!'/);
  await assert.rejects(() => build([line('x'.repeat(65))]), /not Anthropic-safe/);
  await assert.rejects(() => build([line('a'), line('b'), line('a')]), /Line 3: custom_id 'a' is used twice/);
});

test('a streaming line or an untranslatable line is refused with its line number', async () => {
  await assert.rejects(() => build([line('a', { stream: true })]), /Line 1: streaming/);
  await assert.rejects(
    () => build([line('a'), line('b', { n: 3 })]),
    (error: unknown) => error instanceof InvalidRequestError && /^Line 2: /.test(error.message) && error.param === 'body.n',
  );
});

test('more requests than the limit, or more bytes, are refused so the caller splits', async () => {
  await assert.rejects(() => build([line('a'), line('b'), line('c')], undefined, { maxRequests: 2, maxBytes: 1 << 20 }), /at most 2 requests/);
  await assert.rejects(() => build([line('a'), line('b', { messages: [{ role: 'user', content: 'x'.repeat(500) }] })], undefined, { maxRequests: 10, maxBytes: 400 }), PayloadTooLargeError);
});
