/**
 * The edges of the HTTP server: a graceful stop with a request in flight, and requests so broken
 * that no route sees them. Every answer is still OpenAI's error envelope.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { Client } from 'undici';
import { startPortico } from '../helpers/portico.ts';
import { envelopeOf } from './fixtures.ts';

const SLOW_CONFIG = `
model_list:
  - model_name: slow
    litellm_params: { model: mock/slow, mock_latency_ms: 1000 }
general_settings: { master_key: sk-shutdown-test-master }
`;

function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    setTimeout(() => socket.destroy(), 5_000);
  });
}

describe('shutdown and malformed requests', () => {
  it('a stop lets the in-flight request finish, tells its client to close the connection, and ends as soon as it is done', async () => {
    const portico = await startPortico(SLOW_CONFIG, { shutdownGraceMs: 20_000 });
    const client = new Client(portico.url);
    try {
      const inFlight = client.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { authorization: `Bearer ${portico.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'in flight' }] }),
      });
      // Let the request reach the server (the mock answers after 1 s).
      await new Promise((resolve) => setTimeout(resolve, 300));
      const stopStartedAt = Date.now();
      const stopped = portico.close();
      const answer = await inFlight;
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.headers.connection, 'close');
      assert.equal(((await answer.body.json()) as { object: string }).object, 'chat.completion');
      await stopped;
      assert.ok(Date.now() - stopStartedAt < 5_000, `the stop took ${Date.now() - stopStartedAt} ms`);
      await assert.rejects(fetch(`${portico.url}/health/liveliness`), 'no new connection is accepted');
    } finally {
      await client.close().catch(() => {});
      await portico.close();
    }
  });

  it("an empty body sent as application/json (the Python SDK's cancel and delete) is no body: the route answers, and a model route asks for a JSON object", async () => {
    const portico = await startPortico(SLOW_CONFIG);
    try {
      const empty = { headers: { 'content-type': 'application/json' }, body: '' };
      const cancel = await portico.fetch('/v1/batches/batch_000000000000000000000000/cancel', { method: 'POST', ...empty });
      assert.equal(cancel.status, 404, 'not found, not a 400 for the empty body');
      const deletion = await portico.fetch('/v1/files/file-000000000000000000000000', { method: 'DELETE', ...empty });
      assert.equal(deletion.status, 404);
      const chat = await portico.fetch('/v1/chat/completions', { method: 'POST', ...empty });
      assert.equal(chat.status, 400);
      assert.equal(envelopeOf(await chat.json()).message, 'The request body must be a JSON object.');
    } finally {
      await portico.close();
    }
  });

  it('a URL that does not decode gets 400 in the envelope', async () => {
    const portico = await startPortico(SLOW_CONFIG);
    try {
      const response = await portico.fetch('/v1/models/%zz');
      assert.equal(response.status, 400);
      envelopeOf(await response.json());
    } finally {
      await portico.close();
    }
  });

  it('an HTTP/1.1 request without a Host header gets 400 in the envelope (Node alone would answer an empty 400)', async () => {
    const portico = await startPortico(SLOW_CONFIG);
    try {
      const answer = await rawExchange(Number(new URL(portico.url).port), 'GET /health/liveliness HTTP/1.1\r\nconnection: close\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 400 /);
      assert.match(answer, /\r\ncontent-type: application\/json/i);
      assert.equal(envelopeOf(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).code, 'missing_host_header');
      const http10 = await rawExchange(Number(new URL(portico.url).port), 'GET /health/liveliness HTTP/1.0\r\n\r\n');
      assert.match(http10, /^HTTP\/1\.1 200 /, 'HTTP/1.0 has no Host header to require');
    } finally {
      await portico.close();
    }
  });

  it('a malformed HTTP request gets 400 in the envelope and the server keeps serving', async () => {
    const portico = await startPortico(SLOW_CONFIG);
    try {
      const answer = await rawExchange(Number(new URL(portico.url).port), 'GARBAGE\r\n\r\n');
      assert.match(answer, /^HTTP\/1\.1 400 /);
      envelopeOf(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)));
      assert.equal((await portico.fetch('/health/liveliness', { apiKey: null })).status, 200);
    } finally {
      await portico.close();
    }
  });
});
