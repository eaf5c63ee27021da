import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { checkBatchInput, customIdOfRecord, MIN_RECORDS_PER_JOB, partInput, partRanges, recordIdOf } from './batch-input.ts';
import { mapJobStatus, toProviderBatch } from './batch-job.ts';
import { parseOutputFile } from './batch-output.ts';

function lines(count: number, body: (i: number) => Record<string, unknown> = (i) => ({ model: 'm', messages: [{ role: 'user', content: `q${i}` }], max_tokens: 5 })): () => BatchInputLine[] {
  return () => Array.from({ length: count }, (_, i) => ({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: body(i) }) as BatchInputLine);
}

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  yield Buffer.from(text);
}

async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  let out = '';
  for await (const chunk of chunks) out += Buffer.from(chunk).toString('utf8');
  return out;
}

describe('Bedrock batch jobs', () => {
  it('record ids are 11 alphanumeric characters and map back to the surrogate custom_ids', () => {
    assert.equal(recordIdOf('r0'), 'r0000000000');
    assert.equal(recordIdOf('r12345'), 'r0000012345');
    assert.equal(customIdOfRecord('r0000012345'), 'r12345');
    assert.equal(customIdOfRecord('SOMEOTHERID'), 'SOMEOTHERID');
    assert.throws(() => recordIdOf('client-id'), /surrogate/);
  });

  it('the staged JSONL holds {recordId, modelInput} with Claude\'s native body; warnings are counted by lines', async () => {
    const source = lines(MIN_RECORDS_PER_JOB, (i) => ({ model: 'm', messages: [{ role: 'user', content: `q${i}` }], max_tokens: 5, user: 'u', seed: 1 }));
    assert.deepEqual(await checkBatchInput({ endpoint: '/v1/chat/completions', lines: source }, { format: 'invoke', modifyParams: false }), { records: MIN_RECORDS_PER_JOB });
    const part = await partInput(source, { start: 0, end: MIN_RECORDS_PER_JOB }, { format: 'invoke', modifyParams: false });
    const jsonl = (await text(part.chunks())).trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(jsonl.length, MIN_RECORDS_PER_JOB);
    assert.equal(part.bytes, Buffer.byteLength(jsonl.map((line) => `${JSON.stringify(line)}\n`).join('')));
    assert.deepEqual(jsonl[3], { recordId: 'r0000000003', modelInput: { anthropic_version: 'bedrock-2023-05-31', messages: [{ role: 'user', content: [{ type: 'text', text: 'q3' }] }], max_tokens: 5 } });
    assert.deepEqual(part.warnings.map((w) => [w.param, /\(100 lines\)$/.test(w.message)]).sort(), [['seed', true], ['user', true]]);
    const middle = await partInput(source, { start: 10, end: 20 }, { format: 'invoke', modifyParams: false });
    assert.deepEqual((await text(middle.chunks())).trim().split('\n').map((line) => JSON.parse(line).recordId), Array.from({ length: 10 }, (_, i) => recordIdOf(`r${10 + i}`)));
  });

  it('a Converse job\'s records hold Converse requests, and its output lines Converse responses', async () => {
    const source = lines(MIN_RECORDS_PER_JOB, (i) => ({ model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: `q${i}` }], max_tokens: 5 }));
    const part = await partInput(source, { start: 0, end: 2 }, { format: 'converse', modifyParams: false });
    const jsonl = (await text(part.chunks())).trim().split('\n').map((line) => JSON.parse(line));
    assert.deepEqual(jsonl[1], { recordId: 'r0000000001', modelInput: { messages: [{ role: 'user', content: [{ text: 'q1' }] }], system: [{ text: 'Be brief.' }], inferenceConfig: { maxTokens: 5 } } });
    const results = [];
    const out = { recordId: 'r0000000001', modelInput: jsonl[1].modelInput, modelOutput: { output: { message: { role: 'assistant', content: [{ text: 'q1' }] } }, stopReason: 'max_tokens', usage: { inputTokens: 4, outputTokens: 1, totalTokens: 5 } } };
    for await (const result of parseOutputFile(bytes(JSON.stringify(out)), { created: 7, model: 'amazon.nova-pro-v1:0', jobId: 'job1' })) results.push(result);
    const body = (results[0].outcome as { body: { choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { total_tokens: number } } }).body;
    assert.equal(body.choices[0].message.content, 'q1');
    assert.equal(body.choices[0].finish_reason, 'length');
    assert.equal(body.usage.total_tokens, 5);
  });

  it('jobs are cut evenly under 50,000 records, so that none falls under the minimum of 100', () => {
    assert.deepEqual(partRanges(100), [{ start: 0, end: 100 }]);
    assert.deepEqual(partRanges(50_000), [{ start: 0, end: 50_000 }]);
    assert.deepEqual(partRanges(50_001), [{ start: 0, end: 25_000 }, { start: 25_000, end: 50_001 }]);
    const many = partRanges(123_456);
    assert.equal(many.length, 3);
    assert.equal(many.at(-1)!.end, 123_456);
    assert.ok(many.every((range, i) => range.end - range.start <= 50_000 && range.end - range.start >= MIN_RECORDS_PER_JOB && (i === 0 || range.start === many[i - 1].end)));
  });

  it('below 100 records, another endpoint, or a line with another url are refused', async () => {
    await assert.rejects(checkBatchInput({ endpoint: '/v1/chat/completions', lines: lines(99) }, { format: 'invoke', modifyParams: false }), /at least 100 records/);
    await assert.rejects(checkBatchInput({ endpoint: '/v1/embeddings', lines: lines(100) }, { format: 'invoke', modifyParams: false }), /only \/v1\/chat\/completions/);
    await assert.rejects(checkBatchInput({ endpoint: '/v1/chat/completions', lines: lines(100, (i) => ({ messages: [{ role: 'user', content: 'x' }], n: i === 50 ? 2 : 1 })) }, { format: 'invoke', modifyParams: false }), /^InvalidRequestError: Line 51: /);
  });

  it('job statuses map to OpenAI batch states', () => {
    const table: [string, string][] = [
      ['Submitted', 'validating'],
      ['Validating', 'validating'],
      ['Scheduled', 'validating'],
      ['InProgress', 'in_progress'],
      ['Stopping', 'cancelling'],
      ['Stopped', 'cancelled'],
      ['Completed', 'completed'],
      ['PartiallyCompleted', 'completed'],
      ['Failed', 'failed'],
      ['Expired', 'expired'],
      ['SomethingNew', 'in_progress'],
    ];
    for (const [status, mapped] of table) assert.equal(mapJobStatus(status), mapped, status);
  });

  it('a job becomes a ProviderBatch: its id, times, counts, and a failed job\'s message', () => {
    const batch = toProviderBatch({
      jobArn: 'arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abcdefgh1234',
      status: 'Failed',
      message: 'bad input',
      submitTime: '2026-01-01T00:00:00Z',
      endTime: '2026-01-01T01:00:00Z',
      jobExpirationTime: '2026-01-02T00:00:00Z',
      totalRecordCount: 100,
      successRecordCount: 0,
      errorRecordCount: 0,
    });
    assert.equal(batch.id, 'abcdefgh1234');
    assert.equal(batch.status, 'failed');
    assert.equal(batch.createdAt, Date.UTC(2026, 0, 1) / 1000);
    assert.equal(batch.failedAt, Date.UTC(2026, 0, 1, 1) / 1000);
    assert.equal(batch.expiresAt, Date.UTC(2026, 0, 2) / 1000);
    assert.deepEqual(batch.requestCounts, { total: 100, completed: 0, failed: 0 });
    assert.equal(batch.errors?.[0].message, 'bad input');
  });

  it('.jsonl.out lines: a modelOutput becomes a chat.completion, an error an http_error in OpenAI\'s envelope', async () => {
    const out = [
      { recordId: 'r0000000000', modelInput: {}, modelOutput: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude', content: [{ type: 'text', text: 'hello' }], stop_reason: 'end_turn', usage: { input_tokens: 3, output_tokens: 1 } } },
      { recordId: 'r0000000001', modelInput: {}, error: { errorCode: 400, errorMessage: 'Malformed input request' } },
      { recordId: 'r0000000002', modelInput: {}, error: { errorCode: 429, errorMessage: 'Too many tokens' } },
    ];
    const results = [];
    for await (const result of parseOutputFile(bytes(out.map((line) => JSON.stringify(line)).join('\n')), { created: 7, model: 'claude', jobId: 'job1' })) results.push(result);
    assert.deepEqual(results.map((r) => [r.customId, r.outcome.type, 'statusCode' in r.outcome ? r.outcome.statusCode : null]), [
      ['r0', 'succeeded', 200],
      ['r1', 'http_error', 400],
      ['r2', 'http_error', 429],
    ]);
    const first = results[0].outcome as { body: { object: string; choices: Array<{ message: { content: string } }>; usage: { prompt_tokens: number } } };
    assert.equal(first.body.object, 'chat.completion');
    assert.equal(first.body.choices[0].message.content, 'hello');
    assert.equal(first.body.usage.prompt_tokens, 3);
    assert.deepEqual((results[1].outcome as { body: unknown }).body, { error: { message: 'Malformed input request', type: 'invalid_request_error', param: null, code: 'invalid_request' } });
  });
});
