import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { keepReceivedText, receivedTextOf, receivedTextWithModel } from './received-json.ts';

function received(text: string): Record<string, unknown> {
  const value = JSON.parse(text) as Record<string, unknown>;
  keepReceivedText(value, text);
  return value;
}

describe('received JSON text', () => {
  it('belongs to the parsed object only: a copy has none', () => {
    const text = '{ "model": "m", "messages": [] }';
    const body = received(text);
    assert.equal(receivedTextOf(body), text);
    assert.equal(receivedTextOf({ ...body }), undefined);
    assert.equal(receivedTextWithModel({ ...body }, 'm'), undefined);
  });

  it('is the body to send when its model already is the upstream model', () => {
    const text = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}';
    assert.equal(receivedTextWithModel(received(text), 'gpt-4o-mini'), text);
    assert.equal(receivedTextWithModel(received(text), 'gpt-4o'), undefined, 'a model to rewrite');
    assert.equal(receivedTextWithModel(received('{"messages":[]}'), 'gpt-4o'), undefined, 'no model: one to add');
  });

  it('is not used when "model" appears twice: another parser could read the other model', () => {
    const twice = '{"model":"expensive","model":"gpt-4o-mini","messages":[]}';
    assert.equal(receivedTextWithModel(received(twice), 'gpt-4o-mini'), undefined);
    const inContent = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"model"}]}';
    assert.equal(receivedTextWithModel(received(inContent), 'gpt-4o-mini'), undefined, 'only serialised again, never wrong');
  });
});
