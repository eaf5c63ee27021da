import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamConnectionError, UpstreamError } from '../../spec/errors.ts';
import { DONE_FRAME } from '../../spec/chat-chunks.ts';
import { ChatStreamTranslator, parseCohereStreamEvents, translateCohereStream } from './chat-stream.ts';
import { chunked, fixtureText } from './fixtures/load.ts';
import type { CohereStreamEvent } from './wire-types.ts';

const options = { created: 1_700_000_000, model: 'command-a-03-2025', includeUsage: false };

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

async function* eventsOf(...events: CohereStreamEvent[]): AsyncGenerator<CohereStreamEvent> {
  yield* events;
}

test('a streamed text answer becomes role, content and finish chunks, then [DONE]', async () => {
  const out = await collect(translateCohereStream(parseCohereStreamEvents(chunked(fixtureText('stream-text.sse'), 7)), options));
  assert.ok(out.endsWith(DONE_FRAME));
  const chunks = (dataOf(out) as Record<string, any>[]).slice(0, -1);
  for (const chunk of chunks) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    assert.equal(chunk.id, '29f14a5a-11de-4cae-9800-25e4747408ea');
    assert.equal(chunk.model, 'command-a-03-2025');
    assert.equal(chunk.created, 1_700_000_000);
    assert.equal('usage' in chunk, false);
  }
  assert.deepEqual(
    chunks.map((chunk) => [chunk.choices[0].delta, chunk.choices[0].finish_reason]),
    [
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'Hello' }, null],
      [{ content: ' world' }, null],
      [{}, 'stop'],
    ],
  );
});

test('with include_usage every chunk has usage: null and a last chunk the counted tokens', async () => {
  const out = await collect(translateCohereStream(parseCohereStreamEvents(chunked(fixtureText('stream-text.sse'), 64)), { ...options, includeUsage: true }));
  const chunks = (dataOf(out) as Record<string, any>[]).slice(0, -1);
  assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null));
  assert.deepEqual(chunks.at(-1), {
    id: '29f14a5a-11de-4cae-9800-25e4747408ea',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'command-a-03-2025',
    choices: [],
    usage: { prompt_tokens: 69, completion_tokens: 2, total_tokens: 71 },
  });
});

test('a streamed tool call: the plan as tool_plan deltas, the call as tool_calls deltas whose arguments join, finish tool_calls', async () => {
  const out = await collect(translateCohereStream(parseCohereStreamEvents(chunked(fixtureText('stream-tool-call.sse'), 32)), options));
  const deltas = (dataOf(out) as Record<string, any>[]).slice(0, -1).map((chunk) => chunk.choices[0]);
  assert.equal(deltas.map((choice) => choice.delta.tool_plan ?? '').join(''), 'I will look up the weather in Toronto.');
  const calls = deltas.flatMap((choice) => choice.delta.tool_calls ?? []);
  assert.deepEqual(calls[0], { index: 0, id: 'get_weather_nsz5zm3w56q3', type: 'function', function: { name: 'get_weather', arguments: '' } });
  assert.equal(calls.map((call: { function: { arguments: string } }) => call.function.arguments).join(''), '{"location":"Toronto"}');
  assert.ok(calls.every((call: { index: number }) => call.index === 0));
  assert.equal(deltas.at(-1).finish_reason, 'tool_calls');
});

test("thinking content streams as reasoning_content; two tool calls get OpenAI's indexes 0 and 1", () => {
  const translator = new ChatStreamTranslator(options);
  const frames = [
    { type: 'message-start', id: 'm1', delta: { message: { role: 'assistant' } } },
    { type: 'content-start', index: 0, delta: { message: { content: { type: 'thinking', thinking: '' } } } },
    { type: 'content-delta', index: 0, delta: { message: { content: { thinking: 'Hmm.' } } } },
    { type: 'tool-call-start', index: 0, delta: { message: { tool_calls: { id: 'a_1', type: 'function', function: { name: 'a', arguments: '' } } } } },
    { type: 'tool-call-start', index: 1, delta: { message: { tool_calls: { id: 'b_2', type: 'function', function: { name: 'b', arguments: '' } } } } },
    { type: 'tool-call-delta', index: 1, delta: { message: { tool_calls: { function: { arguments: '{}' } } } } },
    { type: 'citation-start', index: 0, delta: { message: { citations: {} } } },
    { type: 'debug', prompt: '...' },
  ].flatMap((event) => translator.onEvent(event as CohereStreamEvent));
  const deltas = frames.map((frame) => JSON.parse(frame.slice('data: '.length)).choices[0].delta);
  assert.deepEqual(deltas[1], { reasoning_content: 'Hmm.' });
  assert.deepEqual(deltas.slice(2).map((delta) => delta.tool_calls[0].index), [0, 1, 1]);
});

test('a message-end saying the generation failed is thrown as a retryable 500', () => {
  const translator = new ChatStreamTranslator(options);
  translator.onEvent({ type: 'message-start', id: 'm1' });
  assert.throws(
    () => translator.onEvent({ type: 'message-end', delta: { finish_reason: 'ERROR', error: 'internal failure' } }),
    (error: unknown) => error instanceof UpstreamError && error.httpStatus === 500 && error.isRetryable && /internal failure/.test(error.message),
  );
  assert.equal(translator.done, true);
});

test('an error body inside the stream is an error event, thrown in OpenAI terms', async () => {
  const sse = 'event: message-start\ndata: {"type":"message-start","id":"m"}\n\ndata: {"id":"e1","message":"internal server error, this has been reported to our developers"}\n\n';
  const events: CohereStreamEvent[] = [];
  for await (const event of parseCohereStreamEvents(chunked(sse, 5))) events.push(event);
  assert.deepEqual(events.map((event) => event.type), ['message-start', 'error']);
  await assert.rejects(collect(translateCohereStream(eventsOf(...events), options)), (error: unknown) => error instanceof UpstreamError && /reported to our developers/.test(error.message));
});

test('a stream that ends before message-end broke: an upstream connection error', async () => {
  const cut = fixtureText('stream-text.sse').split('event: message-end')[0];
  await assert.rejects(collect(translateCohereStream(parseCohereStreamEvents(chunked(cut, 16)), options)), UpstreamConnectionError);
});

test('the event type comes from the data, else from the event: line; [DONE] and bad JSON are skipped', async () => {
  const sse = 'event: content-delta\ndata: {"index":0,"delta":{"message":{"content":{"text":"a"}}}}\n\ndata: not json\n\ndata: [DONE]\n\n';
  const events: CohereStreamEvent[] = [];
  for await (const event of parseCohereStreamEvents(chunked(sse, 3))) events.push(event);
  assert.deepEqual(events.map((event) => event.type), ['content-delta']);
});

test('stopping early closes the upstream event iterator', async () => {
  let closed = false;
  async function* upstream(): AsyncGenerator<CohereStreamEvent> {
    try {
      yield { type: 'message-start', id: 'm' };
      yield { type: 'content-delta', index: 0, delta: { message: { content: { text: 'a' } } } };
      yield { type: 'content-delta', index: 0, delta: { message: { content: { text: 'b' } } } };
    } finally {
      closed = true;
    }
  }
  for await (const _ of translateCohereStream(upstream(), options)) break;
  assert.equal(closed, true);
});
