import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoredModelCipher } from './stored-model-cipher.ts';

describe('stored model cipher', () => {
  it('opens what it sealed, with a fresh nonce each time; another key or a changed byte does not open', () => {
    const cipher = new StoredModelCipher('sk-master-one');
    const plain = JSON.stringify({ model: 'openai/gpt-4o', api_key: 'sk-provider' });
    const sealed = cipher.encrypt(plain);
    assert.ok(!sealed.includes('sk-provider'));
    assert.notEqual(cipher.encrypt(plain), sealed, 'a fresh nonce');
    assert.equal(cipher.decrypt(sealed), plain);
    assert.equal(new StoredModelCipher('sk-master-one').decrypt(sealed), plain, 'the same secret derives the same key');
    assert.throws(() => new StoredModelCipher('sk-master-two').decrypt(sealed));
    const [version, iv, tag, body] = sealed.split(':');
    const flipped = Buffer.from(body, 'base64');
    flipped[0] ^= 1;
    assert.throws(() => cipher.decrypt([version, iv, tag, flipped.toString('base64')].join(':')));
    assert.throws(() => cipher.decrypt('plain text'), /not a stored-model ciphertext/);
  });
});
