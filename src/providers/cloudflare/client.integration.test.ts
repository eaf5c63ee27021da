/**
 * The Workers AI client over real HTTP on 127.0.0.1, against small servers that answer what the
 * simulator does not: a stream whose first event is an error, a 200 envelope saying
 * `success: false`, a stream the consumer leaves early (the upstream must be closed), and an
 * embeddings call on a chat model.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { UpstreamError } from '../../spec/errors.ts';
import type { Deployment, ProviderClient } from '../../spec/provider.ts';
import { providerSettingsOf } from '../../config/provider-settings.ts';
import { cloudflareProvider } from './index.ts';

const servers: http.Server[] = [];
after(() => {
  for (const server of servers) server.closeAllConnections();
  return Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
});

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/client/v4/accounts/0123456789abcdef0123456789abcdef/ai/run/`;
}

function clientOf(apiBase: string): ProviderClient {
  const deployment: Deployment = {
    id: 'cf-test',
    modelGroup: 'llama',
    providerName: 'cloudflare',
    upstreamModel: '@cf/meta/llama-3.1-8b-instruct',
    apiBase,
    apiKey: 'token',
    timeoutMs: 5_000,
    maxRetries: 0,
    weight: 1,
    batchMode: 'emulate',
    pricing: {},
    params: {},
    settings: undefined,
  };
  return cloudflareProvider.createClient(deployment, providerSettingsOf(cloudflareProvider, { api_key: 'token', api_base: apiBase }));
}

const chat = { model: 'llama', messages: [{ role: 'user', content: 'hi' }] };

describe('Workers AI client over HTTP', () => {
  it('a stream whose first event is an error is thrown before any byte, so routing can retry', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end('data: {"success":false,"errors":[{"code":3040,"message":"No more data centers to forward the request to"}]}\n\n');
    });
    await assert.rejects(clientOf(base).chatCompletionsStream({ ...chat, stream: true }), (error: unknown) => error instanceof UpstreamError && error.code === '3040' && error.isRetryable);
  });

  it('a 200 envelope saying success: false is an error, not an empty answer', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: null, success: false, errors: [{ code: 5006, message: 'AiError: Bad input' }], messages: [] }));
    });
    await assert.rejects(clientOf(base).chatCompletions(chat), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 502 && error.message === 'AiError: Bad input');
  });

  it('a consumer that stops reading a stream closes the upstream connection', async () => {
    let closed!: () => void;
    const upstreamClosed = new Promise<void>((resolve) => (closed = resolve));
    const base = await serve((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cf-ray': 'abc-SJC' });
      res.write('data: {"response":"first"}\n\n');
      // Never ends on its own: only the client's leaving closes it.
      res.on('close', () => closed());
      req.resume();
    });
    const stream = await clientOf(base).chatCompletionsStream({ ...chat, stream: true });
    assert.equal(stream.upstreamRequestId, 'abc-SJC');
    for await (const _chunk of stream.body) break;
    await Promise.race([upstreamClosed, new Promise((_resolve, reject) => setTimeout(() => reject(new Error('the upstream stayed open')), 2_000))]);
  });

  it('embeddings on a chat model is a clear 502, not a crash', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ result: { response: 'hello' }, success: true, errors: [], messages: [] }));
    });
    await assert.rejects(clientOf(base).embeddings!({ model: 'llama', input: 'x' }), (error: unknown) => error instanceof UpstreamError && error.httpStatus === 502 && /is @cf\/meta\/llama-3\.1-8b-instruct an embedding model/.test(error.message));
  });
});
