import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedactor } from '../spec/redaction.ts';
import { MAX_HELD_EVENT_BYTES, redactErrorEvents } from './sse-error-redaction.ts';

const KEY = 'plain-upstream-secret-31337';
const redact = createRedactor([KEY]);
const bytes = (text: string) => Buffer.from(text);

async function relay(chunks: readonly Uint8Array[]): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  async function* source() {
    yield* chunks;
  }
  for await (const chunk of redactErrorEvents(source(), redact)) out.push(chunk);
  return out;
}
const text = (chunks: readonly Uint8Array[]) => Buffer.concat(chunks).toString();

test('ordinary chunks ending on an event boundary are relayed as the same objects', async () => {
  const chunks = [bytes('data: {"choices":[{"delta":{"content":"a"}}]}\n\n'), bytes('data: {"x":1}\n\ndata: [DONE]\n\n')];
  const out = await relay(chunks);
  assert.equal(out.length, 2);
  assert.equal(out[0], chunks[0]);
  assert.equal(out[1], chunks[1]);
});

test('a key split across chunks inside an error event is redacted as a whole', async () => {
  const event = `data: {"error":{"message":"bad key ${KEY}","type":"server_error"}}\n\n`;
  const at = event.indexOf(KEY) + 9;
  const out = await relay([bytes('data: {"x":1}\n\ndata: {"y"'), bytes(':2}\n\n' + event.slice(0, at)), bytes(event.slice(at))]);
  for (const chunk of out) assert.ok(!Buffer.from(chunk).toString().includes(KEY.slice(0, 9)), 'a piece of the key was relayed');
  assert.equal(text(out), 'data: {"x":1}\n\ndata: {"y":2}\n\ndata: {"error":{"message":"bad key [redacted]","type":"server_error"}}\n\n');
});

test('Responses error events (event: error, response.failed) are redacted; a content chunk saying "error" is not rewritten', async () => {
  const content = `data: {"choices":[{"delta":{"content":"an error: ${KEY}"}}]}\n\n`;
  const failed = `event: response.failed\ndata: {"type":"response.failed","response":{"error":{"message":"${KEY}"}}}\n\n`;
  const error = `event: error\r\ndata: {"type":"error","message":"key ${KEY}"}\r\n\r\n`;
  const out = text(await relay([bytes(content + failed + error)]));
  assert.equal(
    out,
    content +
      'event: response.failed\ndata: {"type":"response.failed","response":{"error":{"message":"[redacted]"}}}\n\n' +
      'event: error\r\ndata: {"type":"error","message":"key [redacted]"}\r\n\r\n',
  );
});

test('an unterminated error event at the end of the stream is redacted; an oversized event is not held forever', async () => {
  assert.equal(text(await relay([bytes(`data: {"error":{"message":"${KEY}`), bytes('"}}')])), 'data: {"error":{"message":"[redacted]"}}\n\n');
  const big = bytes(`data: "${'x'.repeat(MAX_HELD_EVENT_BYTES)}`);
  const out = await relay([big, bytes('"\n\n')]);
  assert.equal(out.length, 2);
});

test('closing the wrapper closes the source, even before the first chunk', async () => {
  let closed = false;
  const source: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => ({ done: false, value: bytes('data: 1\n\n') }),
      return: async () => {
        closed = true;
        return { done: true, value: undefined };
      },
    }),
  };
  await redactErrorEvents(source, redact).return?.();
  assert.equal(closed, true);
});
