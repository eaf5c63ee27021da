/**
 * The HTTP plumbing every upstream simulator shares: a `node:http` server on 127.0.0.1, a route
 * table, the request log, fault injection (`failNext`) and added latency.
 *
 * Deliberately built on `node:http` only, so the simulators share no code or framework with the
 * gateway they test. Provider-specific behaviour (auth, error shapes, routes) is passed in as a
 * `SimulatorServerConfig` by each `*-simulator.ts`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request as the simulator received it (kept in `requests`, in arrival order). */
export interface SimulatorRequestLog {
  method: string;
  /** Path without the query string, e.g. `/v1/files/file-abc`. */
  path: string;
  /** Query parameters (first value of each name). */
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  bodyBytes: number;
  /** The parsed body when the request declared a JSON content type and it parsed. */
  json?: unknown;
  /** The body of a `multipart/form-data` request up to `MAX_LOGGED_FORM_BYTES`, for tests that check what a form carried. */
  form?: Buffer;
}

const MAX_LOGGED_FORM_BYTES = 1024 * 1024;

export interface FailNextOptions {
  /** How many matching requests fail (default 1). */
  count?: number;
  status: number;
  /** Body to answer; an object is sent as JSON, a string as-is. Default: the provider's own error for `status`. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Only requests matching this fail (and count down). Default: every request. */
  match?: { method?: string; path?: RegExp };
  /**
   * Handle the request first (whatever it creates is created), then answer the failure: an
   * upstream whose answer was lost after it acted (a gateway's 502, a reset after the commit).
   */
  afterHandling?: boolean;
}

export interface SlowNextOptions {
  /** How many matching requests are slowed (default 1). */
  count?: number;
  /** Added wait before the request is handled as usual (it is handled even if the caller gave up). */
  ms: number;
  match?: { method?: string; path?: RegExp };
}

/** What every simulator exposes. */
export interface BaseSimulator {
  url: string;
  close(): Promise<void>;
  requests: SimulatorRequestLog[];
  failNext(opts: FailNextOptions): void;
  /** Delays matching requests, then handles them: an upstream that answers after its caller timed out. */
  slowNext(opts: SlowNextOptions): void;
  setLatency(ms: number): void;
  advanceBatches(): Promise<void>;
}

/** A request as handed to a route handler. */
export interface SimRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  /** Byte length actually received (may exceed `body.length` when the body was too large to keep). */
  bodyBytes: number;
  bodyTooLarge: boolean;
  /** `undefined` when the content type is not JSON; `jsonError` set when it is JSON but does not parse. */
  json: unknown;
  jsonError: boolean;
  /** Headers the server will add to the answer (request id etc.), decided before the handler runs. */
  responseHeaders: Record<string, string>;
}

/** What a handler answers. `sse` frames are written one by one, each already formatted (`data: ...\n\n`). */
export type SimReply =
  | { status: number; json: unknown; headers?: Record<string, string> }
  | { status: number; raw: Buffer | string; headers?: Record<string, string> }
  | { status: number; sse: Iterable<string> | AsyncIterable<string>; headers?: Record<string, string> }
  /** Binary frames written one by one (AWS event streams); `headers` name the content type. */
  | { status: number; frames: Iterable<Uint8Array> | AsyncIterable<Uint8Array>; headers?: Record<string, string> };

export interface SimRoute {
  method: string;
  /** Anchored path pattern; capture groups are passed to `handle`. */
  path: RegExp;
  handle(req: SimRequest, params: string[]): SimReply | Promise<SimReply>;
}

export interface SimulatorServerConfig {
  port?: number;
  routes: SimRoute[];
  /** Answer when no route matches (each provider has its own 404). */
  notFound(req: SimRequest): SimReply;
  /** `null` when the request may proceed, otherwise the provider's 401 (or 400 for a missing version header). */
  authenticate(req: SimRequest): SimReply | null;
  /** Default body for `failNext` when the test gives none (also used for an unexpected handler crash). */
  failureBody(status: number, req?: SimRequest): unknown;
  /** Headers added to every answer, e.g. a fresh request id. */
  responseHeaders(req: Pick<SimRequest, 'method' | 'path' | 'headers'>): Record<string, string>;
  /** Bodies above this are counted but not kept (`bodyTooLarge`). Default 600 MB. */
  maxBodyBytes?: number;
}

export interface SimulatorServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  requests: SimulatorRequestLog[];
  failNext(opts: FailNextOptions): void;
  slowNext(opts: SlowNextOptions): void;
  setLatency(ms: number): void;
  close(): Promise<void>;
}

interface PendingFailure {
  remaining: number;
  opts: FailNextOptions;
}

const DEFAULT_MAX_BODY = 600 * 1024 * 1024;

export async function startSimulatorServer(config: SimulatorServerConfig): Promise<SimulatorServer> {
  const requests: SimulatorRequestLog[] = [];
  const failures: PendingFailure[] = [];
  const slowdowns: Array<{ remaining: number; opts: SlowNextOptions }> = [];
  let latencyMs = 0;
  const maxBody = config.maxBodyBytes ?? DEFAULT_MAX_BODY;

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify(config.failureBody(500)));
      } else {
        res.destroy(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) if (!(k in query)) query[k] = v;
    const { body, bodyBytes, tooLarge } = await readBody(req, maxBody);
    const method = (req.method ?? 'GET').toUpperCase();
    const contentType = String(req.headers['content-type'] ?? '');
    let json: unknown = undefined;
    let jsonError = false;
    if (/json/i.test(contentType) && body.length > 0 && !tooLarge) {
      try {
        json = JSON.parse(body.toString('utf8'));
      } catch {
        jsonError = true;
      }
    }
    const entry: SimulatorRequestLog = { method, path: url.pathname, query, headers: { ...req.headers }, bodyBytes };
    if (json !== undefined) entry.json = json;
    if (/^multipart\/form-data/i.test(contentType) && !tooLarge && body.length <= MAX_LOGGED_FORM_BYTES) entry.form = body;
    requests.push(entry);

    const base = { method, path: url.pathname, headers: req.headers };
    const simReq: SimRequest = {
      ...base,
      query,
      body,
      bodyBytes,
      bodyTooLarge: tooLarge,
      json,
      jsonError,
      responseHeaders: config.responseHeaders(base),
    };

    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const slow = slowdowns.find((d) => d.remaining > 0 && matches(d.opts.match, method, url.pathname));
    if (slow) {
      slow.remaining--;
      await new Promise((r) => setTimeout(r, slow.opts.ms));
    }

    const failure = takeFailure(method, url.pathname);
    if (failure?.afterHandling) {
      const route = config.routes.find((r) => r.method === method && r.path.test(url.pathname));
      if (route) await route.handle(simReq, route.path.exec(url.pathname)!.slice(1).map((p) => decodeURIComponent(p)));
    }
    if (failure) {
      const body = failure.body === undefined ? config.failureBody(failure.status, simReq) : failure.body;
      const reply: SimReply =
        typeof body === 'string' || Buffer.isBuffer(body)
          ? { status: failure.status, raw: body, headers: failure.headers }
          : { status: failure.status, json: body, headers: failure.headers };
      await send(res, simReq, reply);
      return;
    }

    const denied = config.authenticate(simReq);
    if (denied) {
      await send(res, simReq, denied);
      return;
    }
    for (const route of config.routes) {
      if (route.method !== method) continue;
      const m = route.path.exec(url.pathname);
      if (!m) continue;
      const reply = await route.handle(simReq, m.slice(1).map((p) => decodeURIComponent(p)));
      await send(res, simReq, reply);
      return;
    }
    await send(res, simReq, config.notFound(simReq));
  }

  function matches(match: { method?: string; path?: RegExp } | undefined, method: string, path: string): boolean {
    if (match?.method && match.method.toUpperCase() !== method) return false;
    return !match?.path || match.path.test(path);
  }

  function takeFailure(method: string, path: string): FailNextOptions | null {
    for (const f of failures) {
      if (f.remaining <= 0) continue;
      if (f.opts.match?.method && f.opts.match.method.toUpperCase() !== method) continue;
      if (f.opts.match?.path && !f.opts.match.path.test(path)) continue;
      f.remaining--;
      return f.opts;
    }
    return null;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    failNext(opts) {
      failures.push({ remaining: opts.count ?? 1, opts });
    },
    slowNext(opts) {
      slowdowns.push({ remaining: opts.count ?? 1, opts });
    },
    setLatency(ms) {
      latencyMs = Math.max(0, ms);
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function readBody(
  req: http.IncomingMessage,
  max: number,
): Promise<{ body: Buffer; bodyBytes: number; tooLarge: boolean }> {
  const chunks: Buffer[] = [];
  let bodyBytes = 0;
  let tooLarge = false;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    bodyBytes += buf.length;
    if (bodyBytes > max) {
      tooLarge = true;
      chunks.length = 0;
      continue;
    }
    chunks.push(buf);
  }
  return { body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks), bodyBytes, tooLarge };
}

async function send(res: http.ServerResponse, req: SimRequest, reply: SimReply): Promise<void> {
  const headers: Record<string, string> = { ...req.responseHeaders, ...(reply.headers ?? {}) };
  if ('json' in reply) {
    const text = JSON.stringify(reply.json);
    res.writeHead(reply.status, { 'content-type': 'application/json', ...headers, 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
    return;
  }
  if ('raw' in reply) {
    const buf = typeof reply.raw === 'string' ? Buffer.from(reply.raw) : reply.raw;
    res.writeHead(reply.status, { 'content-type': 'application/octet-stream', ...headers, 'content-length': String(buf.length) });
    res.end(buf);
    return;
  }
  if ('frames' in reply) {
    res.writeHead(reply.status, { 'content-type': 'application/octet-stream', ...headers });
    for await (const frame of reply.frames) {
      if (res.destroyed) return;
      res.write(frame);
      await new Promise((r) => setImmediate(r));
    }
    res.end();
    return;
  }
  res.writeHead(reply.status, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
  for await (const frame of reply.sse) {
    if (res.destroyed) return;
    res.write(frame);
    // Yield so that frames leave as separate network chunks, as a real stream would.
    await new Promise((r) => setImmediate(r));
  }
  res.end();
}

/** Format one SSE frame. */
export function sseFrame(data: string, event?: string): string {
  return (event ? `event: ${event}\n` : '') + `data: ${data}\n\n`;
}

/** The key in `Authorization: Bearer <key>`, trimmed; `undefined` when there is none. */
export function bearerToken(req: SimRequest): string | undefined {
  return /^Bearer\s+(.+)$/i.exec(String(req.headers.authorization ?? ''))?.[1]?.trim();
}

/** Calls `step` every `stepMs` (when set) without keeping the process alive; returns what stops it. */
export function everyStep(stepMs: number | undefined, step: () => unknown): () => void {
  const timer = stepMs ? setInterval(() => void step(), stepMs) : undefined;
  timer?.unref();
  return () => {
    if (timer) clearInterval(timer);
  };
}
