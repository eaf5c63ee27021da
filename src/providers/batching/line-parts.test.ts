import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { cutIntoParts, jsonSizeOf, linesOfRange } from './line-parts.ts';

const line = (i: number, text = 'hi'): BatchInputLine => ({ custom_id: `r${i}`, method: 'POST', url: '/v1/chat/completions', body: { messages: [{ role: 'user', content: text }] } });

describe('line parts', () => {
  it('cuts by request count and by bytes, in one pass', async () => {
    let reads = 0;
    const seven = () => {
      reads += 1;
      return Array.from({ length: 7 }, (_, i) => line(i, 'x'.repeat(100)));
    };
    assert.deepEqual(await cutIntoParts(seven, { maxRequests: 3, maxBytes: 1e9 }), [
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 7 },
    ]);
    const size = jsonSizeOf(line(0, 'x'.repeat(100)));
    assert.deepEqual(await cutIntoParts(seven, { maxRequests: 100, maxBytes: size * 2 }), [
      { start: 0, end: 2 },
      { start: 2, end: 4 },
      { start: 4, end: 6 },
      { start: 6, end: 7 },
    ]);
    assert.equal(reads, 2);
    // A line alone over the byte budget still gets a part: the provider refuses it with its own message.
    assert.deepEqual(await cutIntoParts(() => [line(0, 'x'.repeat(500))], { maxRequests: 10, maxBytes: 10 }), [{ start: 0, end: 1 }]);
  });

  it('reads one range of the lines back', async () => {
    const out: string[] = [];
    for await (const each of linesOfRange(() => Array.from({ length: 7 }, (_, i) => line(i)), { start: 2, end: 5 })()) out.push(each.custom_id);
    assert.deepEqual(out, ['r2', 'r3', 'r4']);
  });
});
