/**
 * The upstream of the soak, run as its own process:
 *   node bench/lib/soak-upstream-server.ts --port N [--fault-rate 0.05] [--batch-step-ms 300]
 *
 * The OpenAI simulator of the tests (`test/simulators/openai-simulator.ts`: chat, streams, the
 * Files API and a native Batch API whose batches advance every `batch-step-ms`) behind a relay
 * that injects faults into chat completions: a `fault-rate` share of them is answered, in equal
 * parts, with a 500 (OpenAI's envelope), a 429 (`retry-after-ms: 100`) or a connection reset, all
 * before the simulator sees the request; everything else is relayed unchanged. So a request the
 * simulator answered is one the model ran.
 *
 * GET /soak/health answers 200. GET /soak/stats answers `{ forwarded, faults: {500, 429, reset},
 * executions: {custom id: count} }`, where executions counts the chat requests the simulator
 * answered 200 whose last user text starts with `soak-` (the soak's emulated batch lines carry
 * their custom id as that text). Listens on 127.0.0.1. Exits when stdin closes.
 */
import http from 'node:http';
import { request } from 'undici';
import { startOpenAISimulator } from '../../test/simulators/openai-simulator.ts';
import { exitWhenParentGoes, readFlag } from './server-args.ts';

const port = Number(readFlag('port') ?? 0);
const faultRate = Number(readFlag('fault-rate') ?? 0.05);
const simulator = await startOpenAISimulator({ batchStepMs: Number(readFlag('batch-step-ms') ?? 300) });

const faults = { 500: 0, 429: 0, reset: 0 };
const executions: Record<string, number> = {};
let forwarded = 0;

function lineIdOf(body: Buffer): string | undefined {
  try {
    const messages = (JSON.parse(body.toString('utf8')) as { messages?: Array<{ content?: unknown }> }).messages ?? [];
    const text = messages.at(-1)?.content;
    return typeof text === 'string' && text.startsWith('soak-') ? text : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const server = http.createServer((req, res) => {
  void handle(req, res).catch(() => res.destroy());
});

async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const path = req.url ?? '/';
  if (path === '/soak/health') return void res.writeHead(200).end('ok');
  if (path === '/soak/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ forwarded, faults, executions }));
  }
  const body = await readBody(req);
  const isChat = req.method === 'POST' && path.endsWith('/chat/completions');
  if (isChat && Math.random() < faultRate) {
    const kind = (['500', '429', 'reset'] as const)[Math.floor(Math.random() * 3)];
    faults[kind] += 1;
    if (kind === 'reset') return void req.socket.destroy();
    const status = Number(kind);
    const error = { error: { message: status === 429 ? 'Rate limit reached (injected by the soak).' : 'The server had an error (injected by the soak).', type: status === 429 ? 'requests' : 'server_error', param: null, code: null } };
    res.writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after-ms': '100' } : {}) });
    return void res.end(JSON.stringify(error));
  }
  forwarded += 1;
  const headers = { ...req.headers };
  delete headers.host;
  delete headers['content-length'];
  const upstream = await request(`${simulator.origin}${path}`, { method: req.method as 'GET', headers, body: body.length > 0 ? body : undefined });
  if (isChat && upstream.statusCode === 200) {
    const line = lineIdOf(body);
    if (line !== undefined) executions[line] = (executions[line] ?? 0) + 1;
  }
  const responseHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && name !== 'transfer-encoding' && name !== 'connection' && name !== 'keep-alive') responseHeaders[name] = value;
  }
  res.writeHead(upstream.statusCode, responseHeaders);
  for await (const chunk of upstream.body) res.write(chunk);
  res.end();
}

server.listen(port, '127.0.0.1');
exitWhenParentGoes();
