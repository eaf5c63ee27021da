/**
 * Slow and stalled clients (slowloris) against a real socket: trickled headers, a trickled or
 * stalled body, and a large body behind an early 401/413 all lose their connection; a long
 * streamed answer and a slow but steady upload do not; the connection cap refuses extra
 * connections. `portico_settings.server` is set to one-second windows so the tests stay short.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';

const MASTER_KEY = 'sk-receive-limits-master-0123456789';
/** Well past the one-second limits (and Node's check interval), far below "forever". */
const CLOSES_WITHIN_MS = 5_000;

interface RawConnection {
  socket: net.Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves with the ms from connect to close, or `'still open'` after `withinMs`. */
  closedWithin(withinMs: number): Promise<number | 'still open'>;
}

async function connect(port: number): Promise<RawConnection> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  let received = '';
  socket.setEncoding('latin1').on('data', (text: string) => (received += text));
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const connectedAt = Date.now();
  const closed = new Promise<number>((resolve) => socket.once('close', () => resolve(Date.now() - connectedAt)));
  return {
    socket,
    received: () => received,
    async closedWithin(withinMs) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<'still open'>((resolve) => (timer = setTimeout(() => resolve('still open'), withinMs)));
      const outcome = await Promise.race([closed, timeout]);
      clearTimeout(timer);
      return outcome;
    },
  };
}

/** Writes `text` a few bytes at a time every `everyMs` while the socket is open. */
function trickle(socket: net.Socket, text: string, bytes: number, everyMs: number): () => void {
  let at = 0;
  const timer = setInterval(() => {
    if (socket.destroyed || at >= text.length) return clearInterval(timer);
    socket.write(text.slice(at, at + bytes));
    at += bytes;
  }, everyMs);
  return () => clearInterval(timer);
}

/** An OpenAI-compatible upstream whose streamed answer takes about 2.5 s, a chunk every 500 ms. */
async function startSlowStreamingUpstream(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    request.resume();
    request.on('end', async () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      for (let i = 0; i < 5; i++) {
        const chunk = { id: 'chatcmpl-slow', object: 'chat.completion.chunk', created: 1_700_000_000, model: 'slow', choices: [{ index: 0, delta: { content: `part ${i} ` }, finish_reason: null }] };
        response.write(`data: ${JSON.stringify(chunk)}\n\n`);
        await sleep(500);
      }
      response.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('limits on receiving requests', () => {
  let portico: PorticoUnderTest;
  let port: number;
  let upstream: Awaited<ReturnType<typeof startSlowStreamingUpstream>>;
  before(async () => {
    upstream = await startSlowStreamingUpstream();
    portico = await startPortico(`
model_list:
  - model_name: slow-stream
    litellm_params: { model: openai/slow, api_base: ${upstream.url}, api_key: sk-upstream }
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  server: { headers_timeout_seconds: 1, body_timeout_seconds: 1, body_min_bytes_per_second: 200 }
`);
    port = Number(new URL(portico.url).port);
  });
  after(async () => {
    await portico?.close();
    await upstream?.close();
  });

  it('a client trickling its headers, or sending nothing, gets 408 and is closed', async () => {
    const trickled = await connect(port);
    trickled.socket.write(`GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${MASTER_KEY}\r\n`);
    const stop = trickle(trickled.socket, 'x-slow: '.padEnd(10_000, 'a'), 1, 100);
    const silent = await connect(port);
    try {
      assert.notEqual(await trickled.closedWithin(CLOSES_WITHIN_MS), 'still open', 'the trickled headers kept their connection');
      assert.match(trickled.received(), /^HTTP\/1\.1 408 /);
      assert.notEqual(await silent.closedWithin(CLOSES_WITHIN_MS), 'still open', 'a silent connection was kept');
    } finally {
      stop();
      trickled.socket.destroy();
      silent.socket.destroy();
    }
  });

  it('a client trickling its body below the minimum rate, or stalling it, gets 408 and is closed', async () => {
    const head = (length: number) =>
      `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${MASTER_KEY}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;
    const trickled = await connect(port);
    trickled.socket.write(head(100_000));
    // 10 bytes/s: progressing, but far below 200 bytes/s.
    const stop = trickle(trickled.socket, `{"model": "slow-stream", "messages": [{"role": "user", "content": "${'a'.repeat(99_000)}`, 1, 100);
    const stalled = await connect(port);
    stalled.socket.write(`${head(1_000)}{"model": "slow-stream", "mess`);
    try {
      assert.notEqual(await trickled.closedWithin(CLOSES_WITHIN_MS), 'still open', 'the trickled body kept its connection');
      assert.match(trickled.received(), /^HTTP\/1\.1 408 /);
      assert.match(trickled.received(), /"code":"request_timeout"/);
      assert.notEqual(await stalled.closedWithin(CLOSES_WITHIN_MS), 'still open', 'the stalled body kept its connection');
    } finally {
      stop();
      trickled.socket.destroy();
      stalled.socket.destroy();
    }
  });

  it('a 401 or a 413 answered before a large body arrived closes the connection without reading the rest', async () => {
    for (const [key, status] of [
      ['sk-not-a-key', 401],
      [MASTER_KEY, 413],
    ] as const) {
      const connection = await connect(port);
      connection.socket.write(
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${key}\r\ncontent-type: application/json\r\ncontent-length: ${100 * 1024 * 1024}\r\n\r\n`,
      );
      connection.socket.write(Buffer.alloc(64 * 1024, 'a'));
      try {
        assert.notEqual(await connection.closedWithin(CLOSES_WITHIN_MS), 'still open', `the ${status} kept the connection open for the rest of the body`);
        assert.match(connection.received(), new RegExp(`^HTTP/1\\.1 ${status} `));
        assert.match(connection.received(), /\r\nconnection: close\r\n/i);
      } finally {
        connection.socket.destroy();
      }
    }
  });

  it('a streamed answer longer than the body timeout completes', async () => {
    const stream = await portico.client().chat.completions.create({ model: 'slow-stream', stream: true, messages: [{ role: 'user', content: 'take your time' }] });
    const startedAt = Date.now();
    let content = '';
    for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? '';
    assert.ok(Date.now() - startedAt > 1_500, 'the answer took longer than the body timeout');
    assert.equal(content, 'part 0 part 1 part 2 part 3 part 4 ');
  });

  it('a slow but steady upload lasting several body windows completes', async () => {
    const boundary = '----receive-limits-boundary';
    const content = 'x'.repeat(9_000);
    const body =
      `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n` +
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="slow.txt"\r\ncontent-type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`;
    const connection = await connect(port);
    connection.socket.write(
      `POST /v1/files HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${MASTER_KEY}\r\n` +
        `content-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n`,
    );
    // 300 bytes every 100 ms: 3,000 bytes/s, above the 200 bytes/s minimum, for about 3 s.
    const startedAt = Date.now();
    trickle(connection.socket, body, 300, 100);
    try {
      assert.notEqual(await connection.closedWithin(15_000), 'still open');
      assert.ok(Date.now() - startedAt > 2_000, 'the upload lasted several windows');
      assert.match(connection.received(), /^HTTP\/1\.1 200 /);
      assert.match(connection.received(), /"filename":"slow\.txt"/);
    } finally {
      connection.socket.destroy();
    }
  });
});

describe('the connection cap', () => {
  let portico: PorticoUnderTest;
  let port: number;
  before(async () => {
    portico = await startPortico(`
model_list: []
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  server: { max_connections: 2 }
`);
    port = Number(new URL(portico.url).port);
  });
  after(async () => {
    await portico?.close();
  });

  /** A request on a kept-alive connection; resolves with what came back (empty when closed first). */
  async function probe(connection: RawConnection): Promise<string> {
    const before = connection.received().length;
    connection.socket.write('GET /health/liveliness HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    for (let i = 0; i < 40 && connection.received().length === before && !connection.socket.destroyed; i++) await sleep(25);
    return connection.received().slice(before);
  }

  it('refuses connections beyond max_connections, and takes new ones once others closed', async () => {
    const first = await connect(port);
    const second = await connect(port);
    try {
      assert.match(await probe(first), /^HTTP\/1\.1 200 /);
      assert.match(await probe(second), /^HTTP\/1\.1 200 /);
      const third = await connect(port);
      assert.notEqual(await third.closedWithin(2_000), 'still open', 'a third connection was accepted');
      assert.equal(third.received(), '', 'and served nothing');
    } finally {
      first.socket.destroy();
    }
    await sleep(100);
    const replacement = await connect(port);
    try {
      assert.match(await probe(replacement), /^HTTP\/1\.1 200 /);
    } finally {
      replacement.socket.destroy();
      second.socket.destroy();
    }
  });
});
