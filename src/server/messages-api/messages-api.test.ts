import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../spec/errors.ts';
import { MessageStreamTranslator, messageEventsOf, messageOfChatCompletion } from './message-answer.ts';
import { chatRequestOfMessages } from './message-request.ts';

describe('an Anthropic Messages request as OpenAI chat', () => {
  it('translates system, blocks, images, documents, tool use and tool results, tools and tool_choice', () => {
    const { chat, warnings } = chatRequestOfMessages({
      model: 'group',
      max_tokens: 100,
      system: [{ type: 'text', text: 'One.' }, { type: 'text', text: 'Two.' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAA' } }, { type: 'document', source: { type: 'base64', media_type: 'application/pdf', data: 'JVBE' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'text', text: 'Calling' }, { type: 'tool_use', id: 'toolu_1', name: 'f', input: { a: 1 } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'done' }] }, { type: 'text', text: 'And now?' }] },
      ],
      tools: [{ name: 'f', description: 'F', input_schema: { type: 'object' } }, { type: 'web_search_20250305', name: 'web_search' }],
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
      stop_sequences: ['END'],
      temperature: 0.2,
      top_k: 3,
      metadata: { user_id: 'u1' },
      stream: true,
    });
    assert.deepEqual(chat, {
      model: 'group',
      messages: [
        { role: 'system', content: 'One.\nTwo.' },
        { role: 'user', content: [{ type: 'text', text: 'Look' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA' } }, { type: 'file', file: { file_data: 'data:application/pdf;base64,JVBE' } }] },
        { role: 'assistant', content: 'Calling', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
        { role: 'tool', tool_call_id: 'toolu_1', content: 'done' },
        { role: 'user', content: 'And now?' },
      ],
      max_tokens: 100,
      stop: ['END'],
      temperature: 0.2,
      tools: [{ type: 'function', function: { name: 'f', description: 'F', parameters: { type: 'object' } } }],
      tool_choice: 'required',
      parallel_tool_calls: false,
      user: 'u1',
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.deepEqual(warnings.map((warning) => warning.param).sort(), ['messages.content.thinking', 'tools.web_search', 'top_k']);
  });

  it('refuses what is not a Messages request, naming the place', () => {
    assert.throws(() => chatRequestOfMessages({ model: 'g', max_tokens: 1, messages: [{ role: 'system', content: 'x' }] }), InvalidRequestError);
    assert.throws(() => chatRequestOfMessages({ model: 'g', max_tokens: 1, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'file' } }] }] }), /messages\[0\]\.content\[0\]\.source/);
    assert.throws(() => chatRequestOfMessages({ model: 'g', max_tokens: 1, messages: [{ role: 'user', content: 'x' }], tools: [{ name: 'f' }], tool_choice: { type: 'sometimes' } }), /tool_choice/);
  });
});

describe('an OpenAI answer as Anthropic’s', () => {
  it('turns a chat completion into a message: text, tool_use, stop reason, usage with cached tokens apart', () => {
    const message = messageOfChatCompletion(
      {
        id: 'chatcmpl-abc',
        choices: [{ message: { content: 'Hi', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{"x":2}' } }] }, finish_reason: 'tool_calls' }],
        usage: { prompt_tokens: 30, completion_tokens: 5, prompt_tokens_details: { cached_tokens: 10 } },
      },
      'group',
    );
    assert.deepEqual(message, {
      id: 'msg_abc',
      type: 'message',
      role: 'assistant',
      model: 'group',
      content: [{ type: 'text', text: 'Hi' }, { type: 'tool_use', id: 'call_1', name: 'f', input: { x: 2 } }],
      stop_reason: 'tool_use',
      stop_sequence: null,
      usage: { input_tokens: 20, output_tokens: 5, cache_read_input_tokens: 10, cache_creation_input_tokens: 0 },
    });
  });

  it('turns chunks into Anthropic’s events: blocks opened and closed in order, the usage on message_delta', async () => {
    const chunks = [
      { id: 'chatcmpl-1', choices: [{ delta: { role: 'assistant', content: '' } }] },
      { id: 'chatcmpl-1', choices: [{ delta: { content: 'Hel' } }] },
      { id: 'chatcmpl-1', choices: [{ delta: { content: 'lo' } }] },
      { id: 'chatcmpl-1', choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_9', function: { name: 'f', arguments: '{"a"' } }] } }] },
      { id: 'chatcmpl-1', choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] } }] },
      { id: 'chatcmpl-1', choices: [{ delta: {}, finish_reason: 'tool_calls' }] },
      { id: 'chatcmpl-1', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3 } },
    ];
    const bytes = (async function* () {
      for (const chunk of chunks) yield new TextEncoder().encode(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
      yield new TextEncoder().encode('data: [DONE]\n\n');
    })();
    let text = '';
    for await (const part of messageEventsOf(bytes, 'group')) text += new TextDecoder().decode(part);
    const events = text
      .split('\n\n')
      .filter(Boolean)
      .map((frame) => ({ name: frame.split('\n')[0].slice(7), data: JSON.parse(frame.split('\n')[1].slice(6)) as Record<string, any> }));
    assert.deepEqual(
      events.map((event) => event.name),
      ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'],
    );
    assert.ok(events.every((event) => event.name === event.data.type));
    assert.deepEqual(events[5].data.content_block, { type: 'tool_use', id: 'call_9', name: 'f', input: {} });
    assert.equal(events[7].data.delta.partial_json, ':1}');
    assert.deepEqual(events[9].data.delta, { stop_reason: 'tool_use', stop_sequence: null });
    assert.equal(events[9].data.usage.input_tokens, 7);
    assert.equal(events[9].data.usage.output_tokens, 3);
  });

  it('turns an error event into Anthropic’s, and ends nothing twice', () => {
    const translator = new MessageStreamTranslator('group');
    assert.match(translator.onData({ error: { message: 'boom' } }).join(''), /^event: error\ndata: \{"type":"error","error":\{"type":"api_error","message":"boom"\}\}/);
    assert.deepEqual(translator.finish(), []);
  });
});
