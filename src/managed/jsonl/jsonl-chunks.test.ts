import assert from 'node:assert/strict';
import { test } from 'node:test';
import { packLines } from './jsonl-chunks.ts';

async function pack(lines: string[], chunkBytes: number): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of packLines(lines, chunkBytes)) chunks.push(Buffer.from(chunk));
  return chunks;
}

test('lines are packed into full chunks, the last one partial, with the bytes of the lines in order', async () => {
  const lines = Array.from({ length: 50 }, (_, i) => `{"line":${i},"text":"${'ä€😀'.repeat(i % 7)}"}\n`);
  for (const size of [4, 5, 16, 64, 1000]) {
    const chunks = await pack(lines, size);
    assert.deepEqual(Buffer.concat(chunks), Buffer.from(lines.join('')), `chunks of ${size}`);
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.length === size), `every chunk but the last is full (${size})`);
    assert.ok(chunks.at(-1)!.length > 0 && chunks.at(-1)!.length <= size);
  }
});

test('a line longer than a chunk is cut across chunks; lines that fill a chunk exactly leave no empty chunk', async () => {
  const long = `${'x'.repeat(25)}\n`;
  assert.deepEqual((await pack([long], 8)).map((chunk) => chunk.toString()), ['xxxxxxxx', 'xxxxxxxx', 'xxxxxxxx', 'x\n']);
  assert.deepEqual((await pack(['abc\n', 'def\n'], 8)).map((chunk) => chunk.toString()), ['abc\ndef\n']);
  assert.deepEqual(await pack([], 8), []);
  assert.deepEqual(await pack(['', ''], 8), []);
});
