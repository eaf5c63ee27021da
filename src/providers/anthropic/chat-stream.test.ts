import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamConnectionError, UpstreamError } from '../../spec/errors.ts';
import { DONE_FRAME } from '../../spec/chat-chunks.ts';
import { ChatStreamTranslator, parseAnthropicStreamEvents, translateAnthropicStream } from './chat-stream.ts';
import { chunked, fixtureText } from './fixtures/load.ts';
import type { AnthropicStreamEvent } from './wire-types.ts';

const options = { created: 1_700_000_000, fallbackModel: 'claude-fallback', includeUsage: false };

async function collect(source: AsyncIterable<Uint8Array>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of source) text += decoder.decode(chunk, { stream: true });
  return text;
}

function dataOf(sse: string): unknown[] {
  return sse
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

test('a streamed text message becomes role, content and finish chunks, then [DONE]', async () => {
  const out = await collect(translateAnthropicStream(parseAnthropicStreamEvents(chunked(fixtureText('stream-text.sse'), 7)), options));
  const frames = dataOf(out) as Record<string, any>[];
  assert.equal(frames.at(-1), '[DONE]');
  assert.ok(out.endsWith(DONE_FRAME));
  const chunks = frames.slice(0, -1);
  for (const chunk of chunks) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, 'msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY');
    assert.equal(chunk.model, 'claude-3-5-sonnet-20241022');
    assert.equal('usage' in chunk, false);
  }
  assert.deepEqual(
    chunks.map((chunk) => [chunk.choices[0].delta, chunk.choices[0].finish_reason]),
    [
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'Hello' }, null],
      [{ content: '!' }, null],
      [{}, 'stop'],
    ],
  );
});

test('a streamed tool call becomes tool_calls deltas whose arguments join into the full JSON', async () => {
  const out = await collect(translateAnthropicStream(parseAnthropicStreamEvents(chunked(fixtureText('stream-tool-use.sse'), 64)), options));
  const chunks = (dataOf(out) as Record<string, any>[]).slice(0, -1);
  const deltas = chunks.map((chunk) => chunk.choices[0].delta);
  const text = deltas.map((delta) => delta.content ?? '').join('');
  assert.equal(text, "Okay, let's check the weather.");
  const toolDeltas = deltas.flatMap((delta) => delta.tool_calls ?? []);
  assert.deepEqual(toolDeltas[0], { index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } });
  assert.ok(toolDeltas.every((delta) => delta.index === 0));
  const args = toolDeltas.map((delta) => delta.function.arguments).join('');
  assert.deepEqual(JSON.parse(args), { location: 'San Francisco, CA', unit: 'fahrenheit' });
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'tool_calls');
});

test('with include_usage every chunk carries usage null and a last chunk carries the totals', async () => {
  const out = await collect(
    translateAnthropicStream(parseAnthropicStreamEvents(chunked(fixtureText('stream-text.sse'), 1000)), { ...options, includeUsage: true }),
  );
  const chunks = (dataOf(out) as Record<string, any>[]).slice(0, -1);
  const last = chunks.at(-1)!;
  assert.deepEqual(last.choices, []);
  assert.deepEqual(last.usage, { prompt_tokens: 25, completion_tokens: 15, total_tokens: 40, prompt_tokens_details: { cached_tokens: 0 } });
  assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null));
});

test('an error event mid-stream is thrown as an UpstreamError (the server frames it) and ends the stream', () => {
  const translator = new ChatStreamTranslator(options);
  translator.onEvent({ type: 'message_start', message: { id: 'msg_x', model: 'claude', usage: { input_tokens: 3 } } });
  assert.throws(
    () => translator.onEvent({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }),
    (error: unknown) => {
      assert.ok(error instanceof UpstreamError);
      assert.deepEqual(error.toBody(), { error: { message: 'Overloaded', type: 'server_error', param: null, code: 'overloaded_error' } });
      return true;
    },
  );
  assert.equal(translator.done, true);
  assert.deepEqual(translator.onEvent({ type: 'message_stop' }), []);
});

test('a stream that breaks before message_stop fails instead of ending quietly', async () => {
  const truncated = fixtureText('stream-text.sse').split('event: message_delta')[0];
  await assert.rejects(collect(translateAnthropicStream(parseAnthropicStreamEvents(chunked(truncated, 50)), options)), UpstreamConnectionError);
});

test('the translation pulls upstream events one at a time and closes the upstream when the consumer stops', async () => {
  let pulled = 0;
  let closed = false;
  async function* upstream(): AsyncGenerator<AnthropicStreamEvent> {
    try {
      yield { type: 'message_start', message: { id: 'msg_y', model: 'claude' } };
      for (let index = 0; index < 1_000_000; index++) {
        pulled++;
        yield { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'x' } };
      }
    } finally {
      closed = true;
    }
  }
  let received = 0;
  for await (const _frame of translateAnthropicStream(upstream(), options)) {
    if (++received === 3) break;
  }
  assert.equal(closed, true);
  assert.ok(pulled <= 3, `pulled ${pulled} events for 3 frames`);
});

test("a streamed thinking block becomes LiteLLM's reasoning_content and thinking_blocks deltas, its signature a last piece, before the answer's content", async () => {
  const out = await collect(translateAnthropicStream(parseAnthropicStreamEvents(chunked(fixtureText('stream-thinking.sse'), 13)), options));
  const chunks = (dataOf(out) as Record<string, any>[]).slice(0, -1);
  const deltas = chunks.map((chunk) => chunk.choices[0].delta);
  assert.deepEqual(deltas.slice(1, 4), [
    {
      reasoning_content: 'I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147',
      thinking_blocks: [{ type: 'thinking', thinking: 'I need to find the GCD of 1071 and 462 using the Euclidean algorithm.\n\n1071 = 2 × 462 + 147' }],
    },
    { reasoning_content: '\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21', thinking_blocks: [{ type: 'thinking', thinking: '\n462 = 3 × 147 + 21\n147 = 7 × 21 + 0\n\nSo GCD(1071, 462) = 21' }] },
    { thinking_blocks: [{ type: 'thinking', thinking: '', signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...' }] },
  ]);
  assert.equal(deltas.map((delta) => delta.content ?? '').join(''), 'The greatest common divisor of 1071 and 462 is **21**.');
  assert.equal(chunks.at(-1)!.choices[0].finish_reason, 'stop');
});

test('a redacted thinking block is streamed whole as a thinking_blocks piece', () => {
  const translator = new ChatStreamTranslator(options);
  translator.onEvent({ type: 'message_start', message: { id: 'msg_r', model: 'claude', usage: { input_tokens: 3 } } });
  const frames = translator.onEvent({ type: 'content_block_start', index: 0, content_block: { type: 'redacted_thinking', data: 'EmwKAhgB...' } });
  assert.deepEqual((dataOf(frames.join('')) as Record<string, any>[]).map((chunk) => chunk.choices[0].delta), [{ thinking_blocks: [{ type: 'redacted_thinking', data: 'EmwKAhgB...' }] }]);
});
