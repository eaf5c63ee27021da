import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamConnectionError, UpstreamError } from '../../spec/errors.ts';
import { DONE_FRAME } from '../../spec/chat-chunks.ts';
import { ChatStreamTranslator, parseWorkersAiStream, translateWorkersAiStream } from './chat-stream.ts';
import { chunked, fixtureText } from './fixtures/load.ts';

const options = { created: 1_700_000_000, model: '@cf/meta/llama-3.1-8b-instruct', includeUsage: false, estimatedPromptTokens: 5 };

async function collect(source: AsyncIterable<Uint8Array>): Promise<string> {
  let text = '';
  const decoder = new TextDecoder();
  for await (const chunk of source) text += decoder.decode(chunk, { stream: true });
  return text;
}

function dataOf(sse: string): any[] {
  return sse
    .split('\n\n')
    .filter((frame) => frame.startsWith('data: '))
    .map((frame) => frame.slice('data: '.length))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

async function* bytesOf(text: string): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode(text);
}

describe('Workers AI stream -> OpenAI chat.completion.chunk events', () => {
  it('text pieces become role, content and finish chunks of one id, then [DONE] (split anywhere)', async () => {
    const out = await collect(translateWorkersAiStream(parseWorkersAiStream(chunked(fixtureText('stream-text.sse'), 7)), options));
    assert.ok(out.endsWith(DONE_FRAME));
    const chunks = dataOf(out).slice(0, -1);
    assert.equal(new Set(chunks.map((chunk) => chunk.id)).size, 1);
    for (const chunk of chunks) {
      assert.equal(chunk.object, 'chat.completion.chunk');
      assert.equal(chunk.model, '@cf/meta/llama-3.1-8b-instruct');
      assert.equal('usage' in chunk, false);
    }
    assert.deepEqual(
      chunks.map((chunk) => [chunk.choices[0].delta, chunk.choices[0].finish_reason]),
      [
        [{ role: 'assistant', content: '' }, null],
        [{ content: 'The' }, null],
        [{ content: ' phrase' }, null],
        [{ content: ' "Hello, World"' }, null],
        [{}, 'stop'],
      ],
    );
  });

  it('with include_usage, every chunk carries usage: null and a last chunk the usage of the last event', async () => {
    const out = await collect(translateWorkersAiStream(parseWorkersAiStream(bytesOf(fixtureText('stream-text.sse'))), { ...options, includeUsage: true }));
    const chunks = dataOf(out).slice(0, -1);
    assert.ok(chunks.slice(0, -1).every((chunk) => chunk.usage === null));
    assert.deepEqual(chunks.at(-1), { id: chunks[0].id, object: 'chat.completion.chunk', created: 1_700_000_000, model: options.model, choices: [], usage: { prompt_tokens: 35, completion_tokens: 4, total_tokens: 39 } });
  });

  it('without usage in the stream, the usage chunk is estimated from the prompt and the streamed text', () => {
    const translator = new ChatStreamTranslator({ ...options, includeUsage: true });
    translator.onEvent({ response: 'eight ch' });
    const frames = dataOf(translator.end().join(''));
    assert.deepEqual(frames.at(-2).usage, { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
  });

  it('a tool call arrives whole as one tool_calls delta; the stream finishes with tool_calls', async () => {
    const chunks = dataOf(await collect(translateWorkersAiStream(parseWorkersAiStream(bytesOf(fixtureText('stream-tool-calls.sse'))), options))).slice(0, -1);
    const call = chunks[1].choices[0].delta.tool_calls[0];
    assert.equal(call.index, 0);
    assert.match(call.id, /^call_/);
    assert.deepEqual(call.function, { name: 'getWeather', arguments: '{"latitude":"51.5074","longitude":"-0.1278"}' });
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'tool_calls');
  });

  it('a call streamed OpenAI-style in pieces keeps its index across pieces', () => {
    const translator = new ChatStreamTranslator(options);
    const first = dataOf(translator.onEvent({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{"a"' } }] }).join(''));
    const second = dataOf(translator.onEvent({ tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }).join(''));
    assert.deepEqual(first.at(-1).choices[0].delta.tool_calls, [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"a"' } }]);
    assert.deepEqual(second[0].choices[0].delta.tool_calls, [{ index: 0, function: { arguments: ':1}' } }]);
  });

  it('an error event is thrown as an UpstreamError with its message; a stream cut before [DONE] as a connection error', async () => {
    const errored = 'data: {"response":"Hi"}\n\ndata: {"success":false,"errors":[{"code":3040,"message":"No more data centers to forward the request to"}]}\n\n';
    await assert.rejects(collect(translateWorkersAiStream(parseWorkersAiStream(bytesOf(errored)), options)), (error: unknown) => error instanceof UpstreamError && /No more data centers/.test(error.message) && error.code === '3040');
    await assert.rejects(collect(translateWorkersAiStream(parseWorkersAiStream(bytesOf('data: {"response":"Hi"}\n\n')), options)), UpstreamConnectionError);
  });

  it('an empty answer still has a role chunk and a finish chunk', async () => {
    const chunks = dataOf(await collect(translateWorkersAiStream(parseWorkersAiStream(bytesOf('data: [DONE]\n\n')), options))).slice(0, -1);
    assert.deepEqual(chunks.map((chunk) => chunk.choices[0].finish_reason), [null, 'stop']);
  });
});
