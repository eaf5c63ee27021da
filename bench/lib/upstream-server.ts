/**
 * Minimal OpenAI-like upstream for benchmarks, run as its own process:
 *   node bench/lib/upstream-server.ts --port N [--api-key sk-upstream] [--processes K]
 *
 * POST .../chat/completions answers a fixed chat.completion JSON, or with `"stream": true` a few
 * SSE chunks and `data: [DONE]` (no delay between chunks: the bench measures the gateways, not a
 * simulated model). A wrong `Authorization: Bearer <api-key>` answers 401, so a proxy that fails
 * to forward credentials shows up as errors, not as a fast run. GET /health answers 200.
 * Listens on 127.0.0.1 only. Exits when stdin closes.
 *
 * `--processes K` (default 1): K processes share the port (node:cluster), so that an upstream on
 * one core is not what limits a gateway running on several (bench:scale). The primary then only
 * forks and hands out connections; its workers exit with it (cluster's IPC channel closes).
 */
import cluster from 'node:cluster';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exitWhenParentGoes, readFlag } from './server-args.ts';

const port = Number(readFlag('port') ?? 0);
const expectedAuthorization = `Bearer ${readFlag('api-key') ?? 'sk-upstream'}`;

const created = 1_700_000_000;
const completionBody = Buffer.from(
  JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model: 'bench-model',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: 'Hello from the benchmark upstream.', refusal: null },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: { prompt_tokens: 9, completion_tokens: 7, total_tokens: 16 },
    system_fingerprint: 'fp_bench',
  }),
);

function chunk(delta: Record<string, unknown>, finishReason: string | null): Buffer {
  const payload = {
    id: 'chatcmpl-bench',
    object: 'chat.completion.chunk',
    created,
    model: 'bench-model',
    system_fingerprint: 'fp_bench',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  return Buffer.from(`data: ${JSON.stringify(payload)}\n\n`);
}

const streamChunks: Buffer[] = [
  chunk({ role: 'assistant', content: '' }, null),
  chunk({ content: 'Hello' }, null),
  chunk({ content: ' from the' }, null),
  chunk({ content: ' benchmark upstream.' }, null),
  chunk({}, 'stop'),
  Buffer.from('data: [DONE]\n\n'),
];

function sendJson(res: ServerResponse, status: number, body: Buffer): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

function errorBody(message: string, type: string): Buffer {
  return Buffer.from(JSON.stringify({ error: { message, type, param: null, code: null } }));
}

function handle(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  if (req.method === 'GET' && req.url === '/health') {
    sendJson(res, 200, Buffer.from('{"status":"ok"}'));
    return;
  }
  if (req.method !== 'POST' || !req.url?.split('?')[0].endsWith('/chat/completions')) {
    sendJson(res, 404, errorBody(`no route ${req.method} ${req.url}`, 'invalid_request_error'));
    return;
  }
  if (req.headers.authorization !== expectedAuthorization) {
    sendJson(res, 401, errorBody('Incorrect API key provided.', 'invalid_request_error'));
    return;
  }
  let stream = false;
  try {
    stream = (JSON.parse(raw.toString('utf8')) as { stream?: unknown }).stream === true;
  } catch {
    sendJson(res, 400, errorBody('We could not parse the JSON body of your request.', 'invalid_request_error'));
    return;
  }
  if (!stream) {
    sendJson(res, 200, completionBody);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const piece of streamChunks) res.write(piece);
  res.end();
}

const processes = Math.max(1, Number(readFlag('processes') ?? 1));

if (processes > 1 && cluster.isPrimary) {
  for (let i = 0; i < processes; i += 1) cluster.fork();
  let listening = 0;
  cluster.on('listening', (_worker, address) => {
    listening += 1;
    if (listening === processes) process.stdout.write(`upstream listening on ${address.port} (${processes} processes)\n`);
  });
  exitWhenParentGoes();
} else {
  serve();
}

function serve(): void {
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => handle(req, res, parts.length === 1 ? parts[0] : Buffer.concat(parts)));
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, '127.0.0.1', () => {
    const address = server.address();
    if (cluster.isPrimary) process.stdout.write(`upstream listening on ${typeof address === 'object' && address ? address.port : port}\n`);
  });
  // A cluster worker goes with its primary (cluster exits it when the IPC channel closes).
  if (cluster.isPrimary) exitWhenParentGoes();
}
