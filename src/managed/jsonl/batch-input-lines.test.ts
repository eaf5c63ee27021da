/**
 * The stored input file's lines read back as the upload's check accepted them: a file the
 * validator passes is one every reader of the input (the engine's load, provider copies, the
 * token estimate) can read, line for line.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readBatchInputLines } from './batch-input-lines.ts';
import { BatchInputValidator } from './batch-input-validator.ts';

const line = (customId: string) => JSON.stringify({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] } });

async function readAll(bytes: Buffer): Promise<string[]> {
  const ids: string[] = [];
  // Small, uneven chunks: the mark and the lines straddle chunk boundaries.
  const chunks = (async function* () {
    for (let i = 0; i < bytes.length; i += 5) yield bytes.subarray(i, i + 5);
  })();
  for await (const request of readBatchInputLines(chunks)) ids.push(request.custom_id);
  return ids;
}

function validate(bytes: Buffer) {
  const validator = new BatchInputValidator({ maxLines: 100, maxLineBytes: 4096 });
  validator.push(bytes);
  return validator.finish();
}

describe('readBatchInputLines', () => {
  it('reads a file that starts with a byte order mark, as the upload accepted it', async () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line('a')}\r\n${line('b')}\n\n`)]);
    const summary = validate(bytes);
    assert.equal(summary.problem, null);
    assert.equal(summary.lineCount, 2);
    assert.deepEqual(await readAll(bytes), ['a', 'b']);
  });

  it('keeps a byte order mark inside a value', async () => {
    const body = JSON.stringify({ custom_id: '\uFEFFa', method: 'POST', url: '/v1/chat/completions', body: { model: 'm' } });
    assert.deepEqual(await readAll(Buffer.from(`${body}\n`)), ['\uFEFFa']);
  });
});
