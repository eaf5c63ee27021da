/**
 * Upstream text that echoes the upstream's API key never reaches a client or a file: an
 * OpenAI-compatible server and an Anthropic endpoint that put the key they were sent into their
 * error messages; the emulated batch's error file and the Anthropic stream's error frame carry
 * `[redacted]` instead. The keys are plain strings no pattern would catch: only the redaction of
 * the config's known secrets, on every path, removes them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const MASTER_KEY = 'sk-redaction-master-0123456789';
const COMPATIBLE_KEY = 'compatible-upstream-secret-4242';
const ANTHROPIC_KEY = 'anthropic-upstream-secret-7777';

/**
 * Answers every chat call with an error that quotes the key it was sent; streams an error event on
 * Anthropic; a streamed OpenAI-compatible call gets some chunks, then an error event quoting the
 * key, written in pieces that split the key (each piece its own TCP write, so its own chunk).
 */
function echoingUpstream(): Promise<Server> {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const parts: Buffer[] = [];
    request.on('data', (part: Buffer) => parts.push(part));
    request.on('end', () => {
      if (!request.url?.endsWith('/messages') && (JSON.parse(Buffer.concat(parts).toString()) as { stream?: boolean }).stream === true) {
        const key = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
        const chunk = (content: string) => `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'echo', choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
        const error = `data: ${JSON.stringify({ error: { message: `Upstream overloaded serving key ${key}`, type: 'server_error', param: null, code: null } })}\n\n`;
        const split = error.indexOf(key) + 7;
        const pieces = [chunk('Hel'), chunk('lo'), error.slice(0, split), error.slice(split)];
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const writeNext = () => {
          const piece = pieces.shift();
          if (piece === undefined) return void response.end();
          response.write(piece);
          setTimeout(writeNext, 20);
        };
        writeNext();
        return;
      }
      if (request.url?.endsWith('/messages')) {
        const key = String(request.headers['x-api-key'] ?? '');
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const event = (type: string, data: unknown) => response.write(`event: ${type}\ndata: ${JSON.stringify(data)}\n\n`);
        event('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-echo', content: [], usage: { input_tokens: 3, output_tokens: 0 } } });
        event('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
        event('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hello' } });
        event('error', { type: 'error', error: { type: 'overloaded_error', message: `Overloaded while serving key ${key}` } });
        response.end();
        return;
      }
      const key = String(request.headers.authorization ?? '').replace(/^Bearer /, '');
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: `Invalid request for API key ${key}.`, type: 'invalid_request_error', param: null, code: 'bad_request' } }));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe(`upstream keys echoed in upstream errors are redacted everywhere (${dialect})`, () => {
    let upstream: Server;
    let portico: PorticoUnderTest;
    let client: OpenAI;

    before(async () => {
      upstream = await echoingUpstream();
      const base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      const storage = await mkdtemp(join(tmpdir(), 'portico-redaction-'));
      portico = await startPortico(
        `
model_list:
  - model_name: echo-compatible
    litellm_params:
      model: hosted_vllm/echo
      api_base: ${base}/v1
      api_key: ${COMPATIBLE_KEY}
  - model_name: echo-claude
    litellm_params:
      model: anthropic/claude-echo
      api_base: ${base}
      api_key: ${ANTHROPIC_KEY}
      max_retries: 0
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files:
    storage_dir: ${storage}
  batch:
    refresh_after_seconds: 0
    poll_interval_ms: 100
`,
        { dialect },
      );
      client = portico.client();
    });
    after(async () => {
      await portico?.close();
      await new Promise((resolve) => upstream?.close(resolve));
    });

    test('the error file of an emulated batch does not contain the key the upstream echoed', async () => {
      const jsonl = [0, 1]
        .map((i) => JSON.stringify({ custom_id: `r-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'echo-compatible', messages: [{ role: 'user', content: 'hi' }] } }))
        .join('\n');
      const file = await client.files.create({ file: await toFile(Buffer.from(jsonl), 'in.jsonl'), purpose: 'batch' });
      let batch = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
      for (let i = 0; i < 200 && !['completed', 'failed', 'expired', 'cancelled'].includes(batch.status); i += 1) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        batch = await client.batches.retrieve(batch.id);
      }
      assert.equal(batch.status, 'completed');
      assert.deepEqual(batch.request_counts, { total: 2, completed: 0, failed: 2 });
      const errors = await (await client.files.content(batch.error_file_id!)).text();
      assert.ok(!errors.includes(COMPATIBLE_KEY), `the error file leaks the upstream key: ${errors}`);
      assert.match(errors, /Invalid request for API key \[redacted\]/);
    });

    test('the error frame of an Anthropic stream does not contain the key the upstream echoed', async () => {
      const response = await portico.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'echo-claude', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.match(text, /data: \{"error":/);
      assert.ok(!text.includes(ANTHROPIC_KEY), `the stream leaks the upstream key: ${text}`);
      assert.match(text, /Overloaded while serving key \[redacted\]/);
    });

    test('an error event in the middle of an OpenAI-compatible stream does not reach the client with the key', async () => {
      const response = await portico.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'echo-compatible', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
      });
      assert.equal(response.status, 200);
      const text = await response.text();
      assert.match(text, /"content":"Hel"/);
      assert.match(text, /"content":"lo"/);
      assert.ok(!text.includes(COMPATIBLE_KEY.slice(0, 7)) && !text.includes(COMPATIBLE_KEY.slice(7)), `the stream leaks the upstream key: ${text}`);
      assert.match(text, /data: \{"error":\{"message":"Upstream overloaded serving key \[redacted\]"/);
    });
  });
}
