/**
 * `npm run soak [-- --minutes N]`: mixed traffic against a real Portico process on PostgreSQL and
 * Redis for N minutes (default 10), with upstream faults injected, then a pass/fail verdict.
 *
 * Starts, each as its own process, the upstream (`lib/soak-upstream-server.ts`: the OpenAI
 * simulator of the tests, with a native Batch API, behind a relay that answers a share of chat
 * completions with a 500, a 429 or a connection reset) and Portico (`bin/portico.js`, a fresh
 * database on the local PostgreSQL, dropped at the end; a Redis key prefix of its own, removed at
 * the end; `num_retries: 2`). Then `--workers` loops send, at random: chat (plain and streamed),
 * uploads (some cut off half way by the client), file lists, and key churn (generate a key with
 * an rpm limit, chat with it, delete it); another loop creates a 20-line batch every
 * `--batch-every` seconds, in turn on the emulated deployment (`hosted_vllm/`, run by Portico's
 * batch engine through the faulty relay) and on the native one (`openai/`, the simulator's
 * Batch API).
 *
 * Every `--interval` seconds it prints Portico's RSS, V8 heap, open descriptors, the database's
 * row counts, and the requests of the interval by outcome. At the end it waits for every batch
 * to finish, checks their output and error files against their input and the relay's count of
 * model executions, and prints the verdict (rules and tolerances: `lib/soak-verdict.ts`): flat
 * RSS, V8 heap and descriptors after warm-up, no batch line lost or run twice, no 5xx Portico caused.
 * Exit status 0 when it passes. Writes `results/latest-soak.json`.
 *
 * | flag / variable | default | meaning |
 * | --minutes / SOAK_MINUTES | 10 | how long the load runs |
 * | --interval / SOAK_INTERVAL_S | 10 (5 under 3 minutes) | seconds between reports |
 * | --workers / SOAK_WORKERS | 4 | concurrent request loops |
 * | --fault-rate / SOAK_FAULT_RATE | 0.05 | share of upstream chat answers that are a fault |
 * | --batch-every / SOAK_BATCH_EVERY_S | 5 | seconds between batch creates |
 * | BENCH_PG_URL | postgres://postgres@127.0.0.1:5432/postgres | server where the soak's database is created |
 * | BENCH_REDIS_URL | redis://127.0.0.1:6379 | |
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { getFreePort, installCleanupHandlers, makeTempDir, nodeBinary, porticoLaunch, porticoNodeArgs, repoRoot, runBench, startProcess, stopProcess, type ManagedProcess } from './lib/processes.ts';
import { readRssBytes } from './lib/rss.ts';
import { deleteRedisKeys } from '../test/scale-out/redis-helpers.ts';
import { machineInfo, writeResults } from './lib/run-record.ts';
import { fmtInt, fmtMB, formatTable } from './lib/table.ts';
import { batchLineFindings, classifyAnswer, soakVerdict, type AnswerClass, type RouteKind, type SoakSample } from './lib/soak-verdict.ts';

/** `--flag N`, `--flag=N`, else the environment variable, else the default. */
function option(flag: string, variable: string, fallback: number, { min = Number.MIN_VALUE } = {}): number {
  const argv = process.argv.slice(2);
  const at = argv.indexOf(`--${flag}`);
  const raw = at >= 0 ? argv[at + 1] : (argv.find((arg) => arg.startsWith(`--${flag}=`))?.split('=')[1] ?? process.env[variable]);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`--${flag} must be a number of at least ${min} (got ${raw})`);
  return value;
}

const MINUTES = option('minutes', 'SOAK_MINUTES', 10);
const INTERVAL_S = option('interval', 'SOAK_INTERVAL_S', MINUTES < 3 ? 5 : 10);
const WORKERS = Math.round(option('workers', 'SOAK_WORKERS', 4));
const FAULT_RATE = Math.min(1, option('fault-rate', 'SOAK_FAULT_RATE', 0.05, { min: 0 }));
const BATCH_EVERY_S = option('batch-every', 'SOAK_BATCH_EVERY_S', 5);
const BATCH_LINES = 20;
const PG_URL = process.env.BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const MASTER_KEY = 'sk-soak-master-0123456789abcdef';
const UPSTREAM_KEY = 'sk-simulator-openai-test-key-0000';
/** Warm-up: the first fifth of the run, at least a minute, at most half of it. */
const WARMUP_S = Math.min(Math.max(60, (MINUTES * 60) / 5), (MINUTES * 60) / 2);
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

installCleanupHandlers();

interface Tally {
  requests: number;
  byClass: Record<AnswerClass | 'network', number>;
}

const newTally = (): Tally => ({ requests: 0, byClass: { ok: 0, upstream: 0, portico_5xx: 0, unexpected_4xx: 0, network: 0 } });
let interval = newTally();
const total = newTally();
const porticoErrorSamples: string[] = [];

function count(kind: RouteKind, what: string, status: number | 'network', body?: unknown): void {
  const answer = status === 'network' ? 'network' : classifyAnswer(kind, status, body);
  for (const tally of [interval, total]) {
    tally.requests += 1;
    tally.byClass[answer] += 1;
  }
  if ((answer === 'portico_5xx' || answer === 'unexpected_4xx') && porticoErrorSamples.length < 20) porticoErrorSamples.push(`${what}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
}

async function call(origin: string, kind: RouteKind, what: string, path: string, init: RequestInit & { key?: string } = {}): Promise<{ status: number; body: any } | undefined> {
  try {
    const response = await fetch(`${origin}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${init.key ?? MASTER_KEY}`, ...(typeof init.body === 'string' ? { 'content-type': 'application/json' } : {}) },
      signal: AbortSignal.timeout(60_000),
    });
    const text = await response.text();
    let body: any = text;
    try {
      body = JSON.parse(text);
    } catch {}
    // A stream that ended with an error event: the upstream failed after the stream began.
    if (response.status === 200 && typeof body === 'string' && body.includes('data: {"error"')) {
      count(kind, what, 502, { error: { message: 'stream ended with an error event' } });
      return { status: 502, body };
    }
    count(kind, what, response.status, body);
    return { status: response.status, body };
  } catch {
    // A connection Portico reset, or no answer within a minute: Portico's fault either way.
    count('local', what, 'network');
    return undefined;
  }
}

/** A multipart upload whose client goes away half way through the body. */
function abortedUpload(origin: string): Promise<void> {
  const { hostname, port } = new URL(origin);
  const boundary = `soak${randomBytes(8).toString('hex')}`;
  const head = `--${boundary}\r\ncontent-disposition: form-data; name="purpose"\r\n\r\nuser_data\r\n--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="cut.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`;
  const length = head.length + 256 * 1024 + `\r\n--${boundary}--\r\n`.length;
  return new Promise<void>((resolve) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(`POST /v1/files HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: Bearer ${MASTER_KEY}\r\ncontent-type: multipart/form-data; boundary=${boundary}\r\ncontent-length: ${length}\r\n\r\n${head}`);
      socket.write(Buffer.alloc(128 * 1024, 7), () => setTimeout(() => socket.destroy(), 20));
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve());
  });
}

function chatBody(model: string, text: string, stream = false): string {
  return JSON.stringify({ model, messages: [{ role: 'user', content: text }], ...(stream ? { stream: true } : {}) });
}

async function worker(origin: string, until: number, keys: { churned: number }): Promise<void> {
  while (Date.now() < until) {
    const pick = Math.random() * 100;
    if (pick < 40) await call(origin, 'upstream', 'chat', '/v1/chat/completions', { method: 'POST', body: chatBody('chat', 'hello') });
    else if (pick < 70) await call(origin, 'upstream', 'chat (stream)', '/v1/chat/completions', { method: 'POST', body: chatBody('chat', 'hello stream', true) });
    else if (pick < 78) {
      const form = new FormData();
      form.append('purpose', 'user_data');
      form.append('file', new Blob([new Uint8Array(randomBytes(16 * 1024))]), 'soak.bin');
      const uploaded = await call(origin, 'local', 'upload', '/v1/files', { method: 'POST', body: form });
      if (uploaded?.status === 200) await call(origin, 'local', 'file delete', `/v1/files/${uploaded.body.id}`, { method: 'DELETE' });
    } else if (pick < 84) await abortedUpload(origin);
    else if (pick < 92) {
      const generated = await call(origin, 'local', 'key generate', '/key/generate', { method: 'POST', body: JSON.stringify({ models: ['chat'], rpm_limit: 100_000 }) });
      if (generated?.status === 200) {
        await call(origin, 'upstream', 'chat (churned key)', '/v1/chat/completions', { method: 'POST', body: chatBody('chat', 'churn'), key: generated.body.key });
        await call(origin, 'local', 'key delete', '/key/delete', { method: 'POST', body: JSON.stringify({ keys: [generated.body.token] }) });
        keys.churned += 1;
      }
    } else await call(origin, 'local', 'file list', '/v1/files?limit=20');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

interface SoakBatch {
  id: string;
  kind: 'emulated' | 'native';
  customIds: string[];
  status: string;
  outputFileId?: string | null;
  errorFileId?: string | null;
}

async function createBatch(origin: string, kind: 'emulated' | 'native', n: number): Promise<SoakBatch | undefined> {
  // Emulated lines carry their custom id as the user text: the relay counts the model's runs by it.
  const customIds = Array.from({ length: BATCH_LINES }, (_, i) => (kind === 'emulated' ? `soak-e${n}-${i}` : `native-${n}-${i}`));
  const model = kind === 'emulated' ? 'emulated' : 'chat';
  const jsonl = customIds.map((id) => JSON.stringify({ custom_id: id, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: id }] } })).join('\n');
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([jsonl]), `soak-${kind}-${n}.jsonl`);
  const file = await call(origin, 'local', 'batch input upload', '/v1/files', { method: 'POST', body: form });
  if (file?.status !== 200) return undefined;
  // Creating a native batch calls the upstream's Files and Batch APIs (no faults there).
  const created = await call(origin, kind === 'native' ? 'upstream' : 'local', `batch create (${kind})`, '/v1/batches', {
    method: 'POST',
    body: JSON.stringify({ input_file_id: file.body.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
  });
  if (created?.status !== 200) return undefined;
  return { id: created.body.id, kind, customIds, status: created.body.status };
}

async function fileLines(origin: string, id: string | null | undefined): Promise<string[]> {
  if (!id) return [];
  const response = await fetch(`${origin}/v1/files/${id}/content`, { headers: { authorization: `Bearer ${MASTER_KEY}` } });
  if (response.status !== 200) throw new Error(`download of ${id} answered ${response.status}`);
  return (await response.text())
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { custom_id: string }).custom_id);
}

function openDescriptors(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return Number.NaN;
  }
}

async function heapUsedBytes(origin: string): Promise<number> {
  try {
    const text = await (await fetch(`${origin}/metrics`, { headers: { authorization: `Bearer ${MASTER_KEY}` } })).text();
    const match = /^portico_nodejs_heap_size_used_bytes(?:\{[^}]*\})? (\S+)$/m.exec(text);
    return match ? Number(match[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

const TABLES = ['api_keys', 'files', 'file_copies', 'batches', 'batch_items', 'blobs'] as const;

async function rowCounts(db: pg.Client): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of TABLES) {
    // Deleted files stay as tombstones (src/storage/README.md): the live ones are what could leak.
    const where = table === 'files' ? " WHERE state <> 'deleted'" : '';
    const result = await db.query(`SELECT count(*)::int AS n FROM ${table}${where}`).catch(() => undefined);
    counts[table] = result ? Number(result.rows[0].n) : Number.NaN;
  }
  return counts;
}

async function main(): Promise<number> {
  const machineBefore = loadavg()[0];
  const dir = makeTempDir('portico-soak-');
  const database = `portico_soak_${randomBytes(4).toString('hex')}`;
  const redisPrefix = `portico-soak:${randomBytes(4).toString('hex')}:`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  const databaseUrl = new URL(PG_URL);
  databaseUrl.pathname = `/${database}`;
  let portico: ManagedProcess | undefined;
  let db: pg.Client | undefined;
  try {
    const upstreamPort = await getFreePort();
    const relay = `http://127.0.0.1:${upstreamPort}`;
    await startProcess({
      name: 'soak-upstream',
      command: nodeBinary(),
      args: [join(repoRoot, 'bench', 'lib', 'soak-upstream-server.ts'), '--port', String(upstreamPort), '--fault-rate', String(FAULT_RATE)],
      ready: { url: `${relay}/soak/health` },
    });
    const configPath = join(dir, 'config.yaml');
    writeFileSync(
      configPath,
      `model_list:
  - model_name: chat
    litellm_params: { model: openai/gpt-4o-mini, api_base: "${relay}/v1", api_key: ${UPSTREAM_KEY} }
    model_info: { id: native-openai }
  - model_name: emulated
    litellm_params: { model: hosted_vllm/llama-3.1-8b, api_base: "${relay}/v1", api_key: ${UPSTREAM_KEY}, batch_concurrency: 8 }
    model_info: { id: emulated-vllm }
general_settings:
  master_key: ${MASTER_KEY}
router_settings:
  num_retries: 2
  allowed_fails: 50
  cooldown_time: 1
portico_settings:
  files:
    storage_dir: ${join(dir, 'files')}
  batch:
    poll_interval_ms: 500
    refresh_after_seconds: 1
`,
    );
    const port = await getFreePort();
    const origin = `http://127.0.0.1:${port}`;
    portico = await startProcess({
      name: 'portico',
      command: nodeBinary(),
      args: [...porticoNodeArgs(), join(repoRoot, 'bin', 'portico.js'), '--config', configPath, '--port', String(port), '--host', '127.0.0.1'],
      env: { ...porticoLaunch().env, DATABASE_URL: databaseUrl.toString(), REDIS_URL, PORTICO_REDIS_PREFIX: redisPrefix, LOG_LEVEL: 'warn', PORTICO_SHUTDOWN_GRACE_MS: '5000' },
      outputFile: join(dir, 'portico.log'),
      stdinPipe: false,
      ready: { url: `${origin}/health/readiness`, timeoutMs: 30_000 },
    });
    db = new pg.Client({ connectionString: databaseUrl.toString() });
    await db.connect();

    process.stdout.write(
      `soak: ${MINUTES} min, ${WORKERS} workers, upstream fault rate ${FAULT_RATE}, a ${BATCH_LINES}-line batch every ${BATCH_EVERY_S} s, report every ${INTERVAL_S} s, warm-up ${WARMUP_S} s; Portico pid ${portico.pid} on PostgreSQL (${database}) and Redis\n\n`,
    );
    const idleFdsBefore = openDescriptors(portico.pid);
    const started = Date.now();
    const until = started + MINUTES * 60_000;
    const keys = { churned: 0 };
    const batches: SoakBatch[] = [];
    const samples: Array<SoakSample & { heapBytes: number }> = [];
    const rows: Array<Array<string | number>> = [];
    const header = ['t', 'RSS', 'heap', 'fds', 'requests', 'ok', 'upstream err', 'Portico 5xx', 'other 4xx', 'net err', 'keys', 'files', 'copies', 'batches', 'items', 'blobs'];

    const report = async () => {
      const proc = portico as ManagedProcess;
      const atS = Math.round((Date.now() - started) / 1000);
      const sample = { atS, rssBytes: readRssBytes(proc.pid) ?? Number.NaN, fds: openDescriptors(proc.pid), heapBytes: await heapUsedBytes(origin) };
      samples.push(sample);
      const counts = await rowCounts(db as pg.Client);
      const t = interval;
      interval = newTally();
      const row = [
        `${atS}s`,
        fmtMB(sample.rssBytes),
        fmtMB(sample.heapBytes),
        sample.fds,
        fmtInt(t.requests),
        fmtInt(t.byClass.ok),
        fmtInt(t.byClass.upstream),
        t.byClass.portico_5xx,
        t.byClass.unexpected_4xx,
        t.byClass.network,
        ...TABLES.map((table) => counts[table]),
      ];
      rows.push(row);
      // One table, reprinted as it grows would be noisy: a header once, then one line per interval.
      const table = formatTable(header, rows).split('\n');
      if (rows.length === 1) process.stdout.write(`${table[0]}\n${table[1]}\n`);
      process.stdout.write(`${table.at(-1)}\n`);
    };
    const reporter = setInterval(() => void report(), INTERVAL_S * 1000);

    let batchNumber = 0;
    const batchLoop = (async () => {
      while (Date.now() < until) {
        const kind = batchNumber % 2 === 0 ? 'emulated' : 'native';
        const batch = await createBatch(origin, kind, batchNumber++);
        if (batch) batches.push(batch);
        await new Promise((resolve) => setTimeout(resolve, BATCH_EVERY_S * 1000));
      }
    })();
    await Promise.all([...Array.from({ length: WORKERS }, () => worker(origin, until, keys)), batchLoop]);
    clearInterval(reporter);
    await report();

    // Let every batch finish (the native ones advance every 300 ms upstream, the poller follows).
    process.stdout.write(`\nload over; waiting for ${batches.length} batches to finish...\n`);
    const deadline = Date.now() + 180_000;
    for (const batch of batches) {
      while (!TERMINAL.has(batch.status) && Date.now() < deadline) {
        const answer = await call(origin, 'local', 'batch retrieve', `/v1/batches/${batch.id}`);
        if (answer?.status === 200) {
          batch.status = answer.body.status;
          batch.outputFileId = answer.body.output_file_id;
          batch.errorFileId = answer.body.error_file_id;
        }
        if (!TERMINAL.has(batch.status)) await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
    const stats = (await (await fetch(`${relay}/soak/stats`)).json()) as { forwarded: number; faults: Record<string, number>; executions: Record<string, number> };
    const emulatedIds: string[] = [];
    const nativeIds: string[] = [];
    const seenIds: string[] = [];
    for (const batch of batches) {
      (batch.kind === 'emulated' ? emulatedIds : nativeIds).push(...batch.customIds);
      if (TERMINAL.has(batch.status)) seenIds.push(...(await fileLines(origin, batch.outputFileId)), ...(await fileLines(origin, batch.errorFileId)));
    }
    const unfinished = batches.filter((batch) => !TERMINAL.has(batch.status));
    const finishedIds = batches.filter((batch) => TERMINAL.has(batch.status)).flatMap((batch) => batch.customIds);
    const findings = batchLineFindings(finishedIds, seenIds, stats.executions);

    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idleFdsAfter = openDescriptors(portico.pid);
    const porticoErrors = total.byClass.portico_5xx + total.byClass.network;
    const cutUploads = {
      registered: Number((await db.query("SELECT count(*)::int AS n FROM files WHERE filename = 'cut.bin'")).rows[0].n),
      tempFiles: readdirSync(join(dir, 'files')).filter((name) => name.startsWith('.tmp-')).length,
    };
    const verdict = soakVerdict({ samples, warmupS: WARMUP_S, idleFdsBefore, idleFdsAfter, batches: findings, unfinishedBatches: unfinished.length, porticoErrors, cutUploads });

    process.stdout.write(
      `\n${fmtInt(total.requests)} requests: ${fmtInt(total.byClass.ok)} ok, ${fmtInt(total.byClass.upstream)} upstream errors relayed, ` +
        `${total.byClass.portico_5xx} Portico 5xx, ${total.byClass.unexpected_4xx} unexpected 4xx, ${total.byClass.network} network errors; ` +
        `upstream: ${fmtInt(stats.forwarded)} relayed, faults injected ${JSON.stringify(stats.faults)}; ${keys.churned} keys churned; ` +
        `${batches.length} batches (${emulatedIds.length} emulated and ${nativeIds.length} native lines)\n`,
    );
    for (const line of porticoErrorSamples) process.stdout.write(`  ${line}\n`);
    process.stdout.write(`\nVerdict\n${formatTable(['check', 'result', 'detail'], verdict.checks.map((c) => [c.name, c.judged === false ? 'n/a' : c.pass ? 'pass' : 'FAIL', c.detail]), { align: ['left', 'left', 'left'] })}\n`);
    process.stdout.write(`\nsoak: ${verdict.pass ? 'PASS' : 'FAIL'}\n`);
    const file = writeResults('soak', {
      machine: machineInfo(machineBefore),
      options: { minutes: MINUTES, intervalS: INTERVAL_S, workers: WORKERS, faultRate: FAULT_RATE, batchEveryS: BATCH_EVERY_S, warmupS: WARMUP_S },
      samples,
      totals: total,
      upstream: { forwarded: stats.forwarded, faults: stats.faults },
      batches: batches.map(({ id, kind, status }) => ({ id, kind, status })),
      findings,
      idleFdsBefore,
      idleFdsAfter,
      cutUploads,
      verdict,
      porticoErrorSamples,
    });
    process.stdout.write(`Wrote ${file}\n`);
    return verdict.pass ? 0 : 1;
  } finally {
    await db?.end().catch(() => undefined);
    if (portico) await stopProcess(portico, 10_000);
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await deleteRedisKeys(redisPrefix, REDIS_URL).catch(() => undefined); // best effort
  }
}


await runBench('soak', main);
