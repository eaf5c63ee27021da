import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidRequestError } from '../../spec/errors.ts';
import { translateEmbeddingsRequest, translateEmbeddingsResult } from './embeddings.ts';
import { fixtureJson } from './fixtures/load.ts';
import type { CloudflareEnvelope } from './wire-types.ts';

const MODEL = '@cf/baai/bge-base-en-v1.5';
const refusedAt = (param: string) => (error: unknown) => error instanceof InvalidRequestError && error.httpStatus === 400 && error.param === param;

describe('OpenAI embeddings <-> Workers AI text embeddings', () => {
  it('inputs become text: [...], a single string too; tokens are estimated from the texts', () => {
    assert.deepEqual(translateEmbeddingsRequest({ model: 'bge', input: 'one' }).input, { text: ['one'] });
    const translation = translateEmbeddingsRequest({ model: 'bge', input: ['first text', 'second text'] });
    assert.deepEqual(translation.input, { text: ['first text', 'second text'] });
    assert.equal(translation.estimatedPromptTokens, 3 + 3);
    assert.equal(translation.base64, false);
    assert.deepEqual(translation.warnings, []);
  });

  it('token arrays, dimensions and unknown encodings are a 400; user is dropped with a warning', () => {
    assert.throws(() => translateEmbeddingsRequest({ input: [1, 2, 3] }), refusedAt('input'));
    assert.throws(() => translateEmbeddingsRequest({ input: [[1, 2]] }), refusedAt('input'));
    assert.throws(() => translateEmbeddingsRequest({ input: [] }), refusedAt('input'));
    assert.throws(() => translateEmbeddingsRequest({ input: 'x', dimensions: 256 }), refusedAt('dimensions'));
    assert.throws(() => translateEmbeddingsRequest({ input: 'x', encoding_format: 'int8' }), refusedAt('encoding_format'));
    assert.deepEqual(translateEmbeddingsRequest({ input: 'x', user: 'u' }).warnings.map((warning) => warning.param), ['user']);
  });

  it("the result's vectors become an OpenAI list, as floats or little-endian float32 base64", () => {
    const result = fixtureJson<CloudflareEnvelope>('run-embeddings.json').result;
    const list = translateEmbeddingsResult(result, { model: MODEL, base64: false, estimatedPromptTokens: 6 })!;
    assert.equal(list.object, 'list');
    assert.equal(list.model, MODEL);
    assert.deepEqual(list.data.map((item) => [item.object, item.index]), [['embedding', 0], ['embedding', 1]]);
    assert.deepEqual(list.data[0].embedding, [0.0189, -0.0452, 0.0614, 0.0072]);
    assert.deepEqual(list.usage, { prompt_tokens: 6, total_tokens: 6 });
    const encoded = translateEmbeddingsResult(result, { model: MODEL, base64: true, estimatedPromptTokens: 6 })!;
    const bytes = Buffer.from(encoded.data[1].embedding as string, 'base64');
    assert.equal(bytes.length, 16);
    assert.ok(Math.abs(bytes.readFloatLE(0) - -0.0311) < 1e-6);
  });

  it('a result that is not embeddings (a chat model answered) is null', () => {
    assert.equal(translateEmbeddingsResult({ response: 'hello' }, { model: MODEL, base64: false, estimatedPromptTokens: 1 }), null);
    assert.equal(translateEmbeddingsResult({ data: [['x']] }, { model: MODEL, base64: false, estimatedPromptTokens: 1 }), null);
  });
});
