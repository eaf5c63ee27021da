/**
 * The two dispatcher-level requests: `sendHttpRequestBuffered` (JSON answers, read whole) and
 * `sendHttpRequestStreamed` (streamed answers, relayed as they arrive), against a local server.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UpstreamAbortedError } from './transport-errors.ts';
import { sendHttpRequestBuffered } from './buffered-request.ts';
import { registerSignalOwner } from './signal-hold.ts';
import { sendHttpRequestStreamed } from './streamed-request.ts';
import { UpstreamConnectionError, UpstreamTimeoutError } from '../../spec/errors.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('requests on the dispatcher', () => {
  let server: Server;
  let base: string;
  /** Ends the answer of `/events` (set when it has sent its first event). */
  let endEvents: (() => void) | undefined;
  const routes = new Map<string, Handler>();
  const closedEarly: string[] = [];

  before(async () => {
    server = createServer((req, res) => {
      res.on('close', () => {
        if (!res.writableFinished) closedEarly.push(req.url ?? '');
      });
      const handler = routes.get(req.url ?? '');
      if (handler) handler(req, res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    routes.set('/json', (_req, res) => res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': 'up-1' }).end('{"ok":true}'));
    routes.set('/big', (_req, res) => res.writeHead(200).end('x'.repeat(5000)));
    routes.set('/big-error', (_req, res) => res.writeHead(500).end('e'.repeat(5000)));
    routes.set('/error', (_req, res) => res.writeHead(429, { 'retry-after': '3' }).end('{"error":{"message":"slow down"}}'));
    routes.set('/hang', () => {});
    routes.set('/events', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      // The rest once the test has looked at the hold (a timer could fire first on a busy machine).
      endEvents = () => res.end('data: two\n\n');
    });
    routes.set('/endless', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const timer = setInterval(() => res.write('data: more\n\n'), 2);
      res.on('close', () => clearInterval(timer));
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  /** A signal whose holds are counted, standing in for the router's attempt deadline. */
  function countedSignal(controller = new AbortController()) {
    const counts = { holds: 0, releases: 0 };
    registerSignalOwner(controller.signal, {
      hold(onAbort) {
        counts.holds += 1;
        if (onAbort) controller.signal.addEventListener('abort', onAbort);
        let released = false;
        return () => {
          if (!released) counts.releases += 1;
          if (onAbort) controller.signal.removeEventListener('abort', onAbort);
          released = true;
        };
      },
    });
    return { controller, signal: controller.signal, counts };
  }

  const limits = { maxBytes: 1000, maxErrorBytes: 100 };

  it('reads a JSON answer whole, with its status and headers, and releases its hold', async () => {
    const { signal, counts } = countedSignal();
    const response = await sendHttpRequestBuffered({ method: 'GET', url: `${base}/json`, signal }, limits);
    assert.equal(response.status, 200);
    assert.equal(response.headers['x-request-id'], 'up-1');
    assert.equal(response.body?.toString(), '{"ok":true}');
    assert.deepEqual(counts, { holds: 1, releases: 1 });
  });

  it('keeps the status of an error answer and its body', async () => {
    const response = await sendHttpRequestBuffered({ method: 'GET', url: `${base}/error` }, limits);
    assert.equal(response.status, 429);
    assert.equal(response.headers['retry-after'], '3');
    assert.equal(response.body?.toString(), '{"error":{"message":"slow down"}}');
  });

  it('an error body over its limit keeps the status and drops the body', async () => {
    const response = await sendHttpRequestBuffered({ method: 'GET', url: `${base}/big-error` }, limits);
    assert.equal(response.status, 500);
    assert.equal(response.body, undefined);
  });

  it('a 2xx body over its limit fails the call', async () => {
    await assert.rejects(sendHttpRequestBuffered({ method: 'GET', url: `${base}/big` }, limits), UpstreamConnectionError);
  });

  it('an aborted signal ends a call waiting for its answer, as an abort, and releases its hold', async () => {
    const { controller, signal, counts } = countedSignal();
    const pending = sendHttpRequestBuffered({ method: 'GET', url: `${base}/hang`, signal }, limits);
    setTimeout(() => controller.abort(new Error('client gone')), 20);
    await assert.rejects(pending, UpstreamAbortedError);
    assert.deepEqual(counts, { holds: 1, releases: 1 });
  });

  it('a timeout reason is reported as a timeout', async () => {
    const controller = new AbortController();
    const pending = sendHttpRequestBuffered({ method: 'GET', url: `${base}/hang`, signal: controller.signal }, limits);
    setTimeout(() => controller.abort(new DOMException('timed out', 'TimeoutError')), 20);
    await assert.rejects(pending, UpstreamTimeoutError);
  });

  it('relays a streamed body chunk by chunk and releases its hold when it ends', async () => {
    const { signal, counts } = countedSignal();
    const response = await sendHttpRequestStreamed({ method: 'GET', url: `${base}/events`, signal });
    assert.equal(response.status, 200);
    assert.deepEqual(counts, { holds: 1, releases: 0 }, 'held while the body is being read');
    endEvents!();
    const chunks: string[] = [];
    for await (const chunk of response.body) chunks.push(Buffer.from(chunk).toString());
    assert.equal(chunks.join(''), 'data: one\n\ndata: two\n\n');
    assert.deepEqual(counts, { holds: 1, releases: 1 });
  });

  it('closing a streamed body aborts the upstream request and releases its hold', async () => {
    const { signal, counts } = countedSignal();
    closedEarly.length = 0;
    const response = await sendHttpRequestStreamed({ method: 'GET', url: `${base}/endless`, signal });
    for await (const _chunk of response.body) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(closedEarly, ['/endless'], 'the upstream saw its response cut');
    assert.deepEqual(counts, { holds: 1, releases: 1 });
  });

  it('an abort while a streamed body is read fails the next read as an abort', async () => {
    const controller = new AbortController();
    const response = await sendHttpRequestStreamed({ method: 'GET', url: `${base}/endless`, signal: controller.signal });
    const iterator = response.body[Symbol.asyncIterator]();
    await iterator.next();
    controller.abort(new Error('client gone'));
    await assert.rejects(
      (async () => {
        for (;;) if ((await iterator.next()).done) return;
      })(),
      UpstreamAbortedError,
    );
  });

  it('reads an error answer of a streamed call as text', async () => {
    const response = await sendHttpRequestStreamed({ method: 'GET', url: `${base}/error` });
    assert.equal(response.status, 429);
    assert.equal(await response.body.text(), '{"error":{"message":"slow down"}}');
  });
});
