/**
 * A simulated model server for the batch benchmark, run as its own process:
 *   node bench/lib/batch-upstream-server.ts --port N [--latency-ms 50] [--api-key sk-upstream]
 *
 * POST .../chat/completions waits `latency-ms` (a model's time to answer; requests are served
 * concurrently, without a limit) and answers a chat.completion echoing the last user message,
 * with usage. GET /health answers 200; GET /stats answers `{ requests, maxInFlight, averageInFlight, arrivals }` (average over the time
 * from the first to the last request; `arrivals`: how evenly calls arrive, over the whole milliseconds
 * from the first to the last, as `{ p99PerMs, maxPerMs, idleMsShare }`, the p99 and most calls
 * arriving in one millisecond and the share of milliseconds with none: a batch whose calls travel
 * in waves reads a high p99 and most milliseconds idle); POST /stats/reset starts counting again.
 * `/stats` also answers `batchLines`: the epoch ms of the first batch line's arrival and of the last
 * batch line's answer (a batch line is a call whose last user message starts with "Question ", as
 * bench:batch writes them; live calls are not), so the bench can split create -> completed into
 * start, lines and finish.
 * A wrong `Authorization: Bearer <api-key>` answers 401. Listens on 127.0.0.1. Exits when stdin closes.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exitWhenParentGoes, readFlag } from './server-args.ts';

const port = Number(readFlag('port') ?? 0);
const latencyMs = Number(readFlag('latency-ms') ?? 50);
const expectedAuthorization = `Bearer ${readFlag('api-key') ?? 'sk-upstream'}`;

let requests = 0;
let inFlight = 0;
let maxInFlight = 0;
/** Sum over time of the requests in flight (request-ms), for the average concurrency. */
let inFlightMs = 0;
let changedAt = 0;
let firstAt = 0;
let lastAt = 0;
/** First batch line's arrival and last batch line's answer, epoch ms (0: none yet). */
let firstLineArrivedAt = 0;
let lastLineAnsweredAt = 0;
/** Calls arrived per whole millisecond (epoch ms) since the last reset. */
let arrivalsPerMs = new Map<number, number>();

function recordArrival(): void {
  const ms = Date.now();
  arrivalsPerMs.set(ms, (arrivalsPerMs.get(ms) ?? 0) + 1);
}

function arrivalSpread(): { p99PerMs: number; maxPerMs: number; idleMsShare: number } {
  if (arrivalsPerMs.size === 0) return { p99PerMs: 0, maxPerMs: 0, idleMsShare: 0 };
  const stamps = [...arrivalsPerMs.keys()];
  const from = Math.min(...stamps);
  const span = Math.max(...stamps) - from + 1;
  const perMs = new Array<number>(span).fill(0);
  for (const [ms, count] of arrivalsPerMs) perMs[ms - from] = count;
  perMs.sort((a, b) => a - b);
  return { p99PerMs: perMs[Math.min(span - 1, Math.floor(span * 0.99))], maxPerMs: perMs[span - 1], idleMsShare: perMs.filter((count) => count === 0).length / span };
}

function track(delta: number): void {
  const now = performance.now();
  if (firstAt === 0) firstAt = now;
  if (changedAt > 0) inFlightMs += inFlight * (now - changedAt);
  changedAt = now;
  lastAt = now;
  inFlight += delta;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-request-id': `req_bench_${requests}` });
  res.end(text);
}

function lastUserText(body: { messages?: Array<{ role?: string; content?: unknown }> }): string {
  const messages = body.messages ?? [];
  for (let i = messages.length - 1; i >= 0; i--) if (messages[i].role === 'user' && typeof messages[i].content === 'string') return messages[i].content as string;
  return '';
}

function answer(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  if (req.method === 'GET' && req.url === '/health') return sendJson(res, 200, { status: 'ok' });
  if (req.method === 'POST' && req.url === '/stats/reset') {
    requests = 0;
    maxInFlight = inFlight;
    inFlightMs = 0;
    firstAt = 0;
    changedAt = 0;
    arrivalsPerMs = new Map();
    firstLineArrivedAt = 0;
    lastLineAnsweredAt = 0;
    return sendJson(res, 200, { reset: true });
  }
  if (req.method === 'GET' && req.url === '/stats') return sendJson(res, 200, { requests, maxInFlight, averageInFlight: lastAt > firstAt ? inFlightMs / (lastAt - firstAt) : 0, arrivals: arrivalSpread(), batchLines: { firstArrivedAt: firstLineArrivedAt, lastAnsweredAt: lastLineAnsweredAt } });
  if (req.method !== 'POST' || !req.url?.split('?')[0].endsWith('/chat/completions')) {
    return sendJson(res, 404, { error: { message: `no route ${req.method} ${req.url}`, type: 'invalid_request_error', param: null, code: null } });
  }
  if (req.headers.authorization !== expectedAuthorization) {
    return sendJson(res, 401, { error: { message: 'Incorrect API key provided.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } });
  }
  let body: { model?: string; messages?: Array<{ role?: string; content?: unknown }> };
  try {
    body = JSON.parse(raw.toString('utf8'));
  } catch {
    return sendJson(res, 400, { error: { message: 'We could not parse the JSON body of your request.', type: 'invalid_request_error', param: null, code: null } });
  }
  requests += 1;
  recordArrival();
  const batchLine = lastUserText(body).startsWith('Question ');
  if (batchLine && firstLineArrivedAt === 0) firstLineArrivedAt = Date.now();
  track(1);
  maxInFlight = Math.max(maxInFlight, inFlight);
  setTimeout(() => {
    track(-1);
    if (batchLine) lastLineAnsweredAt = Date.now();
    const content = `Answer to: ${lastUserText(body).slice(0, 100)}`;
    sendJson(res, 200, {
      id: `chatcmpl-bench-${requests}`,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model: body.model ?? 'bench-model',
      choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: 'stop' }],
      usage: { prompt_tokens: 12, completion_tokens: 8, total_tokens: 20 },
    });
  }, latencyMs);
}

const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => answer(req, res, parts.length === 1 ? parts[0] : Buffer.concat(parts)));
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`batch upstream listening on ${typeof address === 'object' && address ? address.port : port}\n`);
});
exitWhenParentGoes();
