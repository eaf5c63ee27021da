/**
 * A gateway's batch machinery without the HTTP layer, for the engine suites: the config loaded
 * from YAML as the CLI does, the router, the managed services with the emulated executor, the
 * batch poller and one or more batch engines, all on a real database (`forEachDatabase`).
 *
 *   const h = await startEngineHarness(ctx.db, modelListYaml, { engine: { pollIntervalMs: 50 } });
 *   const batchId = await h.createBatch(chatLines(20, 'mock-group'));
 *   h.engine.start();
 *   const batch = await h.waitForStatus(batchId, ['completed']);   // polls like a client's retrieve
 *   const { output, errors } = await h.results(batch);
 *   await h.close();
 *
 * Batches are created through the real file upload (multipart, validated) and `batches.create`;
 * their state moves through the real synchroniser (a fast batch poller, plus retrieves).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { parseConfig } from '../../src/config/load-config.ts';
import type { PorticoConfig } from '../../src/config/types.ts';
import type { BatchEngine, BatchEngineOptions } from '../../src/jobs/batch-engine.ts';
import { createBatchSystem } from '../../src/jobs/batch-system.ts';
import { createBatchPoller } from '../../src/jobs/batch-poller.ts';
import type { PeriodicJob } from '../../src/jobs/periodic-job.ts';
import type { ManagedServices } from '../../src/managed/managed-services.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';
import { InMemoryRateLimiter } from '../../src/routing/rate-limits/in-memory-rate-limiter.ts';
import { liveTrafficMeter } from '../../src/routing/rate-limits/deployment-budgets.ts';
import type { RateLimiter } from '../../src/routing/rate-limits/rate-limiter.ts';
import { type AttemptReport, Router } from '../../src/routing/router.ts';
import { TERMINAL_BATCH_STATUSES, type BatchInputLine, type BatchOutputLine, type BatchStatus, type OpenAIBatch } from '../../src/spec/openai-objects.ts';
import type { Principal } from '../../src/spec/principal.ts';
import type { BatchItemStore } from '../../src/storage/batch-item-store.ts';
import type { Database } from '../../src/storage/database.ts';

export const MASTER: Principal = Object.freeze({ keyId: null, isMaster: true, owner: 'master', allowedModels: null, userId: null, teamId: null });

export interface EngineHarnessOptions {
  /** Options of the harness's first engine (`h.engine`). */
  engine?: Partial<BatchEngineOptions>;
  /** Shared by the router's live-traffic meter and the engines; default a fresh in-memory one. */
  limiter?: RateLimiter;
  /** Lease owner prefix of this "instance". */
  instanceId?: string;
  /** The blob directory (several instances share one); default a fresh temporary one, removed on close. */
  storageDir?: string;
}

export interface EngineHarness {
  readonly config: PorticoConfig;
  readonly router: Router;
  readonly managed: ManagedServices;
  readonly items: BatchItemStore;
  readonly limiter: RateLimiter;
  readonly engine: BatchEngine;
  readonly poller: PeriodicJob;
  /** Every upstream attempt the router made, with the time it ended (ms). */
  readonly attempts: Array<AttemptReport & { endedAt: number }>;
  /** Another engine on the same services (another worker of this instance). */
  newEngine(options?: Partial<BatchEngineOptions>): BatchEngine;
  /** Uploads the lines as a `purpose=batch` file and creates a batch on it; answers the batch id. */
  createBatch(lines: readonly BatchInputLine[], endpoint?: string): Promise<string>;
  /** Retrieves (refreshing, as a client's poll does) until the status is one of `statuses`. */
  waitForStatus(batchId: string, statuses: readonly BatchStatus[], timeoutMs?: number): Promise<OpenAIBatch>;
  /** Statuses seen by `waitForStatus` calls, in order, per batch. */
  readonly seen: Map<string, BatchStatus[]>;
  /** The output and error lines of a finished batch. */
  results(batch: OpenAIBatch): Promise<{ output: BatchOutputLine[]; errors: BatchOutputLine[] }>;
  close(): Promise<void>;
}

export function testLogger(): Logger {
  return process.env.PORTICO_TEST_LOGS === '1' ? createLogger({ level: 'debug' }) : createLogger({ level: 'silent' });
}

export async function startEngineHarness(db: Database, modelListYaml: string, options: EngineHarnessOptions = {}): Promise<EngineHarness> {
  const storageDir = options.storageDir ?? (await mkdtemp(join(tmpdir(), 'portico-engine-')));
  const config = parseConfig(`${modelListYaml}
router_settings:
  num_retries: 0
portico_settings:
  files:
    storage_dir: ${storageDir}
  batch:
    refresh_after_seconds: 0
`);
  const logger = testLogger();
  const limiter = options.limiter ?? new InMemoryRateLimiter();
  const meter = liveTrafficMeter(limiter);
  const attempts: Array<AttemptReport & { endedAt: number }> = [];
  const router = new Router(config, {
    onAttempt: (report) => {
      attempts.push({ ...report, endedAt: Date.now() });
      meter(report);
    },
  });
  const system = await createBatchSystem({ config, database: db, router, logger, engine: { limiter, pollIntervalMs: 50, leaseMs: 5_000, drainMs: 2_000, cleanupIntervalMs: 0 } });
  const { managed } = system;
  const instanceId = options.instanceId ?? managed.instanceId;
  const engines: BatchEngine[] = [];
  const newEngine = (engineOptions: Partial<BatchEngineOptions> = {}): BatchEngine => {
    const engine = system.newEngine({ instanceId: `${instanceId}-${engines.length}`, ...engineOptions });
    engines.push(engine);
    return engine;
  };
  const engine = newEngine(options.engine);
  const poller = createBatchPoller({ batches: managed.batchStore, synchronizer: managed.synchronizer, logger, intervalMs: 100 });
  poller.start();
  const seen = new Map<string, BatchStatus[]>();

  return {
    config,
    router,
    managed,
    items: system.items,
    limiter,
    engine,
    poller,
    attempts,
    seen,
    newEngine,
    async createBatch(lines, endpoint = '/v1/chat/completions') {
      const file = await managed.files.upload(MASTER, ...multipartBatchFile(lines));
      const batch = await managed.batches.create(MASTER, { input_file_id: file.id, endpoint, completion_window: '24h' });
      seen.set(batch.id, [batch.status]);
      return batch.id;
    },
    async waitForStatus(batchId, statuses, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const batch = await managed.batches.retrieve(MASTER, batchId);
        const history = seen.get(batchId) ?? [];
        if (history.at(-1) !== batch.status) history.push(batch.status);
        seen.set(batchId, history);
        if (statuses.includes(batch.status)) return batch;
        if (TERMINAL_BATCH_STATUSES.has(batch.status)) throw new Error(`batch ${batchId} ended ${batch.status} (wanted ${statuses.join('/')}): ${JSON.stringify(batch.errors)}`);
        if (Date.now() > deadline) throw new Error(`batch ${batchId} is ${batch.status} after ${timeoutMs} ms (wanted ${statuses.join('/')}); seen ${history.join(' -> ')}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async results(batch) {
      return { output: await readLines(managed, batch.output_file_id), errors: await readLines(managed, batch.error_file_id) };
    },
    async close() {
      await Promise.all(engines.map((e) => e.stop()));
      await poller.stop();
      if (options.storageDir === undefined) await rm(storageDir, { recursive: true, force: true });
    },
  };
}

async function readLines(managed: ManagedServices, fileId: string | null): Promise<BatchOutputLine[]> {
  if (fileId === null) return [];
  const { stream } = await managed.files.content(MASTER, fileId);
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as BatchOutputLine);
}

/** A `multipart/form-data` body with `purpose=batch` and the lines as `file`, as the SDK sends it. */
export function multipartBatchFile(lines: readonly BatchInputLine[]): [Record<string, string>, Readable] {
  const boundary = `----portico-test-${Math.random().toString(16).slice(2)}`;
  const jsonl = lines.map((line) => JSON.stringify(line)).join('\n') + '\n';
  const body =
    `--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nbatch\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="input.jsonl"\r\nContent-Type: application/jsonl\r\n\r\n${jsonl}\r\n` +
    `--${boundary}--\r\n`;
  return [{ 'content-type': `multipart/form-data; boundary=${boundary}` }, Readable.from([Buffer.from(body)])];
}

/** `count` chat lines for `model`, custom ids `line-0`..; `failing` indexes ask the simulator to fail. */
export function chatLines(count: number, model: string, options: { failing?: readonly number[]; prefix?: string } = {}): BatchInputLine[] {
  return Array.from({ length: count }, (_, i) => ({
    custom_id: `${options.prefix ?? 'line'}-${i}`,
    method: 'POST' as const,
    url: '/v1/chat/completions',
    body: { model, messages: [{ role: 'user', content: options.failing?.includes(i) ? 'FAIL' : `question number ${i}` }] },
  }));
}

/** Custom ids of lines, sorted, for exactly-once comparisons. */
export function customIds(lines: ReadonlyArray<{ custom_id: string }>): string[] {
  return lines.map((line) => line.custom_id).sort();
}

export async function waitUntil(condition: () => Promise<boolean> | boolean, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
