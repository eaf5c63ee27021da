import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { UpstreamConnectionError, UpstreamError } from '../../spec/errors.ts';
import { translateConverseStream } from './converse-stream.ts';
import { decodeEventStream } from './event-stream.ts';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(kind: 'event' | 'exception', type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':message-type': { type: 'string', value: kind },
      [kind === 'event' ? ':event-type' : ':exception-type']: { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

/** The frames' bytes in chunks of `size` (a chunk ends mid-message, or holds several). */
async function* chunked(frames: Uint8Array[], size: number): AsyncGenerator<Uint8Array> {
  const all = Buffer.concat(frames);
  for (let at = 0; at < all.length; at += size) yield all.subarray(at, at + size);
}

async function sse(body: AsyncIterable<Uint8Array>): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const bytes of translateConverseStream(decodeEventStream(body), { id: 'chatcmpl-s', created: 1, model: 'm', includeUsage: true })) {
    for (const line of new TextDecoder().decode(bytes).split('\n\n')) {
      if (line.startsWith('data: ')) out.push(line === 'data: [DONE]' ? '[DONE]' : JSON.parse(line.slice(6)));
    }
  }
  return out;
}

const TEXT_AND_TOOL = [
  frame('event', 'messageStart', { role: 'assistant', p: 'abc' }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'Hi ' } }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 0, delta: { text: 'there' } }),
  frame('event', 'contentBlockStop', { contentBlockIndex: 0 }),
  frame('event', 'contentBlockStart', { contentBlockIndex: 1, start: { toolUse: { toolUseId: 'tu1', name: 'f' } } }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"a":' } } }),
  frame('event', 'contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '1}' } } }),
  frame('event', 'contentBlockStop', { contentBlockIndex: 1 }),
  frame('event', 'messageStop', { stopReason: 'tool_use' }),
  frame('event', 'metadata', { usage: { inputTokens: 4, outputTokens: 6, cacheReadInputTokens: 2 }, metrics: { latencyMs: 9 } }),
];

describe('ConverseStream (event-stream frames) -> chat.completion.chunk events', () => {
  for (const size of [1, 7, 1 << 20]) {
    it(`decodes whatever the chunking (${size}-byte chunks): role, text, a tool call, finish, usage, [DONE]`, async () => {
      const events = (await sse(chunked(TEXT_AND_TOOL, size))) as Array<Record<string, any>>;
      assert.equal(events.at(-1), '[DONE]');
      assert.deepEqual(events[0].choices[0].delta, { role: 'assistant', content: '' });
      assert.equal(events.slice(1, 3).map((e) => e.choices[0].delta.content).join(''), 'Hi there');
      assert.deepEqual(events[3].choices[0].delta.tool_calls, [{ index: 0, id: 'tu1', type: 'function', function: { name: 'f', arguments: '' } }]);
      assert.equal(events.slice(4, 6).map((e) => e.choices[0].delta.tool_calls[0].function.arguments).join(''), '{"a":1}');
      assert.equal(events[6].choices[0].finish_reason, 'tool_calls');
      assert.deepEqual(events[7].usage, { prompt_tokens: 6, completion_tokens: 6, total_tokens: 12, prompt_tokens_details: { cached_tokens: 2 } });
      assert.deepEqual(events[7].choices, []);
    });
  }

  it('an exception message mid-stream becomes the error it names (throttlingException -> 429)', async () => {
    const frames = [frame('event', 'messageStart', { role: 'assistant' }), frame('exception', 'throttlingException', { message: 'slow down' })];
    await assert.rejects(sse(chunked(frames, 5)), (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.equal(error.httpStatus, 429);
      assert.equal(error.message, 'slow down');
      return true;
    });
  });

  it('a stream cut in the middle of a message, one that ends before messageStop, and a corrupted frame are connection errors', async () => {
    const whole = Buffer.concat(TEXT_AND_TOOL.slice(0, 3));
    await assert.rejects(sse(chunked([whole.subarray(0, whole.length - 3)], 64)), /ended in the middle of a message/);
    await assert.rejects(sse(chunked(TEXT_AND_TOOL.slice(0, 3), 64)), (error: unknown) => error instanceof UpstreamConnectionError && /before messageStop/.test(error.message));
    const corrupted = Buffer.from(TEXT_AND_TOOL[1]);
    corrupted[corrupted.length - 6] ^= 0xff;
    await assert.rejects(sse(chunked([TEXT_AND_TOOL[0], corrupted], 64)), /event stream is malformed/);
  });

  it('a stream that ends after messageStop without metadata still finishes (no usage counted)', async () => {
    const events = (await sse(chunked([...TEXT_AND_TOOL.slice(0, 4), frame('event', 'messageStop', { stopReason: 'max_tokens' })], 64))) as Array<Record<string, any> | string>;
    assert.equal(events.at(-1), '[DONE]');
    const finished = events.find((e): e is Record<string, any> => typeof e !== 'string' && Boolean(e.choices[0]?.finish_reason));
    assert.equal(finished?.choices[0].finish_reason, 'length');
  });
});
