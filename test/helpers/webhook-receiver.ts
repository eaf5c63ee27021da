/**
 * A webhook receiver for tests: a real HTTP server on 127.0.0.1 that records every request and
 * answers what `answer` says (default 200), after `delayMs`. Stopped, its port refuses
 * connections; `start(port)` brings it back on the same port.
 *
 *   const receiver = new WebhookReceiver(); await receiver.start();
 *   receiver.answer = () => 503;                 // fails until told otherwise
 *   receiver.eventsOf('batch.completed')         // parsed bodies of that type
 *   receiver.uniqueEvents()                      // what a receiver deduplicating by webhook-id keeps
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
}

export interface ReceivedEvent {
  object: string;
  id: string;
  type: string;
  created_at: number;
  data: { id: string };
}

export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  answer: (request: ReceivedWebhook) => number = () => 200;
  delayMs = 0;
  /** The most requests with one `webhook-id` in progress at once (two instances must never overlap). */
  maxConcurrentPerId = 0;
  readonly #inProgress = new Map<string, number>();
  #server: Server | undefined;
  port = 0;

  async start(port = 0): Promise<void> {
    this.#server = createServer((req, res) => {
      const id = String(req.headers['webhook-id']);
      const concurrent = (this.#inProgress.get(id) ?? 0) + 1;
      this.#inProgress.set(id, concurrent);
      this.maxConcurrentPerId = Math.max(this.maxConcurrentPerId, concurrent);
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        const request = { headers: req.headers, body: Buffer.concat(parts).toString('utf8') };
        this.received.push(request);
        setTimeout(() => {
          this.#inProgress.set(id, (this.#inProgress.get(id) ?? 1) - 1);
          if (res.destroyed) return;
          res.statusCode = this.answer(request);
          res.end('ok');
        }, this.delayMs).unref();
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  events(): ReceivedEvent[] {
    return this.received.map((r) => JSON.parse(r.body) as ReceivedEvent);
  }

  eventsOf(type: string): ReceivedEvent[] {
    return this.events().filter((event) => event.type === type);
  }

  /** What a receiver that deduplicates by `webhook-id` keeps: one per id, in arrival order. */
  uniqueEvents(): ReceivedEvent[] {
    const seen = new Map<string, ReceivedEvent>();
    for (const request of this.received) {
      const id = String(request.headers['webhook-id']);
      if (!seen.has(id)) seen.set(id, JSON.parse(request.body) as ReceivedEvent);
    }
    return [...seen.values()];
  }
}

/** A port nothing listens on (a moment ago): connections to it are refused. */
export async function refusingPort(): Promise<number> {
  const probe = new WebhookReceiver();
  await probe.start();
  const port = probe.port;
  await probe.stop();
  return port;
}
