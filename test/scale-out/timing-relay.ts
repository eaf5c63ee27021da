/**
 * An HTTP relay in front of an upstream simulator that records when each request started and
 * when its answer ended, and which instance sent it, so a test can tell whether two instances
 * worked the same object at the same time (the simulators log arrivals only).
 *
 * Instances are told apart by the path: give instance `a` the `api_base` `<origin>/via/a/v1`;
 * the relay strips `/via/a` and records `instance: 'a'`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TimedRequest {
  method: string;
  /** Path and query, as forwarded (without `/via/<instance>`). */
  path: string;
  /** From `/via/<instance>/...`; undefined without it. */
  instance: string | undefined;
  startedAt: number;
  /** When the answer ended (or the exchange broke). */
  endedAt: number;
  status: number;
  headers: http.IncomingHttpHeaders;
}

export interface TimingRelay {
  /** The relay's origin; append the upstream's path (`/v1`). */
  readonly origin: string;
  readonly requests: TimedRequest[];
  close(): Promise<void>;
}

export async function startTimingRelay(upstreamOrigin: string): Promise<TimingRelay> {
  const upstream = new URL(upstreamOrigin);
  const requests: TimedRequest[] = [];
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((incoming, outgoing) => {
    const startedAt = performance.now();
    const via = /^\/via\/([^/]+)(\/.*)$/.exec(incoming.url ?? '/');
    const instance = via?.[1];
    const path = via?.[2] ?? incoming.url ?? '/';
    const record = (status: number) => requests.push({ method: incoming.method ?? 'GET', path, instance, startedAt, endedAt: performance.now(), status, headers: incoming.headers });
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: incoming.method, path, headers: { ...incoming.headers, host: upstream.host }, agent },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
        answer.on('end', () => record(answer.statusCode ?? 502));
      },
    );
    forward.on('error', () => {
      record(502);
      outgoing.destroy();
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      server.closeAllConnections();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Pairs of requests with the same `keyOf` (undefined: ignored) whose [start, end] overlap. */
export function overlappingRequests(requests: readonly TimedRequest[], keyOf: (request: TimedRequest) => string | undefined): Array<[TimedRequest, TimedRequest]> {
  const byKey = new Map<string, TimedRequest[]>();
  for (const request of requests) {
    const key = keyOf(request);
    if (key === undefined) continue;
    const list = byKey.get(key) ?? [];
    list.push(request);
    byKey.set(key, list);
  }
  const overlaps: Array<[TimedRequest, TimedRequest]> = [];
  for (const list of byKey.values()) {
    const sorted = [...list].sort((a, b) => a.startedAt - b.startedAt);
    let latest = sorted[0];
    for (const request of sorted.slice(1)) {
      if (request.startedAt < latest.endedAt) overlaps.push([latest, request]);
      if (request.endedAt > latest.endedAt) latest = request;
    }
  }
  return overlaps;
}
