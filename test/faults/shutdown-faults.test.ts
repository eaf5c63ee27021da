/**
 * SIGTERM while faults are in progress: an upstream that hangs, a stream trickling in, a client
 * trickling an upload, a client reading a download slowly, a client trickling its headers, and all
 * of them at once. Each case holds its connection open far longer than the drain timeout
 * (`PORTICO_SHUTDOWN_GRACE_MS`, 1 s here): the process must still exit 0 shortly after it, with
 * the upstream calls closed and no half-received upload registered.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { SqlDialectName } from '../../src/storage/database.ts';
import {
  chat,
  FAULTS_MASTER_KEY,
  faultModel,
  MULTIPART_BOUNDARY,
  multipartAround,
  openStream,
  sendChat,
  startFaultPortico,
  startFaultUpstream,
  uploadFile,
  waitFor,
  type FaultPortico,
  type FaultUpstream,
} from './fault-helpers-net.ts';

const GRACE_MS = 1_000;
/** What a stop may take beyond the grace period: closing Redis, the database, the jobs. */
const STOP_OVERHEAD_MS = 4_000;

/** A fault in progress; `held` resolves once Portico is busy with it. */
type Fault = (portico: FaultPortico, upstream: FaultUpstream) => Promise<{ release(): void }>;

/** A chat request to an upstream that never answers (deployment timeout 60 s). */
const hangingUpstream: Fault = async (portico, upstream) => {
  const hits = upstream.hits('hang');
  const request = sendChat(portico, chat('hang'));
  await waitFor(() => upstream.hits('hang') > hits, 5_000, () => 'the request did not reach the upstream');
  return { release: () => request.destroy() };
};

/** A stream whose upstream sends a chunk every 50 ms for 10 s. */
const tricklingStream: Fault = async (portico) => {
  const stream = await openStream(portico, '/v1/chat/completions', chat('slow-stream', 'x', { stream: true }));
  await stream.nextEvent();
  return { release: () => stream.destroy() };
};

/** An upload that announced 8 MiB and sent 256 KiB, then goes quiet. */
const tricklingUpload: Fault = async (portico) => {
  const { head } = multipartAround('trickled.bin');
  const socket = net.connect(portico.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(
    `POST /v1/files HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${FAULTS_MASTER_KEY}\r\n` +
      `content-type: multipart/form-data; boundary=${MULTIPART_BOUNDARY}\r\ncontent-length: ${head.length + 8 * 1024 * 1024}\r\n\r\n`,
  );
  socket.write(head);
  socket.write(randomBytes(256 * 1024));
  await sleep(200);
  return { release: () => socket.destroy() };
};

/** A 16 MiB download whose client stopped reading after the first bytes. */
const slowReader: Fault = async (portico) => {
  const fileId = await uploadFile(portico, randomBytes(16 * 1024 * 1024), 'slow.bin');
  let request!: http.ClientRequest;
  await new Promise<void>((resolve, reject) => {
    request = http.get(
      {
        host: '127.0.0.1',
        port: portico.port,
        path: `/v1/files/${fileId}/content`,
        agent: false,
        headers: { authorization: `Bearer ${FAULTS_MASTER_KEY}` },
      },
      (response) => {
        response.once('data', () => {
          response.pause();
          resolve();
        });
        response.on('error', () => undefined);
      },
    );
    request.on('error', reject);
  });
  return { release: () => request.destroy() };
};

/** A client sending its request headers one byte at a time, never finishing them. */
const slowloris: Fault = async (portico) => {
  const socket = net.connect(portico.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const headers = `GET /v1/models HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${FAULTS_MASTER_KEY}\r\nx-slow: `;
  let sent = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(headers[sent % headers.length] ?? 'a');
    sent++;
  }, 100);
  await sleep(300);
  return {
    release: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
};

const everything: Fault = async (portico, upstream) => {
  const faults = await Promise.all([hangingUpstream, tricklingStream, tricklingUpload, slowReader, slowloris].map((fault) => fault(portico, upstream)));
  return { release: () => faults.forEach((fault) => fault.release()) };
};

const CASES: Array<{ name: string; fault: Fault; dialect: SqlDialectName }> = [
  { name: 'an upstream that hangs', fault: hangingUpstream, dialect: 'sqlite' },
  { name: 'a stream trickling in', fault: tricklingStream, dialect: 'sqlite' },
  { name: 'an upload trickling in', fault: tricklingUpload, dialect: 'sqlite' },
  { name: 'a download read slowly', fault: slowReader, dialect: 'sqlite' },
  { name: 'a client trickling its headers', fault: slowloris, dialect: 'sqlite' },
  { name: 'all of these at once', fault: everything, dialect: 'sqlite' },
  { name: 'all of these at once', fault: everything, dialect: 'postgres' },
];

describe('SIGTERM during faults', () => {
  let upstream: FaultUpstream;

  before(async () => {
    upstream = await startFaultUpstream();
  });
  after(async () => {
    await upstream?.close();
  });

  for (const { name, fault, dialect } of CASES) {
    it(`exits 0 within the drain timeout during ${name} [${dialect}]`, async () => {
      const portico = await startFaultPortico({
        dialect,
        graceMs: GRACE_MS,
        models: faultModel('hang', 'hang', upstream, 'timeout: 60, max_retries: 0') + faultModel('slow-stream', 'trickle', upstream),
      });
      let held: { release(): void } | undefined;
      try {
        held = await fault(portico, upstream);
        const startedAt = Date.now();
        const exit = await portico.stop();
        const took = Date.now() - startedAt;
        assert.deepEqual(exit, { code: 0, signal: null }, `exit status; logs: ${JSON.stringify(portico.logs.slice(-5))}`);
        assert.ok(took < GRACE_MS + STOP_OVERHEAD_MS, `the stop took ${took} ms (grace ${GRACE_MS} ms)`);
        // The process is gone: its upstream calls are closed and no half-received upload was kept.
        await upstream.waitForNoOpenExchanges();
        const files = await portico.db.kysely.selectFrom('files').select(['id', 'filename']).execute();
        assert.deepEqual(files.filter((file) => file.filename === 'trickled.bin'), [], 'no half-received upload registered');
        if (dialect === 'sqlite') {
          const left = (await readdir(portico.storageDir).catch(() => [] as string[])).filter((entry) => entry.startsWith('.tmp-'));
          assert.deepEqual(left, [], 'no temporary blob left behind');
        } else {
          const unfinished = await portico.db.kysely.selectFrom('blobs').select('key').where('completed_at', 'is', null).execute();
          assert.deepEqual(unfinished, [], 'no unfinished blob left behind');
        }
      } finally {
        held?.release();
        await portico.dispose();
      }
    });
  }
});
