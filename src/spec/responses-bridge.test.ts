import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from './errors.ts';
import { ResponsesStreamTranslator, chatRequestOfResponses, responseOfChatCompletion } from './responses-bridge.ts';

describe('the Responses API through chat', () => {
  it('turns a Responses request into a chat request: instructions, messages, calls and their outputs, tools, format, effort', () => {
    const { chat, warnings } = chatRequestOfResponses({
      model: 'g',
      instructions: 'Be brief.',
      input: [
        { role: 'developer', content: 'Use metric units.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Weather?' }, { type: 'input_image', image_url: 'data:image/png;base64,AAA', detail: 'low' }] },
        { type: 'function_call', call_id: 'call_1', name: 'w', arguments: '{"c":"Paris"}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'sunny' },
        { type: 'reasoning', summary: [] },
      ],
      tools: [{ type: 'function', name: 'w', parameters: { type: 'object' }, strict: true }, { type: 'web_search' }],
      tool_choice: { type: 'function', name: 'w' },
      max_output_tokens: 50,
      text: { format: { type: 'json_schema', name: 'out', schema: { type: 'object' }, strict: true } },
      reasoning: { effort: 'low' },
      stream: true,
    });
    assert.deepEqual(chat, {
      model: 'g',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'system', content: 'Use metric units.' },
        { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAA', detail: 'low' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'w', arguments: '{"c":"Paris"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ],
      max_tokens: 50,
      tools: [{ type: 'function', function: { name: 'w', parameters: { type: 'object' }, strict: true } }],
      tool_choice: { type: 'function', function: { name: 'w' } },
      response_format: { type: 'json_schema', json_schema: { name: 'out', schema: { type: 'object' }, strict: true } },
      reasoning_effort: 'low',
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.deepEqual(warnings.map((warning) => warning.param), ['input[4]', 'tools[1]']);
    assert.throws(() => chatRequestOfResponses({ model: 'g', input: 'x', previous_response_id: 'resp_1' }), InvalidRequestError);
  });

  it('turns a chat completion into a Response, a length stop into an incomplete one', () => {
    const response = responseOfChatCompletion(
      { created: 5, choices: [{ message: { content: 'Hi', tool_calls: [{ id: 'call_2', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'length' }], usage: { prompt_tokens: 9, completion_tokens: 3, prompt_tokens_details: { cached_tokens: 4 } } },
      { model: 'g', input: 'x' },
      'g',
    ) as Record<string, any>;
    assert.equal(response.status, 'incomplete');
    assert.deepEqual(response.incomplete_details, { reason: 'max_output_tokens' });
    assert.deepEqual(response.output.map((item: { type: string }) => item.type), ['message', 'function_call']);
    assert.equal(response.output[0].content[0].text, 'Hi');
    assert.equal(response.output[1].call_id, 'call_2');
    assert.deepEqual(response.usage, { input_tokens: 9, input_tokens_details: { cached_tokens: 4 }, output_tokens: 3, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 12 });
  });

  it('streams events in order, numbered, the text and the call each opened and closed once', () => {
    const translator = new ResponsesStreamTranslator({ model: 'g', input: 'x' }, 'g');
    const frames = [
      ...translator.onData({ choices: [{ delta: { role: 'assistant', content: 'He' } }] }),
      ...translator.onData({ choices: [{ delta: { content: 'llo' } }] }),
      ...translator.onData({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_3', function: { name: 'f', arguments: '{"a"' } }] } }] }),
      ...translator.onData({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ':1}' } }] }, finish_reason: 'tool_calls' }] }),
      ...translator.onData({ choices: [], usage: { prompt_tokens: 4, completion_tokens: 2 } }),
      ...translator.onData(undefined),
    ].map((frame) => JSON.parse(frame.split('\n')[1].slice(6)) as Record<string, any>);
    assert.deepEqual(
      frames.map((event) => event.type),
      [
        'response.created',
        'response.in_progress',
        'response.output_item.added',
        'response.content_part.added',
        'response.output_text.delta',
        'response.output_text.delta',
        'response.output_text.done',
        'response.content_part.done',
        'response.output_item.done',
        'response.output_item.added',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.delta',
        'response.function_call_arguments.done',
        'response.output_item.done',
        'response.completed',
      ],
    );
    assert.deepEqual(frames.map((event) => event.sequence_number), frames.map((_, index) => index));
    const completed = frames.at(-1)!.response;
    assert.equal(completed.output[0].content[0].text, 'Hello');
    assert.equal(completed.output[1].arguments, '{"a":1}');
    assert.equal(completed.output[1].id, frames[9].item.id);
    assert.equal(completed.usage.total_tokens, 6);
  });
});
