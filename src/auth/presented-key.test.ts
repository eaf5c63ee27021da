import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentedKeyOf } from './presented-key.ts';

describe('presentedKeyOf', () => {
  it('reads the key where OpenAI, Azure and Anthropic clients put it, and LiteLLM’s own header first', () => {
    assert.equal(presentedKeyOf({ authorization: 'Bearer sk-one' }), 'sk-one');
    assert.equal(presentedKeyOf({ 'api-key': ' sk-two ' }), 'sk-two');
    assert.equal(presentedKeyOf({ 'x-api-key': 'sk-three' }), 'sk-three');
    assert.equal(presentedKeyOf({ authorization: 'Bearer sk-provider', 'x-litellm-api-key': 'Bearer sk-portico' }), 'sk-portico');
    assert.equal(presentedKeyOf({ authorization: 'Bearer sk-one', 'x-api-key': 'sk-three' }), 'sk-one');
    assert.equal(presentedKeyOf({ 'x-api-key': '   ' }), undefined);
    assert.equal(presentedKeyOf({}), undefined);
  });
});
