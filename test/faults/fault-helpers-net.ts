/**
 * The network half of the faults suite: an upstream that misbehaves on demand, a real Portico
 * process in front of it (SQLite, or PostgreSQL with Redis), raw HTTP that the test controls byte
 * by byte, and the invariants every case checks (OpenAI's envelope, descriptors back to
 * baseline, the gateway still serving).
 *
 *   const upstream = await startFaultUpstream();
 *   const portico = await startFaultPortico({ dialect: 'postgres', models: faultModel('flaky', 'reset-mid-body', upstream) });
 *   const answer = await call(portico, 'POST', '/v1/chat/completions', { model: 'flaky', messages });
 *   assertEnvelope(answer, 502);
 *   await portico.expectDescriptorsNear(baseline);
 *   await portico.dispose();
 *
 * The upstream picks its behaviour from the `model` it is sent (the deployment's upstream model,
 * `openai/<behaviour>`), so one server stands in for every faulty provider at once, and every
 * answer closes its connection: Portico keeps no pooled upstream socket that would blur the
 * descriptor count.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createTestDatabase, type TestDatabase } from '../helpers/databases.ts';
import { spawnPortico, type PorticoProcess } from '../scale-out/portico-process.ts';
import { deleteRedisKeys, TEST_REDIS_URL, uniqueRedisPrefix } from '../scale-out/redis-helpers.ts';
import type { Database, SqlDialectName } from '../../src/storage/database.ts';

export const FAULTS_MASTER_KEY = 'sk-faults-net-master-0123456789';
export const FAULTS_UPSTREAM_KEY = 'sk-faults-net-upstream-key-000000';

// --- the fault upstream -------------------------------------------------------------------------

/**
 * What the upstream does with a request, chosen by the model it names:
 * - `ok`: a normal answer (JSON, or an SSE stream when `stream: true`);
 * - `reset-before-headers`: the connection is destroyed before any answer;
 * - `reset-mid-body`: 200 with a `content-length`, half the JSON, then the connection is destroyed;
 * - `reset-mid-stream`: two SSE chunks, then the connection is destroyed;
 * - `hang`: never answers; `hang-mid-stream`: one SSE chunk, then silence;
 * - `not-http`: bytes that are not HTTP at all, then the connection is closed;
 * - `status-503`: OpenAI's 503 envelope, every time (a 5xx storm);
 * - `status-429`: OpenAI's 429 with `retry-after: 7`, every time;
 * - `html-200`: 200 `text/html`, not JSON; `html-502`: a proxy's 502 HTML page;
 * - `truncated-json`: 200 `application/json` whose text stops halfway (a complete HTTP message);
 * - `json-for-stream`: answers a `stream: true` request with a plain JSON completion;
 * - `trickle`: an SSE chunk every 50 ms for 10 s (a slow generation);
 * - `slow-generation`: `SLOW_GENERATION_CHUNKS` SSE chunks 250 ms apart, then `[DONE]`;
 * - `lockstep`: one SSE chunk, then each further chunk only when the test calls `releaseChunk()`;
 * - `flood`: `FLOOD_BYTES` of SSE chunks as fast as the connection takes them (`floodSent()`);
 * - `files-hang`: any upload to `.../files` (a provider copy of a batch file) is read, never answered.
 */
export type FaultBehaviour =
  | 'ok'
  | 'reset-before-headers'
  | 'reset-mid-body'
  | 'reset-mid-stream'
  | 'hang'
  | 'hang-mid-stream'
  | 'not-http'
  | 'status-503'
  | 'status-429'
  | 'html-200'
  | 'html-502'
  | 'truncated-json'
  | 'json-for-stream'
  | 'trickle'
  | 'slow-generation'
  | 'lockstep'
  | 'flood'
  | 'files-hang';

export const LOCKSTEP_CHUNKS = 5;
export const SLOW_GENERATION_CHUNKS = 8;
export const FLOOD_BYTES = 64 * 1024 * 1024;
const TRICKLE_CHUNKS = 200;

export interface FaultUpstream {
  /** `http://127.0.0.1:PORT/v1` */
  readonly url: string;
  /** Requests received per behaviour. */
  hits(behaviour: FaultBehaviour): number;
  /** Exchanges whose answer has not ended and whose connection is still open. */
  openExchanges(): number;
  /** Resolves once no exchange is open (rejects after `timeoutMs`). */
  waitForNoOpenExchanges(timeoutMs?: number): Promise<void>;
  /** Answers that ended because Portico closed the connection first. */
  readonly closedEarly: Array<{ behaviour: FaultBehaviour; chunksSent: number }>;
  /** Lets the current `lockstep` stream send its next chunk. */
  releaseChunk(): void;
  /** How many chunks the current `lockstep` stream has sent. */
  lockstepSent(): number;
  /** Bytes the current `flood` stream has handed to its socket. */
  floodSent(): number;
  close(): Promise<void>;
}

export function chunkFrame(content: string): string {
  return `data: ${JSON.stringify({
    id: 'chatcmpl-fault',
    object: 'chat.completion.chunk',
    created: 1_700_000_000,
    model: 'fault',
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
  })}\n\n`;
}

function completion(content: string): string {
  return JSON.stringify({
    id: 'chatcmpl-fault',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: 'fault',
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 3, completion_tokens: 3, total_tokens: 6 },
  });
}

const SSE = { 'content-type': 'text/event-stream' };

export async function startFaultUpstream(): Promise<FaultUpstream> {
  const hits = new Map<FaultBehaviour, number>();
  const open = new Set<http.ServerResponse>();
  const closedEarly: Array<{ behaviour: FaultBehaviour; chunksSent: number }> = [];
  const sockets = new Set<import('node:net').Socket>();
  let lockstepRelease: (() => void) | undefined;
  let lockstepPending = 0;
  let lockstepSent = 0;
  let floodSent = 0;

  const server = http.createServer((request, response) => {
    // No keep-alive: Portico's pool holds no upstream socket between requests.
    response.shouldKeepAlive = false;
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      let body: { model?: string; stream?: boolean; messages?: Array<{ content?: unknown }> } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        // answered as `ok` below
      }
      const behaviour = (request.url?.endsWith('/files') ? 'files-hang' : (body.model ?? 'ok')) as FaultBehaviour;
      hits.set(behaviour, (hits.get(behaviour) ?? 0) + 1);
      open.add(response);
      let sent = 0;
      response.on('close', () => {
        open.delete(response);
        if (!response.writableEnded) closedEarly.push({ behaviour, chunksSent: sent });
      });
      const echo = String(body.messages?.at(-1)?.content ?? '');
      const send = (frame: string) => {
        if (!response.destroyed) response.write(frame);
        sent++;
      };
      switch (behaviour) {
        case 'reset-before-headers':
          request.socket.destroy();
          return;
        case 'reset-mid-body': {
          const text = completion(echo);
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) });
          response.write(text.slice(0, text.length >> 1));
          setTimeout(() => request.socket.destroy(), 20);
          return;
        }
        case 'reset-mid-stream':
          response.writeHead(200, SSE);
          send(chunkFrame('first '));
          send(chunkFrame('second '));
          setTimeout(() => request.socket.destroy(), 20);
          return;
        case 'hang':
        case 'files-hang':
          return;
        case 'hang-mid-stream':
          response.writeHead(200, SSE);
          send(chunkFrame('only '));
          return;
        case 'not-http':
          request.socket.end('SSH-2.0-OpenSSH_9.6\r\nProtocol mismatch.\r\n');
          return;
        case 'status-429':
          response.writeHead(429, { 'content-type': 'application/json', 'retry-after': '7' });
          response.end(JSON.stringify({ error: { message: 'Rate limit reached for requests.', type: 'requests', param: null, code: 'rate_limit_exceeded' } }));
          return;
        case 'status-503':
          response.writeHead(503, { 'content-type': 'application/json' });
          response.end(JSON.stringify({ error: { message: 'The engine is currently overloaded, please try again later.', type: 'server_error', param: null, code: null } }));
          return;
        case 'html-200':
          response.writeHead(200, { 'content-type': 'text/html' });
          response.end('<html><body>Welcome to nginx!</body></html>');
          return;
        case 'html-502':
          response.writeHead(502, { 'content-type': 'text/html' });
          response.end('<html><head><title>502 Bad Gateway</title></head><body><center>502 Bad Gateway</center></body></html>');
          return;
        case 'truncated-json': {
          const text = completion(echo);
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(text.slice(0, text.length >> 1));
          return;
        }
        case 'json-for-stream':
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(completion(echo));
          return;
        case 'trickle': {
          response.writeHead(200, SSE);
          const timer = setInterval(() => {
            if (sent === TRICKLE_CHUNKS) {
              clearInterval(timer);
              response.end('data: [DONE]\n\n');
              return;
            }
            send(chunkFrame(`t${sent} `));
          }, 50);
          response.on('close', () => clearInterval(timer));
          return;
        }
        case 'slow-generation': {
          response.writeHead(200, SSE);
          send(chunkFrame('s0 '));
          const timer = setInterval(() => {
            if (sent === SLOW_GENERATION_CHUNKS) {
              clearInterval(timer);
              response.end('data: [DONE]\n\n');
              return;
            }
            send(chunkFrame(`s${sent} `));
          }, 250);
          response.on('close', () => clearInterval(timer));
          return;
        }
        case 'lockstep': {
          response.writeHead(200, SSE);
          lockstepSent = 0;
          const next = () => {
            if (response.destroyed) return;
            if (sent === LOCKSTEP_CHUNKS) {
              response.end('data: [DONE]\n\n');
              return;
            }
            send(chunkFrame(`l${sent} `));
            lockstepSent = sent;
            lockstepRelease = next;
            if (lockstepPending > 0) {
              lockstepPending--;
              lockstepRelease = undefined;
              next();
            }
          };
          next();
          return;
        }
        case 'flood': {
          response.writeHead(200, SSE);
          floodSent = 0;
          const frame = Buffer.from(chunkFrame('x'.repeat(16 * 1024)));
          const pump = () => {
            while (!response.destroyed && floodSent < FLOOD_BYTES) {
              floodSent += frame.length;
              sent++;
              if (!response.write(frame)) {
                response.once('drain', pump);
                return;
              }
            }
            if (!response.destroyed) response.end('data: [DONE]\n\n');
          };
          pump();
          return;
        }
        default:
          if (body.stream === true) {
            response.writeHead(200, SSE);
            send(chunkFrame('ok '));
            send(chunkFrame(echo));
            response.end('data: [DONE]\n\n');
            return;
          }
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(completion(echo));
      }
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const upstream: FaultUpstream = {
    url: `http://127.0.0.1:${port}/v1`,
    hits: (behaviour) => hits.get(behaviour) ?? 0,
    openExchanges: () => open.size,
    async waitForNoOpenExchanges(timeoutMs = 5_000) {
      await waitFor(() => open.size === 0, timeoutMs, () => `${open.size} upstream exchange(s) still open`);
    },
    closedEarly,
    releaseChunk() {
      const release = lockstepRelease;
      lockstepRelease = undefined;
      if (release) release();
      else lockstepPending++;
    },
    lockstepSent: () => lockstepSent,
    floodSent: () => floodSent,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
  return upstream;
}

/** A model group of one deployment of `behaviour` on `upstream`; `params` adds litellm_params (YAML flow entries). */
export function faultModel(group: string, behaviour: FaultBehaviour, upstream: FaultUpstream, params = ''): string {
  return `
  - model_name: ${group}
    litellm_params: { model: openai/${behaviour}, api_base: "${upstream.url}", api_key: os.environ/FAULTS_UPSTREAM_KEY${params ? `, ${params}` : ''} }
    model_info: { id: ${group}-${behaviour} }`;
}

// --- Portico as a process ------------------------------------------------------------------------

export interface FaultPorticoOptions {
  dialect: SqlDialectName;
  /** `model_list` entries (see `faultModel`). */
  models: string;
  /** Extra top-level YAML (router_settings, portico_settings.batch, ...). */
  extraYaml?: string;
  /** `portico_settings.files` entries, YAML flow form without braces. */
  files?: string;
  /** `portico_settings.server` entries (receive timeouts, connection cap), YAML flow form without braces. */
  server?: string;
  graceMs?: number;
  env?: Record<string, string>;
  name?: string;
}

export interface FaultPortico extends PorticoProcess {
  readonly pid: number;
  readonly dialect: SqlDialectName;
  /** `portico_settings.files.storage_dir` (also used with the database blob store: stays empty). */
  readonly storageDir: string;
  /** The test's own connection to Portico's database. */
  readonly db: Database;
  /** Open descriptors of the Portico process. */
  fds(): Promise<number>;
  /**
   * Bytes the Portico process has read so far, from files and sockets alike (`rchar` of
   * `/proc/PID/io`, all threads): what it pulled from its blob store, unlike RSS not blurred by
   * garbage not yet collected or a worker thread starting.
   */
  bytesRead(): Promise<number>;
  /** Waits until the descriptor count is at most `baseline + slack` (default 2). */
  expectDescriptorsNear(baseline: number, slack?: number, timeoutMs?: number): Promise<void>;
  /** Stops the process if it still runs, drops the database, removes the temp dir and Redis keys. */
  dispose(): Promise<void>;
}

/**
 * A real `bin/portico.js` on a fresh database: SQLite with the directory blob store and in-memory
 * limits, or PostgreSQL with the database blob store and Redis (the setup of several instances).
 */
export async function startFaultPortico(options: FaultPorticoOptions): Promise<FaultPortico> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-faults-net-'));
  const storageDir = join(dir, 'files');
  const configPath = join(dir, 'config.yaml');
  const database: TestDatabase = await createTestDatabase(options.dialect);
  const postgres = options.dialect === 'postgres';
  const redisPrefix = uniqueRedisPrefix('faults-net');
  const blobStore = postgres ? 'database' : 'directory';
  await writeFile(
    configPath,
    `
model_list:${options.models}
general_settings:
  master_key: ${FAULTS_MASTER_KEY}
${options.extraYaml ?? ''}
portico_settings:
  files: { blob_store: ${blobStore}, storage_dir: "${storageDir}"${options.files ? `, ${options.files}` : ''} }
${options.server ? `  server: { ${options.server} }\n` : ''}`,
  );
  let portico: PorticoProcess;
  try {
    portico = await spawnPortico({
      name: options.name ?? `faults-net-${options.dialect}`,
      configPath,
      masterKey: FAULTS_MASTER_KEY,
      env: {
        DATABASE_URL: database.url,
        FAULTS_UPSTREAM_KEY,
        PORTICO_SHUTDOWN_GRACE_MS: String(options.graceMs ?? 1_500),
        ...(postgres ? { REDIS_URL: TEST_REDIS_URL, PORTICO_REDIS_PREFIX: redisPrefix } : {}),
        ...options.env,
      },
    });
  } catch (error) {
    await database.dispose();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const pid = portico.child.pid as number;
  const fds = async () => (await readdir(`/proc/${pid}/fd`)).length;
  return {
    ...portico,
    pid,
    dialect: options.dialect,
    storageDir,
    db: database.db,
    fds,
    async bytesRead() {
      const io = await readFile(`/proc/${pid}/io`, 'utf8');
      const match = /^rchar:\s+(\d+)$/m.exec(io);
      if (!match) throw new Error(`no rchar in /proc/${pid}/io`);
      return Number(match[1]);
    },
    async expectDescriptorsNear(baseline: number, slack = 2, timeoutMs = 5_000) {
      let last = 0;
      await waitFor(
        async () => (last = await fds()) <= baseline + slack,
        timeoutMs,
        () => `Portico holds ${last} descriptors, baseline ${baseline} (+${slack} allowed)`,
      );
    },
    async dispose() {
      await portico.kill().catch(() => undefined);
      await database.dispose().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      if (postgres) await deleteRedisKeys(redisPrefix).catch(() => undefined);
    },
  };
}

// --- raw HTTP ------------------------------------------------------------------------------------

export interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * One request on its own connection (`connection: close`, no agent), so the client keeps no
 * socket in Portico's descriptor count. `json` is sent as the body; the master key by default.
 */
export function call(
  portico: Pick<PorticoProcess, 'port'>,
  method: string,
  path: string,
  json?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const request = http.request(
      {
        host: '127.0.0.1',
        port: portico.port,
        method,
        path,
        agent: false,
        headers: {
          authorization: `Bearer ${FAULTS_MASTER_KEY}`,
          connection: 'close',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

export function chat(model: string, content = 'hello', extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: 'user', content }], ...extra };
}

/** An answer that is OpenAI's error envelope with `status`, as JSON. Answers its `error`. */
export function assertEnvelope(answer: Answer, status: number): { message: string; type: string; param: unknown; code: unknown } {
  assert.equal(answer.status, status, `expected ${status}, got ${answer.status}: ${answer.text.slice(0, 300)}`);
  assert.match(String(answer.headers['content-type']), /application\/json/);
  const parsed = JSON.parse(answer.text) as { error?: Record<string, unknown> };
  const error = parsed.error;
  assert.ok(error && typeof error === 'object', `not an error envelope: ${answer.text.slice(0, 300)}`);
  assert.equal(typeof error.message, 'string');
  assert.equal(typeof error.type, 'string');
  assert.ok('param' in error && 'code' in error, `param and code are part of the envelope: ${answer.text}`);
  return error as { message: string; type: string; param: unknown; code: unknown };
}

/** The content of a streamed chat answer, and its `data: {"error": ...}` frame if it ended with one. */
export function parseSse(text: string): { content: string; error: { message: string; type: string } | undefined; done: boolean } {
  let content = '';
  let error: { message: string; type: string } | undefined;
  let done = false;
  for (const event of text.split('\n\n')) {
    if (!event.startsWith('data: ')) continue;
    const data = event.slice(6);
    if (data === '[DONE]') {
      done = true;
      continue;
    }
    const parsed = JSON.parse(data) as { error?: { message: string; type: string }; choices?: Array<{ delta?: { content?: string } }> };
    if (parsed.error) error = parsed.error;
    content += parsed.choices?.[0]?.delta?.content ?? '';
  }
  return { content, error, done };
}

export const MULTIPART_BOUNDARY = '----portico-faults-net-boundary';

/** The multipart body of a file upload, cut in the part before the file's bytes and the part after. */
export function multipartAround(filename: string, purpose = 'user_data', fields: Record<string, string> = {}): { head: Buffer; tail: Buffer } {
  const b = MULTIPART_BOUNDARY;
  const extra = Object.entries(fields)
    .map(([name, value]) => `--${b}\r\ncontent-disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`)
    .join('');
  return {
    head: Buffer.from(
      `--${b}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\n${purpose}\r\n${extra}` +
        `--${b}\r\ncontent-disposition: form-data; name="file"; filename="${filename}"\r\ncontent-type: application/octet-stream\r\n\r\n`,
    ),
    tail: Buffer.from(`\r\n--${b}--\r\n`),
  };
}

/** Sends `body` to `/v1/chat/completions` on a connection of its own, with the master key, ignoring the answer and any error; answers the request, for the caller to destroy. */
export function sendChat(portico: Pick<PorticoProcess, 'port'>, body: unknown): http.ClientRequest {
  const request = http.request({
    host: '127.0.0.1',
    port: portico.port,
    method: 'POST',
    path: '/v1/chat/completions',
    agent: false,
    headers: { authorization: `Bearer ${FAULTS_MASTER_KEY}`, 'content-type': 'application/json' },
  });
  request.on('error', () => undefined);
  request.end(JSON.stringify(body));
  return request;
}

/** A `POST /v1/files` of `contentLength` bytes on a connection of its own, with the master key; the caller writes the body. */
export function uploadRequest(portico: Pick<PorticoProcess, 'port'>, contentLength: number, headers: http.OutgoingHttpHeaders = {}, onResponse?: (response: http.IncomingMessage) => void): http.ClientRequest {
  return http.request(
    {
      host: '127.0.0.1',
      port: portico.port,
      method: 'POST',
      path: '/v1/files',
      agent: false,
      headers: {
        authorization: `Bearer ${FAULTS_MASTER_KEY}`,
        ...headers,
        'content-type': `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`,
        'content-length': String(contentLength),
      },
    },
    onResponse,
  );
}

/** Uploads `bytes` between the multipart `head` and `tail` (one connection, master key, closed after); answers the whole response. */
export function postUpload(portico: Pick<PorticoProcess, 'port'>, { head, tail }: { head: Buffer; tail: Buffer }, bytes: Buffer): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const request = uploadRequest(portico, head.length + bytes.length + tail.length, { connection: 'close' }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text }));
    });
    request.on('error', reject);
    request.write(head);
    request.write(bytes);
    request.end(tail);
  });
}

/** Uploads `bytes` as a `user_data` file (one connection, master key); answers the file id. */
export async function uploadFile(portico: Pick<PorticoProcess, 'port'>, bytes: Buffer, filename = 'data.bin'): Promise<string> {
  const answer = await postUpload(portico, multipartAround(filename), bytes);
  assert.equal(answer.status, 200, answer.text);
  return (JSON.parse(answer.text) as { id: string }).id;
}

/** The ids of the files Portico lists. */
export async function listedFileIds(portico: Pick<PorticoProcess, 'port'>): Promise<string[]> {
  const answer = await call(portico, 'GET', '/v1/files?limit=100');
  assert.equal(answer.status, 200, answer.text);
  return (JSON.parse(answer.text) as { data: Array<{ id: string }> }).data.map((file) => file.id);
}

/** A healthy request through the gateway: it still serves. */
export async function assertServes(portico: Pick<PorticoProcess, 'port'>, model: string): Promise<void> {
  const answer = await call(portico, 'POST', '/v1/chat/completions', chat(model, 'still serving'));
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.text, /still serving/);
}

// --- waiting -------------------------------------------------------------------------------------

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  describe: () => string = () => 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new assert.AssertionError({ message: `timed out after ${timeoutMs} ms: ${describe()}` });
    await sleep(25);
  }
}

/** Resolves with `promise`, or rejects with `message` after `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new assert.AssertionError({ message: `${message} (after ${ms} ms)` })), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// --- a stream read at the test's pace -------------------------------------------------------------

export interface OpenStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The next complete SSE event's text (without the blank line); rejects after `timeoutMs`. */
  nextEvent(timeoutMs?: number): Promise<string>;
  /** Everything after the events taken so far, once the answer ended. */
  rest(): Promise<string>;
  /** Stops reading (the socket's buffers fill up), and reads on. */
  pause(): void;
  resume(): void;
  /** Hangs up (the client goes away). */
  destroy(): void;
  readonly socket: import('node:net').Socket;
}

/** POSTs `json` to `path` and resolves once the answer's headers arrived; the body is read on demand. */
export function openStream(portico: Pick<PorticoProcess, 'port'>, path: string, json: unknown): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port: portico.port,
        method: 'POST',
        path,
        agent: false,
        headers: { authorization: `Bearer ${FAULTS_MASTER_KEY}`, connection: 'close', 'content-type': 'application/json' },
      },
      (response) => {
        let buffered = '';
        let ended = false;
        let wake: (() => void) | undefined;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffered += chunk;
          wake?.();
        });
        const onEnd = () => {
          ended = true;
          wake?.();
        };
        response.on('end', onEnd);
        response.on('close', onEnd);
        response.on('error', onEnd);
        const changed = () => new Promise<void>((r) => (wake = r));
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          socket: request.socket as import('node:net').Socket,
          async nextEvent(timeoutMs = 5_000) {
            const deadline = Date.now() + timeoutMs;
            for (;;) {
              const end = buffered.indexOf('\n\n');
              if (end !== -1) {
                const event = buffered.slice(0, end);
                buffered = buffered.slice(end + 2);
                return event;
              }
              if (ended) throw new assert.AssertionError({ message: `the stream ended without another event (left: ${buffered.slice(0, 200)})` });
              const left = deadline - Date.now();
              if (left <= 0) throw new assert.AssertionError({ message: `no event within ${timeoutMs} ms (buffered: ${buffered.slice(0, 200)})` });
              await within(changed(), left, `no event within ${timeoutMs} ms`);
            }
          },
          async rest() {
            while (!ended) await changed();
            return buffered;
          },
          pause: () => response.pause(),
          resume: () => response.resume(),
          destroy() {
            request.destroy();
          },
        });
      },
    );
    request.on('error', reject);
    request.end(JSON.stringify(json));
  });
}
