import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { UpstreamStream } from './provider.ts';
import { dataOf, readStreamEvents, type StreamEventReader } from './stream-event-tap.ts';

const encoder = new TextEncoder();

function streamOf(pieces: string[] | Uint8Array[]): UpstreamStream {
  const chunks = pieces.map((piece) => (typeof piece === 'string' ? encoder.encode(piece) : piece));
  return {
    status: 200,
    body: {
      async *[Symbol.asyncIterator]() {
        for (const chunk of chunks) yield chunk;
      },
    },
  };
}

/** A reader that keeps what it was told. */
function recorder(): StreamEventReader & { data: string[]; parsed: unknown[]; ends: boolean[] } {
  const seen = { data: [] as string[], parsed: [] as unknown[], ends: [] as boolean[] };
  return {
    ...seen,
    event(data, json) {
      seen.data.push(data);
      seen.parsed.push(json());
    },
    end(completed) {
      seen.ends.push(completed);
    },
  };
}

async function relay(stream: UpstreamStream): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const chunk of stream.body) parts.push(chunk);
  return Buffer.concat(parts);
}

describe('reading a relayed stream\'s events once for every meter', () => {
  it('passes the bytes through unchanged and reads events split across chunks, multi-byte characters included', async () => {
    const text = 'data: {"a":"é€"}\n\n' + 'event: x\ndata: {"b":\ndata: 2}\n\n' + ': comment\n\n' + 'data: [DONE]\n\n';
    const bytes = encoder.encode(text);
    // Cut inside the two-byte é, inside the three-byte €, and between the blank line's two newlines.
    const cuts = [12, 15, 19, 40];
    const pieces: Uint8Array[] = [];
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      pieces.push(bytes.subarray(from, cut));
      from = cut;
    }
    const stream = streamOf(pieces);
    const reader = recorder();
    readStreamEvents(stream, reader);
    assert.equal((await relay(stream)).toString('utf8'), text);
    assert.deepEqual(reader.data, ['{"a":"é€"}', '{"b":\n2}']);
    assert.deepEqual(reader.parsed, [{ a: 'é€' }, { b: 2 }]);
    assert.deepEqual(reader.ends, [true]);
  });

  it('a second meter joins the first one\'s reading: one wrapper, each event parsed once for both', async () => {
    const stream = streamOf(['data: {"n":1}\n\ndata: not json\n\n']);
    const first = recorder();
    readStreamEvents(stream, first);
    const wrapped = stream.body;
    const second = recorder();
    readStreamEvents(stream, second);
    assert.equal(stream.body, wrapped, 'the second reader does not wrap the body again');
    await relay(stream);
    assert.equal(first.parsed[0], second.parsed[0], 'the same parsed value, not a second parse');
    assert.deepEqual(second.parsed, [{ n: 1 }, undefined]);
    assert.deepEqual([first.ends, second.ends], [[true], [true]]);
  });

  it('a stream abandoned by its client ends every reader once, not completed', async () => {
    const stream = streamOf(['data: {"n":1}\n\n', 'data: {"n":2}\n\n']);
    const reader = recorder();
    readStreamEvents(stream, reader);
    for await (const _ of stream.body) break;
    assert.deepEqual(reader.ends, [false]);
    assert.deepEqual(reader.data, ['{"n":1}']);
  });

  it('reads an event\'s data lines as the SSE specification joins them', () => {
    assert.equal(dataOf('data: {"a":1}'), '{"a":1}');
    assert.equal(dataOf('data:{"a":1}'), '{"a":1}');
    assert.equal(dataOf('event: response.completed\ndata: {"a":1}'), '{"a":1}');
    assert.equal(dataOf('data: one\ndata: two'), 'one\ntwo');
    assert.equal(dataOf('data: [DONE]'), undefined);
    assert.equal(dataOf('data: '), undefined);
    assert.equal(dataOf(': keep-alive'), undefined);
  });
});
