/**
 * Per-request asynchronous auth (`HttpRequest.auth`) on the three shared senders, against a local
 * server: the authorizer sees the exact body bytes and its headers are what the server receives;
 * a 401 drops the credentials and the request goes once more; a failing authorizer is a clear
 * error; a request without `auth` is sent as before.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { UpstreamCredentialsError } from '../../spec/errors.ts';
import { sendHttpRequestBuffered } from './buffered-request.ts';
import type { RequestAuthorizer, RequestToAuthorize } from './request-auth.ts';
import { type HttpRequest, sendHttpRequest } from './request.ts';
import { sendHttpRequestStreamed } from './streamed-request.ts';

const sha256 = (bytes: Uint8Array | string) => createHash('sha256').update(bytes).digest('hex');

/** Signs like SigV4 does in spirit: a digest of method, URL and body, checked by the server. */
function digestAuth(seen: RequestToAuthorize[], refused = new Set<string>()): RequestAuthorizer & { rejectedCount: number } {
  let generation = 0;
  const auth = {
    rejectedCount: 0,
    async authorize(request: RequestToAuthorize) {
      seen.push(request);
      await new Promise((resolve) => setImmediate(resolve));
      return { authorization: `Digest g${generation} ${sha256(`${request.method} ${new URL(request.url).pathname} ${sha256(request.body ?? '')}`)}`, 'x-generation': String(generation) };
    },
    rejected(granted: Readonly<Record<string, string>>) {
      auth.rejectedCount += 1;
      refused.add(granted['x-generation']);
      generation += 1;
    },
  };
  return auth;
}

describe('per-request auth on the shared senders', () => {
  let server: Server;
  let base: string;
  /** Generations of credentials the server refuses (401). */
  const refusedGenerations = new Set<string>();
  const received: { authorization?: string; body: string }[] = [];

  before(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      received.push({ authorization: req.headers.authorization, body: body.toString('utf8') });
      const expected = `${sha256(`${req.method} ${req.url} ${sha256(body)}`)}`;
      const [, , digest] = (req.headers.authorization ?? '').split(' ');
      if (refusedGenerations.has(String(req.headers['x-generation'])) || digest !== expected) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":{"message":"bad signature"}}');
        return;
      }
      if (req.url === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: signed\n\n');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, body: body.toString('utf8') }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const limits = { maxBytes: 1 << 20, maxErrorBytes: 1 << 20 };
  const senders: Record<string, (req: HttpRequest) => Promise<{ status: number; text: () => Promise<string> }>> = {
    buffered: async (req) => {
      const response = await sendHttpRequestBuffered(req, limits);
      return { status: response.status, text: async () => response.body?.toString('utf8') ?? '' };
    },
    streamed: async (req) => {
      const response = await sendHttpRequestStreamed(req);
      return { status: response.status, text: () => response.body.text() };
    },
    readable: async (req) => {
      const response = await sendHttpRequest(req);
      return { status: response.status, text: () => response.body.text() };
    },
  };

  for (const [name, send] of Object.entries(senders)) {
    it(`${name}: the authorizer sees the exact body bytes and its headers reach the upstream`, async () => {
      const seen: RequestToAuthorize[] = [];
      const body = JSON.stringify({ text: 'grüße ✓' });
      const response = await send({ method: 'POST', url: `${base}/signed`, headers: { 'content-type': 'application/json' }, body, auth: digestAuth(seen) });
      assert.equal(response.status, 200);
      assert.deepEqual(JSON.parse(await response.text()), { ok: true, body });
      assert.equal(seen.length, 1);
      assert.equal(Buffer.from(seen[0].body!).toString('utf8'), body);
      assert.equal(seen[0].bodyStreamed, false);
      assert.equal(seen[0].headers['content-type'], 'application/json');
    });

    it(`${name}: a 401 drops the credentials and the request goes once more, authorised afresh`, async () => {
      const seen: RequestToAuthorize[] = [];
      const auth = digestAuth(seen);
      refusedGenerations.add('0');
      try {
        const response = await send({ method: 'POST', url: `${base}/signed`, body: '{"n":1}', auth });
        assert.equal(response.status, 200);
        assert.equal(auth.rejectedCount, 1);
        assert.equal(seen.length, 2);
        // Refused on the resend too: that 401 is the answer (one resend, no loop).
        refusedGenerations.add('1');
        refusedGenerations.add('2');
        const again = await send({ method: 'POST', url: `${base}/signed`, body: '{"n":2}', auth });
        assert.equal(again.status, 401);
        assert.equal(auth.rejectedCount, 2);
        assert.equal(seen.length, 4);
      } finally {
        refusedGenerations.clear();
      }
    });

    it(`${name}: an authorizer that fails is an UpstreamCredentialsError, and nothing is sent`, async () => {
      const before = received.length;
      await assert.rejects(
        send({
          method: 'GET',
          url: `${base}/signed`,
          what: 'Vertex AI chat request',
          auth: {
            authorize: async () => {
              throw new Error('metadata server unreachable');
            },
          },
        }),
        (error: unknown) => error instanceof UpstreamCredentialsError && error.httpStatus === 503 && /Vertex AI chat request.*metadata server unreachable/.test(error.message),
      );
      assert.equal(received.length, before);
    });
  }

  it('a streamed body is not read for signing: the authorizer is told, and a 401 is not resent', async () => {
    const seen: RequestToAuthorize[] = [];
    const auth = digestAuth(seen);
    refusedGenerations.add('0');
    try {
      const response = await sendHttpRequest({ method: 'PUT', url: `${base}/signed`, body: Readable.from([Buffer.from('streamed')]), auth });
      assert.equal(response.status, 401);
      await response.body.dump();
      assert.deepEqual([seen.length, seen[0].body, seen[0].bodyStreamed, auth.rejectedCount], [1, undefined, true, 0]);
    } finally {
      refusedGenerations.clear();
    }
  });

  it('a streamed body with replayBody is resent from a fresh copy after a 401', async () => {
    const seen: RequestToAuthorize[] = [];
    const auth = digestAuth(seen);
    refusedGenerations.add('0');
    try {
      const before = received.length;
      // Streamed bodies are not signed over their bytes: the server checks the digest of no body.
      const fresh = () => Readable.from([Buffer.from('')]);
      const response = await sendHttpRequest({ method: 'PUT', url: `${base}/signed`, body: fresh(), replayBody: fresh, auth });
      assert.equal(response.status, 200);
      await response.body.dump();
      assert.deepEqual([seen.length, auth.rejectedCount, received.length - before], [2, 1, 2]);
    } finally {
      refusedGenerations.clear();
    }
  });

  it('a request without auth goes out with its own headers, untouched', async () => {
    const before = received.length;
    const response = await sendHttpRequestBuffered({ method: 'POST', url: `${base}/signed`, headers: { authorization: 'Bearer static' }, body: '{}' }, limits);
    assert.equal(response.status, 401);
    assert.equal(received[before].authorization, 'Bearer static');
  });
});
