import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generatedCharsOfEvent } from './stream-event-text.ts';

describe('generatedCharsOfEvent', () => {
  it('counts the generated text of chat, legacy completion and Responses events', () => {
    assert.equal(generatedCharsOfEvent({ choices: [{ delta: { content: 'Hello', refusal: 'no' } }] }), 7);
    assert.equal(generatedCharsOfEvent({ choices: [{ delta: { tool_calls: [{ function: { arguments: '{"a":1}' } }] } }] }), 7);
    assert.equal(generatedCharsOfEvent({ object: 'text_completion', choices: [{ text: 'abc', index: 0 }, { text: 'de', index: 1 }] }), 5);
    assert.equal(generatedCharsOfEvent({ type: 'response.output_text.delta', delta: 'four' }), 4);
    assert.equal(generatedCharsOfEvent({ type: 'response.completed', response: { usage: {} } }), 0);
  });

  it('counts nothing in what is not an event', () => {
    for (const value of [null, 3, 'text', [], { choices: 'x' }, { choices: [null] }]) assert.equal(generatedCharsOfEvent(value), 0, JSON.stringify(value));
  });
});
