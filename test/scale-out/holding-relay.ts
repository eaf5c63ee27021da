/**
 * An HTTP relay in front of an upstream simulator that holds every request until the test lets
 * them through, so requests overlap for as long as a test needs, without timing: a test waits
 * until `held` requests are waiting upstream, checks what must hold while they are in flight,
 * then `releaseAll()` forwards them to the simulator, which answers as usual.
 *
 * A held request whose sender goes away (its connection closes) stops counting as held.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HoldingRelay {
  /** The relay's origin; append the upstream's path (`/v1`). */
  readonly origin: string;
  /** Requests that have arrived, held or not. */
  readonly arrived: number;
  /** Requests waiting now. */
  readonly held: number;
  /** Resolves once `count` requests have arrived in all (never rejects). */
  whenArrived(count: number): Promise<void>;
  /** Resolves once `count` requests are waiting (rejects after `timeoutMs`). */
  waitForHeld(count: number, timeoutMs?: number): Promise<void>;
  /** Forwards every waiting request; later ones are held again. */
  releaseAll(): void;
  close(): Promise<void>;
}

export async function startHoldingRelay(upstreamOrigin: string): Promise<HoldingRelay> {
  const upstream = new URL(upstreamOrigin);
  const agent = new http.Agent({ keepAlive: true });
  const waiting = new Set<() => void>();
  const watchers = new Set<() => void>();
  let arrived = 0;
  const changed = () => watchers.forEach((watcher) => watcher());
  const server = http.createServer((incoming, outgoing) => {
    arrived += 1;
    const forward = () => {
      waiting.delete(forward);
      const request = http.request({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host }, agent }, (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      });
      request.on('error', () => outgoing.destroy());
      incoming.pipe(request);
    };
    waiting.add(forward);
    outgoing.once('close', () => {
      if (waiting.delete(forward)) changed();
    });
    changed();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    get arrived() {
      return arrived;
    },
    get held() {
      return waiting.size;
    },
    whenArrived(count) {
      return new Promise<void>((resolve) => {
        const check = () => {
          if (arrived < count) return;
          watchers.delete(check);
          resolve();
        };
        watchers.add(check);
        check();
      });
    },
    waitForHeld(count, timeoutMs = 15_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (waiting.size < count) return;
          watchers.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`${waiting.size} requests held upstream after ${timeoutMs} ms, not ${count}`));
        }, timeoutMs);
        watchers.add(check);
        check();
      });
    },
    releaseAll() {
      for (const forward of [...waiting]) forward();
    },
    async close() {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
