import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isEmbeddingModel } from './embedding-models.ts';

describe('isEmbeddingModel', () => {
  it("knows Google's embedding models, on the Gemini API and on Vertex AI", () => {
    for (const model of ['gemini-embedding-001', 'text-embedding-005', 'text-multilingual-embedding-002', 'textembedding-gecko@003', 'multimodalembedding@001', 'embedding-001']) {
      assert.equal(isEmbeddingModel(model), true, model);
    }
  });
  it('leaves chat models (whose batches run as batch jobs) alone', () => {
    for (const model of ['gemini-2.5-flash', 'gemini-2.0-flash-lite', 'claude-sonnet-4@20250514']) assert.equal(isEmbeddingModel(model), false, model);
  });
});
