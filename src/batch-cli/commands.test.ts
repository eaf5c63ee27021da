/**
 * The commands against an OpenAI-compatible server scripted here (node:http, answering as the
 * Batches and Files APIs do), driven through the real SDK: a watch through 503s, a download
 * interrupted halfway.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { download, watch, type CommandIo } from './commands.ts';
import { EXIT } from './exit-codes.ts';

/** What the next look at the batch answers: a status, or 503. */
let script: Array<'in_progress' | 'completed' | 503> = [];
let looks = 0;
let server: Server;
let contentStarted: () => void = () => undefined;
let baseURL: string;

function batchObject(status: string, done: number) {
  return {
    id: 'batch_abc',
    object: 'batch',
    endpoint: '/v1/chat/completions',
    input_file_id: 'file-in',
    completion_window: '24h',
    status,
    created_at: 1_700_000_000,
    output_file_id: null,
    error_file_id: null,
    request_counts: { total: 4, completed: done, failed: 0 },
  };
}

before(async () => {
  server = createServer((request, response) => {
    if (request.url === '/v1/batches/batch_done') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ...batchObject('completed', 4), id: 'batch_done', output_file_id: 'file-out' }));
      return;
    }
    if (request.url === '/v1/files/file-out/content') {
      // Half the file, then nothing more until the client goes away.
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.write('{"custom_id":"a"}\n'.repeat(1000));
      contentStarted();
      return;
    }
    if (request.method !== 'GET' || request.url !== '/v1/batches/batch_abc') {
      response.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found', type: 'invalid_request_error' } }));
      return;
    }
    looks += 1;
    const next = script.length > 1 ? script.shift()! : script[0];
    if (next === 503) {
      response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'restarting', type: 'server_error' } }));
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(batchObject(next, next === 'completed' ? 4 : 1)));
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
after(() => new Promise((closed) => server.close(closed)));

function io(giveUpAfterMs: number, interrupt = new AbortController().signal): CommandIo & { errText: () => string } {
  const err = new PassThrough();
  let errText = '';
  err.on('data', (chunk: Buffer) => (errText += chunk));
  const out = new PassThrough();
  out.resume();
  return {
    // No retries of its own: every look the watch makes is one request.
    client: new OpenAI({ apiKey: 'sk-test', baseURL, maxRetries: 0 }),
    out,
    err,
    isTerminal: false,
    pollSeconds: 0.02,
    giveUpAfterMs,
    interrupt,
    errText: () => errText,
  };
}

test('a watch keeps looking through 503s and ends with the batch', async () => {
  script = ['in_progress', 503, 503, 503, 'in_progress', 'completed'];
  looks = 0;
  const watching = io(60_000);
  assert.equal(await watch(watching, 'batch_abc', '.'), EXIT.ok);
  assert.equal(looks, 6);
  // Said once when the failures start, once when they end.
  assert.match(watching.errText(), /^Cannot look at batch_abc \(503: restarting\); trying again for up to 1m00s\.\nReached the endpoint again; still watching batch_abc\.\n$/);
});

test('a failure that lasts longer than the watch waits ends it with the API error', async () => {
  script = ['in_progress', 503];
  looks = 0;
  const watching = io(150);
  await assert.rejects(watch(watching, 'batch_abc', '.'), (error) => error instanceof OpenAI.APIError && error.status === 503);
  assert.ok(looks >= 3, `${looks} looks`);
  assert.match(watching.errText(), /may still be running; watch it again with:\n {2}portico batch watch batch_abc\n$/);
});

test('an error that will not pass (404) ends the watch at once', async () => {
  script = ['in_progress'];
  const watching = io(60_000);
  await assert.rejects(watch(watching, 'batch_other', '.'), (error) => error instanceof OpenAI.APIError && error.status === 404);
  assert.equal(watching.errText(), '');
});

test('Ctrl-C during a download leaves no file behind, and says how to download again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portico-batch-download-'));
  try {
    const interrupt = new AbortController();
    contentStarted = () => setTimeout(() => interrupt.abort(), 50);
    const downloading = io(60_000, interrupt.signal);
    await assert.rejects(download(downloading, 'batch_done', dir));
    assert.deepEqual(await readdir(dir), []);
    assert.match(downloading.errText(), /^Download stopped\. Get the files of batch_done with:\n {2}portico batch download batch_done\n$/);
  } finally {
    contentStarted = () => undefined;
    await rm(dir, { recursive: true, force: true });
  }
});
