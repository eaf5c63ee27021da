import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamError } from '../../spec/errors.ts';
import type { InlineBatchResult } from '../../spec/provider.ts';
import { parseBatchResults } from './batch-results.ts';
import { chunked, fixtureText } from './fixtures/load.ts';

const options = { created: 1_727_205_125, fallbackModel: 'claude-fallback' };

async function results(text: string, chunkSize = 13): Promise<InlineBatchResult[]> {
  const out: InlineBatchResult[] = [];
  for await (const result of parseBatchResults(chunked(text, chunkSize), options)) out.push(result);
  return out;
}

test('each result type of the JSONL becomes its outcome, keyed by the custom_id sent', async () => {
  const [succeeded, errored, canceled, expired] = await results(fixtureText('batch-results.jsonl'));
  assert.equal(succeeded.customId, 'my-second-request');
  assert.equal(succeeded.outcome.type, 'succeeded');
  if (succeeded.outcome.type === 'succeeded') {
    assert.equal(succeeded.outcome.statusCode, 200);
    assert.equal(succeeded.outcome.requestId, 'msg_014VwiXbi91y3JMjcpyGBHX5');
    const body = succeeded.outcome.body as Record<string, any>;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.created, options.created);
    assert.match(body.choices[0].message.content, /^Hello again!/);
    assert.deepEqual(body.usage, { prompt_tokens: 11, completion_tokens: 36, total_tokens: 47, prompt_tokens_details: { cached_tokens: 0 } });
  }
  assert.deepEqual(errored, {
    customId: 'my-first-request',
    outcome: {
      type: 'http_error',
      statusCode: 400,
      requestId: 'req_011CTxaBw4oHvWiYq5Zk',
      body: { error: { message: 'max_tokens: Field required', type: 'invalid_request_error', param: null, code: 'invalid_request_error' } },
    },
  });
  assert.deepEqual(canceled, { customId: 'r3', outcome: { type: 'cancelled' } });
  assert.deepEqual(expired, { customId: 'r4', outcome: { type: 'expired' } });
});

test('results split across arbitrary chunk borders, with CRLF and blank lines, parse the same', async () => {
  const text = fixtureText('batch-results.jsonl');
  const expected = await results(text, 1 << 20);
  assert.deepEqual(await results(text.replaceAll('\n', '\r\n') + '\r\n\r\n', 1), expected);
  assert.deepEqual(await results(text, 5), expected);
});

test('a line that is not JSON fails the results instead of being skipped', async () => {
  await assert.rejects(results('{"custom_id":"a","result":{"type":"expired"}}\n{oops\n'), UpstreamError);
});
