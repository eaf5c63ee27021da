import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../spec/errors.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { stageBatchRequests } from './batch-requests.ts';

const line = (id: string, text: string, extra: Record<string, unknown> = {}): BatchInputLine => ({
  custom_id: id,
  method: 'POST',
  url: '/v1/chat/completions',
  body: { model: 'gemini-2.5-flash', messages: [{ role: 'user', content: text }], ...extra },
});

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += chunk;
  return out;
}

describe('staging a batch for Gemini', () => {
  it('small batches go inline: one create body whose size is announced exactly, keys from custom_id', async () => {
    const lines = [line('r0', 'a'), line('r1', 'b', { logit_bias: { 1: 1 } }), line('r2', 'c', { logit_bias: { 1: 1 } })];
    const staged = await stageBatchRequests({ endpoint: '/v1/chat/completions', lines: () => lines, displayName: 'd' }, { inlineMaxBytes: 20 * 1024 * 1024 });
    assert.equal(staged.mode, 'inline');
    const body = await text(staged.chunks());
    assert.equal(Buffer.byteLength(body), staged.bytes);
    const parsed = JSON.parse(body) as { batch: { displayName: string; inputConfig: { requests: { requests: Array<{ request: { contents: unknown[] }; metadata: { key: string } }> } } } };
    assert.equal(parsed.batch.displayName, 'd');
    assert.deepEqual(parsed.batch.inputConfig.requests.requests.map((r) => r.metadata.key), ['r0', 'r1', 'r2']);
    assert.deepEqual(parsed.batch.inputConfig.requests.requests[0].request.contents, [{ role: 'user', parts: [{ text: 'a' }] }]);
    assert.deepEqual(staged.warnings, [{ param: 'logit_bias', message: "'logit_bias' is not supported by Gemini and was dropped. (2 lines)" }]);
  });

  it('over the inline limit, the requests become a JSONL file of {key, request}', async () => {
    const lines = [line('r0', 'a'), line('r1', 'b')];
    const staged = await stageBatchRequests({ endpoint: '/v1/chat/completions', lines: () => lines, displayName: 'd' }, { inlineMaxBytes: 10 });
    assert.equal(staged.mode, 'file');
    const body = await text(staged.chunks());
    assert.equal(Buffer.byteLength(body), staged.bytes);
    assert.deepEqual(body.trim().split('\n').map((l) => (JSON.parse(l) as { key: string }).key), ['r0', 'r1']);
  });

  it('refuses what Gemini batches cannot run, naming the line', async () => {
    const stage = (lines: BatchInputLine[], endpoint = '/v1/chat/completions') => stageBatchRequests({ endpoint, lines: () => lines, displayName: 'd' }, { inlineMaxBytes: 1e6 });
    await assert.rejects(stage([line('r0', 'a')], '/v1/embeddings'), (e: unknown) => e instanceof InvalidRequestError && e.param === 'endpoint');
    await assert.rejects(stage([line('r0', 'a'), line('r0', 'b')]), (e: unknown) => e instanceof InvalidRequestError && e.code === 'duplicate_custom_id');
    await assert.rejects(stage([line('r0', 'a', { temperature: 9 })]), (e: unknown) => e instanceof InvalidRequestError && e.param === 'body.temperature' && /^Line 1:/.test(e.message));
    await assert.rejects(stage([]), InvalidRequestError);
  });
});
