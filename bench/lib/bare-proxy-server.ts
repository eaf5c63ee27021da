/**
 * The floor a Node gateway can reach: node:http server, JSON.parse of the body, pooled undici
 * request to the upstream, answer piped back. Nothing else (no auth, routing, metrics or logs).
 *   node bench/lib/bare-proxy-server.ts --port N --upstream http://127.0.0.1:P [--api-key sk-upstream]
 * Every POST goes to `${upstream}/v1/chat/completions`. GET /health answers 200.
 * Listens on 127.0.0.1 only. Exits when stdin closes.
 */
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';
import { exitWhenParentGoes, readFlag } from './server-args.ts';

const port = Number(readFlag('port') ?? 0);
const upstream = readFlag('upstream');
if (!upstream) throw new Error('--upstream http://127.0.0.1:PORT is required');
const authorization = `Bearer ${readFlag('api-key') ?? 'sk-upstream'}`;
const pool = new Pool(upstream, { connections: 256, pipelining: 1, keepAliveTimeout: 60_000 });

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') {
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
    return;
  }
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    let payload: unknown;
    try {
      payload = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"message":"invalid JSON"}}');
      return;
    }
    pool.request(
      {
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization },
        body: JSON.stringify(payload),
      },
      (error, data) => {
        if (error) {
          if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
          res.end('{"error":{"message":"upstream unreachable"}}');
          return;
        }
        // The load tool closes its connections mid-request when a run ends; pipeline() throws
        // synchronously on a destroyed destination.
        if (res.destroyed) {
          data.body.destroy();
          return;
        }
        res.writeHead(data.statusCode, { 'content-type': String(data.headers['content-type'] ?? 'application/json') });
        pipeline(data.body, res, () => {});
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`bare proxy listening on ${port}\n`);
});
exitWhenParentGoes();
