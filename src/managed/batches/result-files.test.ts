import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BatchOutputLine } from '../../spec/openai-objects.ts';
import { createRedactor } from '../../spec/redaction.ts';
import { LocalBlobStore } from '../../storage/blob-store.ts';
import { materialiseResults } from './result-files.ts';

const SECRET = 'provider-secret-value-1234';

async function* lines(): AsyncGenerator<BatchOutputLine> {
  // A provider's errored result (Anthropic's, an OpenAI error file line) quoting the key it got.
  yield { id: 'r1', custom_id: 'a', response: { status_code: 401, request_id: 'req', body: { error: { message: `bad key ${SECRET}`, type: 'authentication_error', param: null, code: null } } }, error: null };
  yield { id: 'r2', custom_id: 'b', response: null, error: { code: 'batch_failed', message: `failed with ${SECRET}` } };
  yield { id: 'r3', custom_id: 'c', response: { status_code: 200, request_id: 'req', body: { choices: [] } }, error: null };
}

test('result lines are written with the known secrets redacted from their error messages', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-result-files-'));
  try {
    const blobs = new LocalBlobStore(dir);
    const written = await materialiseResults(blobs, lines(), createRedactor([SECRET]));
    assert.equal(written?.lines, 3);
    let text = '';
    for await (const chunk of await blobs.get(written!.blob.key)) text += chunk.toString();
    assert.ok(!text.includes(SECRET), text);
    const parsed = text.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(parsed[0].response.body.error.message, 'bad key [redacted]');
    assert.equal(parsed[0].response.body.error.type, 'authentication_error');
    assert.equal(parsed[1].error.message, 'failed with [redacted]');
    assert.deepEqual(parsed[2].response.body, { choices: [] });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
