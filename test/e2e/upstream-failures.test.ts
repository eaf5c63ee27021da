/**
 * What a client sees when upstreams fail: retries, kept statuses and messages, Azure's envelope
 * translated, no upstream key in any answer, errors before and after the first streamed byte,
 * and a client that hangs up mid-stream closing the upstream call.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { AZURE_SIMULATOR_API_KEY } from '../simulators/azure-simulator.ts';
import { OPENAI_SIMULATOR_API_KEY } from '../simulators/openai-simulator.ts';
import { startPortico, type PorticoUnderTest } from '../helpers/portico.ts';
import { E2E_ENV, envelopeOf, gatewayConfig, startUpstreams, type Upstreams } from './fixtures.ts';

/**
 * A streaming upstream we control byte by byte: `slow` sends a chunk every 50 ms for 10 s and
 * records whether its client went away first; `broken` sends two chunks then drops the connection.
 */
interface ScriptedUpstream {
  url: string;
  slowStreamClosedEarly: Promise<{ chunksSent: number }>;
  close(): Promise<void>;
}

function chunkFrame(content: string): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-scripted',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'scripted',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
}

async function startScriptedUpstream(): Promise<ScriptedUpstream> {
  let reportClosedEarly!: (value: { chunksSent: number }) => void;
  const slowStreamClosedEarly = new Promise<{ chunksSent: number }>((resolve) => (reportClosedEarly = resolve));
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const model = (JSON.parse(body) as { model: string }).model;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      if (model === 'broken') {
        response.write(chunkFrame('first '));
        response.write(chunkFrame('second '));
        setTimeout(() => response.socket?.destroy(), 50);
        return;
      }
      let sent = 0;
      const timer = setInterval(() => {
        if (sent === 200) {
          clearInterval(timer);
          response.end('data: [DONE]\n\n');
          return;
        }
        response.write(chunkFrame(`chunk${sent} `));
        sent++;
      }, 50);
      response.on('close', () => {
        clearInterval(timer);
        if (!response.writableEnded) reportClosedEarly({ chunksSent: sent });
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    slowStreamClosedEarly,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('upstream failures as a client sees them', () => {
  let upstreams: Upstreams;
  let scripted: ScriptedUpstream;
  let portico: PorticoUnderTest;
  let client: OpenAI;

  before(async () => {
    upstreams = await startUpstreams();
    scripted = await startScriptedUpstream();
    const extra = `
  - model_name: slow-stream
    litellm_params:
      model: openai/slow
      api_base: ${scripted.url}
      api_key: sk-scripted-upstream-key-000000
  - model_name: broken-stream
    litellm_params:
      model: openai/broken
      api_base: ${scripted.url}
      api_key: sk-scripted-upstream-key-000000
      max_retries: 0
  - model_name: unreachable
    litellm_params:
      model: openai/gpt-4o-mini
      api_base: http://127.0.0.1:9/v1
      api_key: sk-unreachable-upstream-key-000000
      max_retries: 0
`;
    portico = await startPortico(gatewayConfig(upstreams, extra), { env: E2E_ENV });
    client = portico.client();
  });
  after(async () => {
    await portico?.close();
    await scripted?.close();
    await upstreams?.close();
  });

  const chatRequests = (upstream: { requests: { path: string }[] }) => upstream.requests.filter((r) => r.path.endsWith('/chat/completions')).length;

  it('retries an upstream 500 and answers the success', async () => {
    const before = chatRequests(upstreams.openai);
    upstreams.openai.failNext({ status: 500, match: { path: /chat\/completions/ } });
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after a 500' }] });
    assert.match(completion.choices[0].message.content ?? '', /after a 500/);
    assert.equal(chatRequests(upstreams.openai) - before, 2, 'one failed attempt, one retry');
  });

  it("keeps an upstream's error status, message and param", async () => {
    upstreams.openai.failNext({
      status: 400,
      match: { path: /chat\/completions/ },
      body: { error: { message: "Invalid value for 'temperature': 7 is greater than the maximum of 2.", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } },
    });
    await assert.rejects(
      client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hot' }], temperature: 7 }),
      (error: unknown) =>
        error instanceof OpenAI.BadRequestError &&
        error.status === 400 &&
        /greater than the maximum of 2/.test(error.message) &&
        error.param === 'temperature' &&
        error.code === 'invalid_value',
    );
  });

  it("translates Azure's error envelope into OpenAI's, keeping status and message", async () => {
    upstreams.azure.failNext({
      status: 400,
      match: { path: /chat\/completions/ },
      body: { error: { code: 'invalidPayload', message: 'The request payload is not valid for this deployment.' } },
    });
    const response = await portico.fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'azure-gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 400);
    const error = envelopeOf(await response.json());
    assert.equal(error.message, 'The request payload is not valid for this deployment.');
    assert.equal(error.type, 'invalid_request_error');
  });

  it('never shows an upstream key in an error body', async () => {
    const bodies: string[] = [];
    upstreams.openai.failNext({
      status: 401,
      match: { path: /chat\/completions/ },
      body: { error: { message: `Incorrect API key provided: ${OPENAI_SIMULATOR_API_KEY}.`, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } },
    });
    upstreams.azure.failNext({
      status: 401,
      match: { path: /chat\/completions/ },
      body: { error: { code: '401', message: `Access denied for key ${AZURE_SIMULATOR_API_KEY}.` } },
    });
    for (const model of ['gpt-4o-mini', 'azure-gpt-4o', 'unreachable']) {
      const response = await portico.fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'leak?' }] }),
      });
      assert.ok(response.status >= 400, `${model} answered ${response.status}`);
      const text = await response.text();
      envelopeOf(JSON.parse(text));
      bodies.push(text);
    }
    for (const secret of [OPENAI_SIMULATOR_API_KEY, AZURE_SIMULATOR_API_KEY, 'sk-unreachable-upstream-key-000000']) {
      for (const body of bodies) assert.ok(!body.includes(secret), `an error body contains ${secret}: ${body}`);
    }
    assert.ok(bodies.every((body) => !/\bat .*\.ts:\d+/.test(body)), 'no stack trace');
  });

  it('an upstream error before the first streamed byte is a normal error response with its status', async () => {
    upstreams.openai.failNext({
      status: 400,
      match: { path: /chat\/completions/ },
      body: { error: { message: 'This stream cannot start.', type: 'invalid_request_error', param: null, code: null } },
    });
    const response = await portico.fetch('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    assert.equal(response.status, 400);
    assert.match(response.headers.get('content-type') ?? '', /application\/json/);
    assert.equal(envelopeOf(await response.json()).message, 'This stream cannot start.');
  });

  it('an upstream that breaks after streaming began ends the stream with an SSE error frame', async () => {
    const stream = await client.chat.completions.create({ model: 'broken-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      })(),
      (error: unknown) => error instanceof OpenAI.APIError,
    );
    assert.equal(text, 'first second ');
  });

  it('a client that disconnects mid-stream aborts the upstream call', async () => {
    const stream = await client.chat.completions.create({ model: 'slow-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    let received = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) received++;
      if (received === 3) break; // leaving the loop aborts the SDK's request
    }
    const outcome = await Promise.race([scripted.slowStreamClosedEarly, sleep(3_000).then(() => 'timeout' as const)]);
    assert.notEqual(outcome, 'timeout', 'the upstream connection was still open 3 s after the client left');
    assert.ok(outcome !== 'timeout' && outcome.chunksSent < 100, 'the upstream stopped long before the end of its stream');
    // The request line records the abandoned request.
    await sleep(50);
    const line = portico.logs.find((entry) => entry.msg === 'request' && entry.model === 'slow-stream');
    assert.equal(line?.client_closed, true);
    assert.equal(line?.status, 499);
  });

  it('keeps serving after all of the above', async () => {
    const completion = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still here' }] });
    assert.match(completion.choices[0].message.content ?? '', /still here/);
  });
});
