import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSseEvent, firstDataPayload, peekFirstEvent, replayThenRest, sseEvents } from './sse.ts';

const encoder = new TextEncoder();

async function* pieces(...parts: string[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield encoder.encode(part);
}

async function collect<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of source) out.push(item);
  return out;
}

describe('server-sent events', () => {
  it('splits events that span chunks and chunks that hold several events', async () => {
    const events = await collect(sseEvents(pieces('data: {"a"', ':1}\n\ndata: two\r\n\r\n: comment\nevent: done\ndata: x\ndata: y\n\n', 'data: [DONE]\n\n')));
    assert.deepEqual(events, [{ event: undefined, data: '{"a":1}' }, { event: undefined, data: 'two' }, { event: 'done', data: 'x\ny' }, { event: undefined, data: '[DONE]' }]);
  });

  it('decodes multi-byte characters split across chunks', async () => {
    const bytes = encoder.encode('data: héllo\n\n');
    async function* split() {
      yield bytes.slice(0, 8);
      yield bytes.slice(8);
    }
    assert.deepEqual(await collect(sseEvents(split())), [{ event: undefined, data: 'héllo' }]);
  });

  it('encodes an event with an optional name', () => {
    assert.equal(new TextDecoder().decode(encodeSseEvent({ a: 1 })), 'data: {"a":1}\n\n');
    assert.equal(new TextDecoder().decode(encodeSseEvent({ a: 1 }, 'x')), 'event: x\ndata: {"a":1}\n\n');
  });

  it('peeks the first event and replays every byte untouched', async () => {
    const source = pieces('data: {"error":', '{"message":"m"}}\n\ndata: rest\n\n');
    const iterator = source[Symbol.asyncIterator]();
    const peeked = await peekFirstEvent(iterator);
    assert.equal(firstDataPayload(peeked.firstEventText ?? ''), '{"error":{"message":"m"}}');
    const replayed = (await collect(replayThenRest(peeked.buffered, iterator))).map((b) => new TextDecoder().decode(b)).join('');
    assert.equal(replayed, 'data: {"error":{"message":"m"}}\n\ndata: rest\n\n');
  });
});
