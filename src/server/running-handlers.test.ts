import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import Fastify from 'fastify';
import { waitForHandlersOnClose } from './running-handlers.ts';

/** Starts a request to `/work` and resolves once the handler is running. */
async function startRequest(port: number, started: Promise<void>): Promise<http.ClientRequest> {
  const request = http.get({ host: '127.0.0.1', port, path: '/work', agent: false });
  request.on('error', () => undefined);
  await started;
  return request;
}

describe('waitForHandlersOnClose', () => {
  it('app.close() waits for a handler still cleaning up after its connection was cut', async () => {
    const app = Fastify();
    waitForHandlersOnClose(app, () => assert.fail('no timeout expected'));
    let cleanedUp = false;
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    app.get('/work', async (request) => {
      markStarted();
      // Like an aborted upload: the clean-up runs after the connection is gone.
      await new Promise<void>((resolve) => request.raw.socket.once('close', () => setTimeout(resolve, 200)));
      cleanedUp = true;
      return 'done';
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await startRequest((app.server.address() as AddressInfo).port, started);
    const closed = app.close();
    app.server.closeAllConnections();
    await closed;
    assert.equal(cleanedUp, true, 'close() resolved before the handler finished');
  });

  it('gives up after the settle time on a handler that never ends, and says so', async () => {
    const app = Fastify();
    let reported: number | undefined;
    const running = waitForHandlersOnClose(app, (count) => (reported = count), 200);
    let markStarted!: () => void;
    const started = new Promise<void>((resolve) => (markStarted = resolve));
    app.get('/work', () => {
      markStarted();
      return new Promise(() => undefined);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    await startRequest((app.server.address() as AddressInfo).port, started);
    assert.equal(running.size, 1);
    const closed = app.close();
    app.server.closeAllConnections();
    await closed;
    assert.equal(reported, 1);
  });

  it('counts only handlers still running', async () => {
    const app = Fastify();
    const running = waitForHandlersOnClose(app, () => assert.fail('no timeout expected'));
    app.get('/sync', (_request, reply) => reply.send('sync'));
    app.get('/async', async () => 'async');
    await app.ready();
    assert.equal((await app.inject('/sync')).body, 'sync');
    assert.equal((await app.inject('/async')).body, 'async');
    assert.equal(running.size, 0);
    await app.close();
  });
});
