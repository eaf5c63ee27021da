import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { vertexClaudeBody, VERTEX_ANTHROPIC_VERSION } from './claude-models.ts';
import { modelSegment, publisherOf } from './client.ts';

describe('Claude on Vertex', () => {
  it('the body names no model and carries the Vertex anthropic_version; stream only when streaming', () => {
    const params = { model: 'claude-sonnet-4@20250514', messages: [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }], max_tokens: 10 };
    assert.deepEqual(vertexClaudeBody(params, false), { anthropic_version: VERTEX_ANTHROPIC_VERSION, messages: params.messages, max_tokens: 10 });
    assert.equal(vertexClaudeBody(params, true).stream, true);
  });

  it('Claude models are Anthropic-published; the @version stays in the URL', () => {
    assert.equal(publisherOf('claude-sonnet-4@20250514'), 'anthropic');
    assert.equal(publisherOf('gemini-2.5-flash'), 'google');
    assert.equal(modelSegment('claude-sonnet-4@20250514'), 'claude-sonnet-4@20250514');
  });
});
