/**
 * Slowloris: clients that trickle their request headers or their body, a byte now and then,
 * to hold connections open. Portico's receive timeouts must close such connections (answering,
 * if at all, with a 4xx in OpenAI's envelope, never a 5xx), its descriptors must come back to
 * their baseline, and it must keep serving everyone else meanwhile. Small timeouts here.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { ALL_DIALECTS } from '../helpers/databases.ts';
import {
  assertServes,
  FAULTS_MASTER_KEY,
  faultModel,
  startFaultPortico,
  startFaultUpstream,
  type FaultPortico,
  type FaultUpstream,
  within,
} from './fault-helpers-net.ts';

const HEADERS_TIMEOUT_MS = 1_000;
const BODY_TIMEOUT_MS = 1_000;
/** How long past the timeout a closing may take on a busy machine (Node checks on an interval). */
const CLOSE_SLACK_MS = 4_000;

interface Trickle {
  /** Resolves when Portico closed the connection: what it answered first, and when. */
  closed: Promise<{ answer: string; afterMs: number }>;
  stop(): void;
}

/** Sends `head` at once, then one byte of `drip` every `everyMs`, until the server closes. */
function trickle(port: number, head: string, drip: string, everyMs: number): Trickle {
  const socket = net.connect(port, '127.0.0.1');
  const startedAt = Date.now();
  let answer = '';
  let timer: NodeJS.Timeout | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (answer += chunk));
  socket.on('error', () => undefined);
  socket.on('connect', () => {
    socket.write(head);
    let sent = 0;
    timer = setInterval(() => {
      if (!socket.destroyed && socket.writable) socket.write(drip[sent++ % drip.length]);
    }, everyMs);
  });
  const closed = new Promise<{ answer: string; afterMs: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, afterMs: Date.now() - startedAt });
    });
  });
  return {
    closed,
    stop() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/** What Portico answered before closing, if anything, must not be a 5xx, and must be the envelope. */
function assertNoServerError(answer: string): void {
  if (answer === '') return;
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  assert.ok(status >= 400 && status < 500, `answered: ${answer.slice(0, 200)}`);
  const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
  if (body.length > 0) assert.ok((JSON.parse(body) as { error?: unknown }).error, `not the envelope: ${body}`);
}

for (const dialect of ALL_DIALECTS) {
  describe(`slowloris [${dialect}]`, () => {
    let upstream: FaultUpstream;
    let portico: FaultPortico;
    let baselineFds: number;
    const open: Trickle[] = [];

    before(async () => {
      upstream = await startFaultUpstream();
      portico = await startFaultPortico({
        dialect,
        models: faultModel('healthy', 'ok', upstream),
        server: `headers_timeout_seconds: ${HEADERS_TIMEOUT_MS / 1000}, body_timeout_seconds: ${BODY_TIMEOUT_MS / 1000}`,
      });
      await assertServes(portico, 'healthy');
      baselineFds = await portico.fds();
    });

    after(async () => {
      for (const connection of open) connection.stop();
      await portico?.dispose();
      await upstream?.close();
    });

    it('trickled headers: the connection is closed once the header timeout passed', async () => {
      const connections = Array.from({ length: 5 }, () =>
        trickle(portico.port, 'POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\n', 'x-slow: a\r\n', 200),
      );
      open.push(...connections);
      // Meanwhile everyone else is served.
      await assertServes(portico, 'healthy');
      for (const { closed } of connections) {
        const { answer, afterMs } = await within(closed, HEADERS_TIMEOUT_MS + CLOSE_SLACK_MS, 'a connection trickling its headers is still open');
        assert.ok(afterMs < HEADERS_TIMEOUT_MS + CLOSE_SLACK_MS, `closed after ${afterMs} ms`);
        assertNoServerError(answer);
      }
      await portico.expectDescriptorsNear(baselineFds);
    });

    it('a trickled body: the connection is closed once the body timeout passed', async () => {
      const body = JSON.stringify({ model: 'healthy', messages: [{ role: 'user', content: 'x'.repeat(4_000) }] });
      const head =
        `POST /v1/chat/completions HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${FAULTS_MASTER_KEY}\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`;
      // One byte every 1.5 s: slower than the body timeout allows between bytes, and far too
      // slow to finish the body within any sane total.
      const connections = Array.from({ length: 5 }, () => trickle(portico.port, head, body, BODY_TIMEOUT_MS * 1.5));
      open.push(...connections);
      await assertServes(portico, 'healthy');
      for (const { closed } of connections) {
        const { answer, afterMs } = await within(closed, BODY_TIMEOUT_MS * 2 + CLOSE_SLACK_MS, 'a connection trickling its body is still open');
        assert.ok(afterMs < BODY_TIMEOUT_MS * 2 + CLOSE_SLACK_MS, `closed after ${afterMs} ms`);
        assertNoServerError(answer);
      }
      await portico.expectDescriptorsNear(baselineFds);
    });

    it('afterwards: still serving, descriptors back near baseline', async () => {
      await assertServes(portico, 'healthy');
      await portico.expectDescriptorsNear(baselineFds);
    });
  });
}
