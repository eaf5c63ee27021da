/**
 * Issue 14, tracing: a Portico process with the standard OTEL_* variables exports spans over
 * OTLP/HTTP to a receiver started by the test, which decodes them (OTLP JSON). A request with a
 * client's `traceparent` continues the client's trace; auth and the upstream attempt are spans
 * inside it, the attempt with the GenAI semantic conventions' attributes, and its `traceparent`
 * reaches the upstream. A stream's request span lasts until its last byte. Off, no OpenTelemetry
 * module is loaded (checked on the import graph).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseConfig } from '../../src/config/load-config.ts';
import { tracingWanted } from '../../src/observability/tracing.ts';
import { REPO_ROOT, spawnPortico, type PorticoProcess } from '../scale-out/portico-process.ts';

const MASTER_KEY = 'sk-tracing-master-0123456789';
const CLIENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CLIENT_SPAN_ID = '00f067aa0ba902b7';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Array<{ key: string; value: { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number } }>;
}

function attributesOf(span: OtlpSpan): Record<string, string | number | boolean | undefined> {
  return Object.fromEntries(span.attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.boolValue ?? value.doubleValue))]));
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function until(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('OpenTelemetry traces over OTLP/HTTP', () => {
  const spans: OtlpSpan[] = [];
  const upstreamHeaders: IncomingHttpHeaders[] = [];
  let lastStreamChunkAtNs = 0n;
  let receiver: Server;
  let upstream: Server;
  let portico: PorticoProcess;
  let dir: string;

  before(async () => {
    receiver = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        if (req.url === '/v1/traces' && String(req.headers['content-type']).includes('json')) {
          const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
          for (const resource of body.resourceSpans) for (const scope of resource.scopeSpans) spans.push(...scope.spans);
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    upstream = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        upstreamHeaders.push(req.headers);
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { stream?: boolean; model: string };
        if (body.stream) {
          res.writeHead(200, { 'content-type': 'text/event-stream' });
          let sent = 0;
          const timer = setInterval(() => {
            if (sent < 4) {
              res.write(`data: ${JSON.stringify({ id: 'chatcmpl-s', object: 'chat.completion.chunk', created: 1, model: body.model, choices: [{ index: 0, delta: { content: `part ${sent} ` }, finish_reason: null }] })}\n\n`);
              sent += 1;
              return;
            }
            clearInterval(timer);
            lastStreamChunkAtNs = BigInt(Date.now()) * 1_000_000n;
            res.end('data: [DONE]\n\n');
          }, 60);
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-traced',
            object: 'chat.completion',
            created: 1,
            model: `${body.model}-2025`,
            choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'stop' }],
            usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
          }),
        );
      });
    });
    const receiverPort = await listen(receiver);
    const upstreamPort = await listen(upstream);
    dir = await mkdtemp(join(tmpdir(), 'portico-tracing-'));
    const configPath = join(dir, 'config.yaml');
    await writeFile(
      configPath,
      `model_list:
  - model_name: traced
    litellm_params: { model: hosted_vllm/llama-traced, api_base: "http://127.0.0.1:${upstreamPort}/v1", api_key: sk-upstream }
general_settings:
  master_key: ${MASTER_KEY}
`,
    );
    portico = await spawnPortico({
      configPath,
      masterKey: MASTER_KEY,
      name: 'traced',
      env: { DATABASE_URL: `file:${join(dir, 'p.db')}`, OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiverPort}`, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_SERVICE_NAME: 'portico-under-test' },
    });
  });
  after(async () => {
    await portico?.stop();
    receiver?.close();
    upstream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("a request continues the client's trace; auth and the upstream attempt are spans in it; the attempt's traceparent reaches the upstream", async () => {
    const answer = await portico.client().chat.completions.create(
      { model: 'traced', messages: [{ role: 'user', content: 'hello' }] },
      { headers: { traceparent: `00-${CLIENT_TRACE_ID}-${CLIENT_SPAN_ID}-01` } },
    );
    assert.equal(answer.choices[0].message.content, 'hi');
    await until('the request span is exported', () => spans.some((span) => span.traceId === CLIENT_TRACE_ID && span.name === 'POST /v1/chat/completions'));
    const inTrace = spans.filter((span) => span.traceId === CLIENT_TRACE_ID);
    const request = inTrace.find((span) => span.name === 'POST /v1/chat/completions')!;
    assert.equal(request.parentSpanId, CLIENT_SPAN_ID, "the client's span is the request span's parent");
    assert.equal(request.kind, 2, 'SERVER');
    assert.equal(attributesOf(request)['http.response.status_code'], 200);
    assert.equal(attributesOf(request)['http.route'], '/v1/chat/completions');
    await until('the auth and attempt spans are exported', () => spans.filter((span) => span.traceId === CLIENT_TRACE_ID).length >= 3);
    const auth = spans.find((span) => span.traceId === CLIENT_TRACE_ID && span.name === 'auth')!;
    assert.equal(auth.parentSpanId, request.spanId);
    assert.equal(attributesOf(auth)['portico.master_key'], true);
    const attempt = spans.find((span) => span.traceId === CLIENT_TRACE_ID && span.name === 'chat llama-traced')!;
    assert.equal(attempt.parentSpanId, request.spanId);
    assert.equal(attempt.kind, 3, 'CLIENT');
    const attrs = attributesOf(attempt);
    assert.equal(attrs['gen_ai.operation.name'], 'chat');
    assert.equal(attrs['gen_ai.system'], 'hosted_vllm');
    assert.equal(attrs['gen_ai.request.model'], 'llama-traced');
    assert.equal(attrs['gen_ai.response.model'], 'llama-traced-2025');
    assert.equal(attrs['gen_ai.usage.input_tokens'], 11);
    assert.equal(attrs['gen_ai.usage.output_tokens'], 3);
    const sent = upstreamHeaders.at(-1)!.traceparent;
    assert.equal(sent, `00-${CLIENT_TRACE_ID}-${attempt.spanId}-01`, 'the upstream is called inside the attempt span');
  });

  test("a streamed request's span ends with the stream's last byte", async () => {
    const stream = await portico.client().chat.completions.create({ model: 'traced', messages: [{ role: 'user', content: 'stream' }], stream: true });
    let chunks = 0;
    for await (const _ of stream) chunks += 1;
    assert.equal(chunks, 4);
    const before = spans.length;
    await until('a new request span is exported', () => spans.slice(before).some((span) => span.name === 'POST /v1/chat/completions') || spans.some((span) => span.name === 'POST /v1/chat/completions' && BigInt(span.endTimeUnixNano) >= lastStreamChunkAtNs - 5_000_000n));
    const streamed = spans.filter((span) => span.name === 'POST /v1/chat/completions').at(-1)!;
    // The last chunk's time is read in the test's process at millisecond precision.
    assert.ok(BigInt(streamed.endTimeUnixNano) >= lastStreamChunkAtNs - 2_000_000n, 'the span outlasts the stream');
  });
});

test('tracing is on with an OTLP endpoint, OTEL_TRACES_EXPORTER=otlp or LiteLLM callbacks: ["otel"]; OTEL_SDK_DISABLED wins', () => {
  assert.equal(tracingWanted({}, { otelCallback: false }), false);
  assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, { otelCallback: false }), true);
  assert.equal(tracingWanted({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, { otelCallback: false }), true);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'otlp' }, { otelCallback: false }), true);
  assert.equal(tracingWanted({}, { otelCallback: true }), true);
  assert.equal(tracingWanted({ OTEL_SDK_DISABLED: 'true' }, { otelCallback: true }), false);
  assert.equal(tracingWanted({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x' }, { otelCallback: false }), false);
  const config = parseConfig('model_list: [{model_name: m, litellm_params: {model: mock/m}}]\nlitellm_settings:\n  callbacks: ["otel", "datadog"]\n');
  assert.equal(config.otelCallback, true);
  assert.ok(config.warnings.some((warning) => warning.includes('litellm_settings.callbacks[1]') && warning.includes('"datadog" is not supported')));
});

test("LiteLLM's langfuse_otel (and langfuse) callbacks: Langfuse's OTLP endpoint with Basic auth, its host from LANGFUSE_OTEL_HOST or LANGFUSE_HOST, LiteLLM's defaults", () => {
  const entry = 'model_list: [{model_name: m, litellm_params: {model: mock/m}}]\n';
  const keys = { LANGFUSE_PUBLIC_KEY: 'pk-lf-1', LANGFUSE_SECRET_KEY: 'sk-lf-2' };
  const basic = `Basic ${Buffer.from('pk-lf-1:sk-lf-2').toString('base64')}`;
  const otel = parseConfig(`${entry}litellm_settings: {callbacks: [langfuse_otel]}\n`, keys);
  assert.deepEqual(otel.langfuseTraces, { url: 'https://us.cloud.langfuse.com/api/public/otel/v1/traces', headers: { authorization: basic } });
  assert.equal(otel.otelCallback, false);
  assert.deepEqual(otel.warnings, []);
  const selfHosted = parseConfig(`${entry}litellm_settings: {success_callback: [langfuse_otel]}\n`, { ...keys, LANGFUSE_OTEL_HOST: 'https://lf.internal/' });
  assert.equal(selfHosted.langfuseTraces?.url, 'https://lf.internal/api/public/otel/v1/traces');
  const sdk = parseConfig(`${entry}litellm_settings: {success_callback: [langfuse]}\n`, keys);
  assert.equal(sdk.langfuseTraces?.url, 'https://cloud.langfuse.com/api/public/otel/v1/traces');
  assert.match(sdk.warnings.join('\n'), /"langfuse": sent to Langfuse's OpenTelemetry endpoint[^]*never prompts or answers/);
  const keyless = parseConfig(`${entry}litellm_settings: {callbacks: [langfuse_otel]}\n`, {});
  assert.equal(keyless.langfuseTraces, undefined);
  assert.match(keyless.warnings.join('\n'), /LANGFUSE_PUBLIC_KEY and LANGFUSE_SECRET_KEY are not both set/);
});

describe('traces to Langfuse (callbacks: ["langfuse_otel"])', () => {
  const received: Array<{ authorization: string | undefined; spans: OtlpSpan[] }> = [];
  let langfuse: Server;
  let portico: PorticoProcess;
  let dir: string;

  before(async () => {
    langfuse = createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (part: Buffer) => parts.push(part));
      req.on('end', () => {
        if (req.url !== '/api/public/otel/v1/traces') return void res.writeHead(404).end();
        const body = JSON.parse(Buffer.concat(parts).toString('utf8')) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
        received.push({ authorization: req.headers.authorization, spans: body.resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const port = await listen(langfuse);
    dir = await mkdtemp(join(tmpdir(), 'portico-langfuse-'));
    const configPath = join(dir, 'config.yaml');
    await writeFile(
      configPath,
      `model_list:
  - {model_name: traced, litellm_params: {model: mock/traced, mock_response: hi}}
litellm_settings:
  callbacks: ["langfuse_otel"]
general_settings:
  master_key: ${MASTER_KEY}
`,
    );
    portico = await spawnPortico({
      configPath,
      masterKey: MASTER_KEY,
      name: 'langfuse',
      env: { DATABASE_URL: `file:${join(dir, 'p.db')}`, LANGFUSE_PUBLIC_KEY: 'pk-lf-test', LANGFUSE_SECRET_KEY: 'sk-lf-test', LANGFUSE_OTEL_HOST: `http://127.0.0.1:${port}`, OTEL_BSP_SCHEDULE_DELAY: '50' },
    });
  });
  after(async () => {
    await portico?.stop();
    langfuse?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("every span goes to Langfuse with the project's keys as Basic auth, the model and tokens on the attempt", async () => {
    await portico.client().chat.completions.create({ model: 'traced', messages: [{ role: 'user', content: 'hello' }] });
    await until('the attempt span reached Langfuse', () => received.some((batch) => batch.spans.some((span) => span.name === 'chat traced')));
    assert.ok(received.every((batch) => batch.authorization === `Basic ${Buffer.from('pk-lf-test:sk-lf-test').toString('base64')}`));
    const attempt = received.flatMap((batch) => batch.spans).find((span) => span.name === 'chat traced')!;
    assert.equal(attributesOf(attempt)['gen_ai.request.model'], 'traced');
    assert.equal(typeof attributesOf(attempt)['gen_ai.usage.input_tokens'], 'number');
  });
});

test('off, no OpenTelemetry module is loaded: only src/observability/otel/ imports the SDK, and only enableTracing imports that folder, dynamically', async () => {
  const sources: string[] = [];
  const walk = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) sources.push(path);
    }
  };
  await walk(join(REPO_ROOT, 'src'));
  const offenders: string[] = [];
  for (const file of sources) {
    const text = await readFile(file, 'utf8');
    const name = relative(join(REPO_ROOT, 'src'), file);
    if (name.startsWith('observability/otel/')) continue;
    if (/from\s+['"]@opentelemetry\//.test(text) || /import\(\s*['"]@opentelemetry\//.test(text)) offenders.push(`${name} imports @opentelemetry`);
    if (/from\s+['"][./]*otel\/|from\s+['"].*observability\/otel\//.test(text)) offenders.push(`${name} imports observability/otel statically`);
  }
  assert.deepEqual(offenders, []);
  const door = await readFile(join(REPO_ROOT, 'src/observability/tracing.ts'), 'utf8');
  assert.match(door, /await import\('\.\/otel\/otel-tracer\.ts'\)/);
});
