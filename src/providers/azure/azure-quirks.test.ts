/** Azure's wire quirks, each pinned with a fixture captured from the reference specs (fixtures/SOURCE.md). */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAzureError } from './azure-errors.ts';
import { azureBatchEndpoint, mapAzureFileStatus, normalizeAzureBatch, normalizeAzureFile } from './azure-objects.ts';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
}

describe('Azure OpenAI quirks', () => {
  it('a pending upload maps to OpenAI "uploaded", keeps the raw status and takes bytes from the upload', () => {
    const file = normalizeAzureFile(fixture('upload-file-pending.json'), { bytes: 140, filename: 'puppy.jsonl', purpose: 'fine-tune' });
    assert.equal(file.status, 'uploaded');
    assert.equal(file.rawStatus, 'pending');
    assert.equal(file.bytes, 140);
    assert.equal(file.id, 'file-181a1cbdcdcf4677ada87f63a0928099');
  });

  it("maps every Azure file state into OpenAI's enum", () => {
    assert.deepEqual(
      ['pending', 'running', 'uploaded', 'processed', 'error', 'deleting', 'deleted'].map(mapAzureFileStatus),
      ['uploaded', 'uploaded', 'uploaded', 'processed', 'error', 'error', 'error'],
    );
  });

  it('normalises the "" file ids of a batch create answer to null', () => {
    const batch = normalizeAzureBatch(fixture('batch-create-empty-ids.json'));
    assert.equal(batch.status, 'validating');
    assert.equal(batch.outputFileId, null);
    assert.equal(batch.errorFileId, null);
    assert.deepEqual(batch.requestCounts, { total: 0, completed: 0, failed: 0 });
  });

  it('keeps both file ids of a completed batch, and the cancelling state of a cancel answer', () => {
    const done = normalizeAzureBatch(fixture('batch-completed.json'));
    assert.equal(done.status, 'completed');
    assert.equal(done.outputFileId, 'file-f2ddaf43-b48b-46dd-b264-90da10c7a85b');
    assert.equal(done.errorFileId, 'file-c3b563b0-ebc7-47da-93e3-a2fa694aef0c');
    assert.equal(done.completedAt, 1646126136);
    assert.deepEqual(done.requestCounts, { total: 500, completed: 400, failed: 100 });
    const cancelling = normalizeAzureBatch(fixture('batch-cancelling.json'));
    assert.equal(cancelling.status, 'cancelling');
    assert.equal(cancelling.cancellingAt, 1646126138);
  });

  it('reads old-preview batches: capitalised status, ISO timestamps, null counts, a single error object', () => {
    const batch = normalizeAzureBatch({
      id: 'batch_x',
      status: 'Failed',
      created_at: '2024-07-19T17:13:57.2491382+00:00',
      failed_at: '',
      request_counts: { total: null, completed: null, failed: null },
      errors: { object: 'list', data: { code: 'empty_file', message: 'The input file is empty.', line: '3' } },
    });
    assert.equal(batch.status, 'failed');
    assert.equal(batch.rawStatus, 'failed');
    assert.equal(batch.createdAt, Math.floor(Date.parse('2024-07-19T17:13:57.249Z') / 1000));
    assert.equal(batch.failedAt, null);
    assert.deepEqual(batch.requestCounts, { total: 0, completed: 0, failed: 0 });
    assert.deepEqual(batch.errors, [{ code: 'empty_file', message: 'The input file is empty.', param: null, line: 3 }]);
  });

  it("maps OpenAI's batch endpoint to Azure's, without /v1", () => {
    assert.equal(azureBatchEndpoint('/v1/chat/completions'), '/chat/completions');
    assert.equal(azureBatchEndpoint('/v1/responses'), '/responses');
    assert.equal(azureBatchEndpoint('/chat/completions'), '/chat/completions');
  });

  it("translates Azure's error envelopes into OpenAI's", () => {
    const envelopes = fixture('error-envelopes.json') as Record<string, { status: number; body: unknown }>;
    const parse = (name: string) => parseAzureError(envelopes[name].status, JSON.stringify(envelopes[name].body));
    assert.deepEqual(parse('classic'), { message: 'File not found.', type: 'invalid_request_error', param: 'file_id', code: null });
    assert.deepEqual(parse('gateway'), { message: 'Resource not found', type: 'invalid_request_error', param: null, code: null });
    assert.deepEqual(parse('statusCode'), { message: 'Resource not found', type: 'invalid_request_error', param: null, code: null });
    const rateLimit = parse('rateLimit');
    assert.equal(rateLimit.type, 'rate_limit_error');
    assert.equal(rateLimit.code, 'rate_limit_exceeded');
    assert.match(rateLimit.message, /exceeded token rate limit/);
    assert.deepEqual(parse('v1'), { message: "Invalid value: 'x'.", type: 'invalid_request_error', param: 'endpoint', code: 'invalid_value' });
    assert.deepEqual(parseAzureError(502, '<html>Bad Gateway</html>'), {
      message: 'Azure OpenAI answered HTTP 502.',
      type: 'server_error',
      param: null,
      code: null,
    });
  });
});

describe('Azure failures that pick a fallback variant', () => {
  it("a content-filter refusal keeps OpenAI's content_filter code; a context-length error is context_length_exceeded", () => {
    const filtered = parseAzureError(
      400,
      JSON.stringify({
        error: {
          message: "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.",
          type: null,
          param: 'prompt',
          code: 'content_filter',
          status: 400,
          innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: { hate: { filtered: true, severity: 'high' } } },
        },
      }),
    );
    assert.equal(filtered.code, 'content_filter');
    const tooLong = parseAzureError(
      400,
      JSON.stringify({ error: { message: "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.", type: 'invalid_request_error', param: 'messages', code: null } }),
    );
    assert.equal(tooLong.code, 'context_length_exceeded');
  });
});
