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
    litellm_params: { model: mock/slow, mock_latency_ms: 500 }
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
  it('a stop lets the in-flight request finish and answers a request arriving meanwhile with a 503 envelope', async () => {
    const portico = await startPortico(SLOW_CONFIG);
    const client = new Client(portico.url, { pipelining: 3 });
    const chat = () =>
      client.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { authorization: `Bearer ${portico.masterKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'slow', messages: [{ role: 'user', content: 'in flight' }] }),
      });
    try {
      const inFlight = chat();
      await new Promise((resolve) => setTimeout(resolve, 100));
      const stopped = portico.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      const late = chat();
      const first = await inFlight;
      assert.equal(first.statusCode, 200);
      assert.equal(((await first.body.json()) as { object: string }).object, 'chat.completion');
      const second = await late;
      assert.equal(second.statusCode, 503);
      assert.equal(second.headers.connection, 'close');
      assert.equal(envelopeOf(await second.body.json()).code, 'shutting_down');
      await stopped;
    } finally {
      await client.close().catch(() => {});
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
