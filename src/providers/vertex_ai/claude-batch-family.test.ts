import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixtureJson } from '../anthropic/fixtures/load.ts';
import type { BatchInputLine } from '../../spec/openai-objects.ts';
import { stageBatchInput } from './batch-input.ts';
import { parseOutputFile } from './batch-output.ts';
import { claudeBatchFamily } from './claude-batch-family.ts';
import { VERTEX_ANTHROPIC_VERSION } from './claude-models.ts';

const MODEL = 'claude-sonnet-4@20250514';
const claude = claudeBatchFamily({ model: MODEL, defaultMaxTokens: 4096, modifyParams: false });
const options = { created: 7, fallbackModel: MODEL };
const chatLine = (customId: string, content: string, extra: Record<string, unknown> = {}): BatchInputLine => ({ custom_id: customId, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content }], ...extra } });

async function text(chunks: AsyncIterable<Uint8Array>): Promise<string> {
  let all = '';
  for await (const chunk of chunks) all += Buffer.from(chunk).toString('utf8');
  return all;
}

async function* bytesOf(lines: unknown[]): AsyncGenerator<Uint8Array> {
  yield Buffer.from(lines.map((line) => `${JSON.stringify(line)}\n`).join(''));
}

async function results(rows: unknown[]) {
  const out = [];
  for await (const result of parseOutputFile(claude, bytesOf(rows), options)) out.push(result);
  return out;
}

describe('Vertex batch lines for Claude', () => {
  it('each line is {custom_id, request}: the Messages body as rawPredict takes it, with the Vertex version and no model', async () => {
    const lines = [chatLine('r0', 'hello', { max_tokens: 20 }), chatLine('r1', 'world', { user: 'u-1' })];
    const staged = await stageBatchInput(claude, { endpoint: '/v1/chat/completions', lines: async function* () { yield* lines; } });
    const written = (await text(staged.chunks())).trim().split('\n').map((line) => JSON.parse(line) as { custom_id: string; request: Record<string, unknown> });
    assert.deepEqual(written.map((line) => line.custom_id), ['r0', 'r1']);
    assert.equal(written[0].request.anthropic_version, VERTEX_ANTHROPIC_VERSION);
    assert.equal(written[0].request.model, undefined);
    assert.equal(written[0].request.max_tokens, 20);
    assert.equal(written[1].request.max_tokens, 4096, 'the deployment default when the line sets none');
    assert.deepEqual(written[0].request.messages, [{ role: 'user', content: [{ type: 'text', text: 'hello' }] }]);
    assert.equal(staged.requests, 2);
    assert.equal(staged.bytes, Buffer.byteLength(written.map((line) => `${JSON.stringify(line)}\n`).join('')));
  });

  it('a line the Anthropic translation refuses is a 400 naming its line; a key Claude cannot carry is refused', async () => {
    const bad: BatchInputLine[] = [chatLine('r0', 'ok'), { ...chatLine('r1', 'x'), body: { model: MODEL, messages: 'not a list' } }];
    await assert.rejects(stageBatchInput(claude, { endpoint: '/v1/chat/completions', lines: async function* () { yield* bad; } }), (error: Error & { httpStatus?: number }) => error.httpStatus === 400 && /^Line 2:/.test(error.message));
    await assert.rejects(stageBatchInput(claude, { endpoint: '/v1/chat/completions', lines: async function* () { yield chatLine('has space', 'x'); } }), /custom_id must be/);
  });
});

describe('Vertex batch output rows for Claude', () => {
  it("a succeeded row's Anthropic Message becomes a chat.completion under its custom_id", async () => {
    const message = fixtureJson<Record<string, unknown>>('message-text.json');
    const [result] = await results([{ custom_id: 'r3', request: {}, status: '', response: message }]);
    assert.equal(result.customId, 'r3');
    assert.equal(result.outcome.type, 'succeeded');
    const body = (result.outcome as { body: { object: string; created: number; choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { prompt_tokens: number } } }).body;
    assert.equal(body.object, 'chat.completion');
    assert.equal(body.created, 7);
    assert.equal(body.choices[0].message.content, 'Hi! My name is Claude.');
    assert.equal(body.choices[0].finish_reason, 'stop');
    assert.equal(body.usage.prompt_tokens, 2095);
  });

  it("failures keep their status: Anthropic's envelope (in status, response or error), Google's status, bare words as a 500", async () => {
    const rows = [
      { custom_id: 'r0', status: 'Bad Request: {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}, "request_id": "req_1"}' },
      { custom_id: 'r1', status: '', response: { type: 'error', error: { type: 'overloaded_error', message: 'busy' } } },
      { custom_id: 'r2', error: { code: 429, message: 'quota', status: 'RESOURCE_EXHAUSTED' } },
      { custom_id: 'r3', status: 'Internal error occurred.' },
    ];
    const out = await results(rows);
    const summary = out.map((r) => {
      const outcome = r.outcome as { type: string; statusCode: number; requestId: string; body: { error: { type: string; message: string } } };
      return [r.customId, outcome.type, outcome.statusCode, outcome.body.error.type];
    });
    assert.deepEqual(summary, [
      ['r0', 'http_error', 400, 'invalid_request_error'],
      ['r1', 'http_error', 503, 'server_error'],
      ['r2', 'http_error', 429, 'rate_limit_error'],
      ['r3', 'http_error', 500, 'api_error'],
    ]);
    assert.equal((out[0].outcome as { requestId: string }).requestId, 'req_1');
    assert.equal((out[3].outcome as { body: { error: { message: string } } }).body.error.message, 'Internal error occurred.');
  });

  it('a row without custom_id is not ours', async () => {
    assert.deepEqual(await results([{ request: {}, status: '', response: { id: 'msg_1', type: 'message', content: [] } }]), []);
  });
});
