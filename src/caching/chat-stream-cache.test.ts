import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chatCompletionAssembler, chatCompletionAsStream } from './chat-stream-cache.ts';

const head = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini' };

function feed(chunks: unknown[], completed = true): string | undefined {
  let stored: string | undefined;
  const reader = chatCompletionAssembler((text) => (stored = text));
  for (const chunk of chunks) reader.event(JSON.stringify(chunk), () => chunk);
  reader.end(completed);
  return stored;
}

describe('streamed chat completions in the response cache', () => {
  const chunks = [
    { ...head, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
    { ...head, choices: [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }] },
    { ...head, choices: [{ index: 0, delta: { content: 'lo', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_', arguments: '{"a"' } }] }, finish_reason: null }] },
    { ...head, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: 'weather', arguments: ':1}' } }] }, finish_reason: null }] },
    { ...head, choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
    { ...head, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
  ];

  it('a stream ended in full is assembled into its chat.completion: content, tool calls, finish reason, usage', () => {
    assert.deepEqual(JSON.parse(feed(chunks)!), {
      id: 'chatcmpl-1',
      created: 1,
      model: 'gpt-4o-mini',
      object: 'chat.completion',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hello', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"a":1}' } }] },
          logprobs: null,
          finish_reason: 'tool_calls',
        },
      ],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    });
  });

  it('a stream cut short, or whose choice never finished, or that is not a chat completion stream, is not stored', () => {
    assert.equal(feed(chunks, false), undefined);
    assert.equal(feed(chunks.slice(0, 3)), undefined);
    assert.equal(feed([{ type: 'response.created' }]), undefined);
  });

  it('a cached completion plays back as OpenAI chunks: the message, the finish reason, usage when asked for, [DONE]', () => {
    const events = chatCompletionAsStream(feed(chunks)!, true)!;
    const datas = events.split('\n\n').filter(Boolean).map((event) => event.replace(/^data: /, ''));
    assert.equal(datas.at(-1), '[DONE]');
    const parsed = datas.slice(0, -1).map((data) => JSON.parse(data) as { object: string; choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>; usage?: unknown });
    assert.ok(parsed.every((chunk) => chunk.object === 'chat.completion.chunk'));
    assert.deepEqual(parsed[0].choices[0].delta, { role: 'assistant', content: 'Hello', tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"a":1}' } }] });
    assert.equal(parsed[1].choices[0].finish_reason, 'tool_calls');
    assert.deepEqual(parsed[2], { ...head, choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    assert.equal(chatCompletionAsStream(feed(chunks)!, false)!.includes('"usage"'), false);
    assert.equal(chatCompletionAsStream('{"object":"list","data":[]}', false), undefined, 'an embedding is not played back as a chat stream');
    // Played back and assembled again, the completion is the same.
    const replayed = datas.slice(0, -1).map((data) => JSON.parse(data) as unknown);
    assert.deepEqual(JSON.parse(feed(replayed)!), JSON.parse(feed(chunks)!));
  });
});
