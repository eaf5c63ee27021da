/**
 * An OTLP/HTTP trace receiver for benchmarks, run as its own process (the collector a traced
 * Portico exports to, so the export's cost is on Portico's side only):
 *   node bench/lib/otlp-sink-server.ts --port N
 *
 * POST /v1/traces: an OTLP/HTTP JSON export (ExportTraceServiceRequest, as
 * @opentelemetry/exporter-trace-otlp-http sends it); counts its spans and answers `{}` (a full
 * success, https://opentelemetry.io/docs/specs/otlp/#full-success-1). A body that is not JSON
 * (an exporter switched to protobuf) is counted as a request with unknown spans.
 * GET /counts: `{ "requests": n, "spans": n, "undecoded": n }`. GET /health answers 200.
 * Listens on 127.0.0.1 only. Exits when stdin closes.
 */
import { createServer, type ServerResponse } from 'node:http';
import { exitWhenParentGoes, readFlag } from './server-args.ts';

const port = Number(readFlag('port') ?? 0);
const counts = { requests: 0, spans: 0, undecoded: 0 };

type ExportRequest = { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };

function spansIn(body: string): number | undefined {
  try {
    const parsed = JSON.parse(body) as ExportRequest;
    let spans = 0;
    for (const resource of parsed.resourceSpans ?? []) for (const scope of resource.scopeSpans ?? []) spans += scope.spans?.length ?? 0;
    return spans;
  } catch {
    return undefined;
  }
}

function answer(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/health') return answer(res, 200, { status: 'ok' });
  if (req.method === 'GET' && req.url === '/counts') return answer(res, 200, counts);
  if (req.method !== 'POST' || req.url !== '/v1/traces') return answer(res, 404, { error: 'not found' });
  const parts: Buffer[] = [];
  req.on('data', (part: Buffer) => parts.push(part));
  req.on('end', () => {
    counts.requests += 1;
    const spans = spansIn(Buffer.concat(parts).toString('utf8'));
    if (spans === undefined) counts.undecoded += 1;
    else counts.spans += spans;
    answer(res, 200, {});
  });
});
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`otlp sink listening on ${typeof address === 'object' && address ? address.port : port}\n`);
});
exitWhenParentGoes();
