import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamError } from '../../spec/errors.ts';
import { parseGeminiStreamEvents, translateGeminiStream } from './chat-stream.ts';

async function* bytes(text: string): AsyncGenerator<Uint8Array> {
  // In small pieces: an event may span chunks.
  for (let i = 0; i < text.length; i += 7) yield new TextEncoder().encode(text.slice(i, i + 7));
}

async function frames(sse: string, includeUsage = true): Promise<unknown[]> {
  const out: string[] = [];
  for await (const chunk of translateGeminiStream(parseGeminiStreamEvents(bytes(sse)), { created: 1, fallbackModel: 'm', includeUsage })) out.push(new TextDecoder().decode(chunk));
  return out.join('').split('\n\n').filter(Boolean).map((frame) => (frame === 'data: [DONE]' ? '[DONE]' : JSON.parse(frame.slice(6))));
}

describe('Gemini streamGenerateContent SSE -> OpenAI chunks', () => {
  it('text pieces, the finish, a usage chunk and [DONE]', async () => {
    const sse = [
      { candidates: [{ content: { parts: [{ text: 'Hel' }], role: 'model' }, index: 0 }], responseId: 'r1', modelVersion: 'gemini-2.5-flash' },
      { candidates: [{ content: { parts: [{ text: 'lo' }], role: 'model' }, finishReason: 'STOP', index: 0 }], usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 2, thoughtsTokenCount: 1 } },
    ]
      .map((chunk) => `data: ${JSON.stringify(chunk)}\r\n\r\n`)
      .join('');
    const out = (await frames(sse)) as Array<{ id: string; choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>; usage?: unknown } | string>;
    assert.equal(out.at(-1), '[DONE]');
    const chunks = out.slice(0, -1) as Array<{ id: string; choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>; usage?: { completion_tokens: number; completion_tokens_details: { reasoning_tokens: number } } | null }>;
    assert.ok(chunks.every((c) => c.id === 'chatcmpl-r1'));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.equal(chunks.map((c) => c.choices[0]?.delta.content ?? '').join(''), 'Hello');
    assert.equal(chunks.at(-2)?.choices[0].finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.equal(chunks.at(-1)?.usage?.completion_tokens, 3);
    assert.equal(chunks.at(-1)?.usage?.completion_tokens_details.reasoning_tokens, 1);
  });

  it('a function call arrives whole as one tool_calls delta, finishing with tool_calls', async () => {
    const sse = `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ functionCall: { name: 'f', args: { a: 1 } } }] }, finishReason: 'STOP' }] })}\n\n`;
    const out = (await frames(sse, false)) as Array<{ choices: Array<{ delta: { tool_calls?: Array<{ index: number; function: { name: string; arguments: string } }> }; finish_reason: string | null }> }>;
    const call = out.flatMap((c) => (typeof c === 'string' ? [] : c.choices[0].delta.tool_calls ?? []))[0];
    assert.equal(call.index, 0);
    assert.deepEqual(call.function, { name: 'f', arguments: '{"a":1}' });
    assert.ok(out.some((c) => typeof c !== 'string' && c.choices[0].finish_reason === 'tool_calls'));
  });

  it("thought summaries stream as reasoning_content deltas before the answer; a call's thought signature rides on its tool_calls delta", async () => {
    const sse = [
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Considering the question.', thought: true }] } }] },
      { candidates: [{ content: { role: 'model', parts: [{ text: 'Answer' }] } }] },
      { candidates: [{ content: { role: 'model', parts: [{ functionCall: { name: 'f', args: {} }, thoughtSignature: 'c2ln' }] }, finishReason: 'STOP' }] },
    ].map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`).join('');
    const out = (await frames(sse, false)).filter((c): c is { choices: Array<{ delta: Record<string, any> }> } => typeof c !== 'string' && (c as { choices: unknown[] }).choices.length > 0);
    const deltas = out.map((c) => c.choices[0].delta);
    assert.deepEqual(deltas[1], { reasoning_content: 'Considering the question.' });
    assert.deepEqual(deltas[2], { content: 'Answer' });
    assert.deepEqual(deltas[3].tool_calls[0].extra_content, { google: { thought_signature: 'c2ln' } });
  });

  it('an error event is thrown as an UpstreamError with its status', async () => {
    const sse = `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: 'a' }] } }] })}\n\ndata: ${JSON.stringify({ error: { code: 503, message: 'overloaded', status: 'UNAVAILABLE' } })}\n\n`;
    await assert.rejects(frames(sse), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 503);
  });
});
