/**
 * `npm run bench:files`: large files through Portico's managed Files API (issue 3, "Benchmark"),
 * with the official `openai` SDK as the client, an OpenAI and an Azure OpenAI simulator as the
 * upstreams (their own process: their memory is not the gateway's), and Portico's resident
 * memory sampled all along.
 *
 * 1. upload a generated ~200 MB JSONL batch file (48,000 valid lines, streamed from disk) with
 *    `target_model_names: gpt-4o-everywhere`: Portico validates it, stores it, and places a
 *    rewritten copy on BOTH deployments (OpenAI and Azure) before it answers;
 * 2. download it back (served from Portico's blob store);
 * 3. upload the same file without targets (plain SDK flow: validated and stored, not placed);
 * 3b. BENCH_CONCURRENT_UPLOADS (2) uploads of the same file without targets at the same time:
 *    what each concurrent upload adds to the peak (store only, as step 3, so the two compare);
 * 3c. the same number of uploads at once WITH `target_model_names` (each placed on both
 *    deployments, as step 1, so the two compare; BENCH_CONCURRENT_TARGETS=0 skips it). The report's
 *    "uploads at once" table puts each beside its single-upload run: what a second upload adds;
 * 4. upload a ~50 MB input for `gpt-4o-mini` (OpenAI only), run a batch on it (the simulator
 *    echoes every text, so the output is as large as the input), and download the output file
 *    (which Portico copied from the provider into its blob store when the batch completed).
 * Prints MB/s and Portico's peak RSS per operation, checks peak RSS against issue 3's bar
 * (200 MB), and writes bench/results/latest-files.json, with a memory timeline per stage.
 *
 * Environment (defaults in parentheses):
 *   BENCH_FILE_MB (199)          size of the large upload, MiB (Portico's default batch limit is 200 MiB)
 *   BENCH_FILE_LINES (48000)     its lines (default limit 50,000)
 *   BENCH_OUTPUT_MB (50)         size of the batch input whose output is downloaded, MiB (0 = skip)
 *   BENCH_OUTPUT_LINES (5000)
 *   BENCH_CONCURRENT_UPLOADS (2)  uploads at once in steps 3b and 3c (0 or 1 = skip them)
 *   BENCH_CONCURRENT_TARGETS (1) 0 skips step 3c (the longest step: 2 x 2 copies)
 *   BENCH_RSS_LIMIT_MB (200)     the bar peak RSS is checked against
 *   BENCH_FILES_MEMORY_PROBE (1) preload bench/lib/memory-probe.ts into Portico: V8 heap, Buffers and
 *                                anonymous vs file-backed RSS every 50 ms, joined to the timeline
 *   BENCH_MAX_S (300)            hard stop for the whole run
 *   BENCH_PORTICO_NODE_ARGS      extra node flags for Portico
 *   BENCH_DATABASE_URL           Portico's database (default SQLite in a temp dir), e.g. postgres://postgres@127.0.0.1:5432/bench
 *   BENCH_BLOB_STORE             `database` keeps file bytes in that database (needs PostgreSQL)
 */
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import {
  filesConfig,
  FILES_MASTER_KEY,
  EVERYWHERE_GROUP,
  OPENAI_ONLY_GROUP,
  AZURE_DEPLOYMENT,
  readUpstreamStats,
  startFilesPortico,
  startFilesUpstreams,
  type FilesUpstreams,
} from './lib/files-setup.ts';
import { blobStoreGauges, printFilesReport, type FilesBenchResults, type OperationResult } from './lib/files-report.ts';
import { writeBatchFile } from './lib/jsonl-writer.ts';
import { installCleanupHandlers, isAborted, makeTempDir, runBench } from './lib/processes.ts';
import { startRssSampler } from './lib/rss.ts';
import { machineInfo, writeResults } from './lib/run-record.ts';
import { parseProbeLines } from './lib/memory-probe.ts';
import { readProcIo, startRssTimeline } from './lib/rss-timeline.ts';

const MiB = 1024 * 1024;

function envNumber(name: string, fallback: number, allowZero = false): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
}

const settings = {
  fileBytes: Math.round(envNumber('BENCH_FILE_MB', 199) * MiB),
  fileLines: Math.round(envNumber('BENCH_FILE_LINES', 48_000)),
  outputBytes: Math.round(envNumber('BENCH_OUTPUT_MB', 50, true) * MiB),
  outputLines: Math.round(envNumber('BENCH_OUTPUT_LINES', 5_000)),
  concurrentUploads: Math.round(envNumber('BENCH_CONCURRENT_UPLOADS', 2, true)),
  concurrentTargets: process.env.BENCH_CONCURRENT_TARGETS !== '0',
  rssLimitBytes: envNumber('BENCH_RSS_LIMIT_MB', 200) * MiB,
  memoryProbe: process.env.BENCH_FILES_MEMORY_PROBE !== '0',
  maxS: envNumber('BENCH_MAX_S', 300),
};

const log = (line: string): void => void process.stderr.write(`${line}\n`);
const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

async function main(): Promise<number> {
  const startedAt = new Date().toISOString();
  const loadAverageBefore = loadavg()[0];
  installCleanupHandlers();
  const watchdog = setTimeout(() => {
    log(`\nBENCH_MAX_S=${settings.maxS} s exceeded: stopping everything.`);
    process.kill(process.pid, 'SIGTERM');
  }, settings.maxS * 1000);
  watchdog.unref();

  // 1. Inputs, written before anything runs so that writing them does not compete with Portico.
  const dataDir = makeTempDir('portico-files-bench-data-');
  const bigPath = join(dataDir, 'big-input.jsonl');
  const bigLineBytes = Math.floor(settings.fileBytes / settings.fileLines);
  log(`writing ${(bigLineBytes * settings.fileLines / MiB).toFixed(1)} MB batch input (${settings.fileLines} lines of ${bigLineBytes} bytes)...`);
  const big = await writeBatchFile(bigPath, { model: EVERYWHERE_GROUP, lineBytes: bigLineBytes, lines: settings.fileLines, prefix: 'big' });
  const outputInputPath = join(dataDir, 'output-input.jsonl');
  // The simulator's answer wraps each echoed text in ~600 bytes of chat.completion JSON.
  const outputLineBytes = settings.outputBytes > 0 ? Math.max(400, Math.floor(settings.outputBytes / settings.outputLines) - 600) : 0;
  const small =
    settings.outputBytes > 0
      ? await writeBatchFile(outputInputPath, { model: OPENAI_ONLY_GROUP, lineBytes: outputLineBytes, lines: settings.outputLines, prefix: 'echo' })
      : undefined;

  // 2. Upstreams and Portico. Portico's limits are raised only when the bench is asked for more than the defaults.
  const upstreams = await startFilesUpstreams();
  log(`simulators: OpenAI ${upstreams.openaiUrl}, Azure ${upstreams.azureUrl} (pid ${upstreams.proc.pid})`);
  const limits = {
    maxBatchFileBytes: big.bytes > 200 * MiB ? big.bytes : undefined,
    maxBatchFileLines: settings.fileLines > 50_000 ? settings.fileLines : undefined,
    blobStore: process.env.BENCH_BLOB_STORE === 'database' ? ('database' as const) : undefined,
  };
  const portico = await startFilesPortico(upstreams, {
    limits,
    memoryProbe: settings.memoryProbe,
  });
  log(`Portico: ${portico.origin} (pid ${portico.pid}${portico.nodeArgs.length ? `, node ${portico.nodeArgs.join(' ')}` : ''})`);
  const client = new OpenAI({ apiKey: FILES_MASTER_KEY, baseURL: `${portico.origin}/v1`, maxRetries: 0, timeout: settings.maxS * 1000 });

  await new Promise((r) => setTimeout(r, 1000));
  const idle = startRssSampler(portico.pid);
  await new Promise((r) => setTimeout(r, 500));
  const idleRssBytes = idle.stop().peakBytes;

  const blobGauges = blobStoreGauges(portico.storageDir);
  const timeline = startRssTimeline(portico.pid, {
    intervalMs: 50,
    gauges: () => {
      const io = readProcIo(portico.pid);
      return { ...blobGauges(), rchar: io?.rchar ?? Number.NaN, wchar: io?.wchar ?? Number.NaN };
    },
  });
  const operations: OperationResult[] = [];
  const failures: string[] = [];
  /** Times `run` and samples Portico's RSS meanwhile; `verify` runs afterwards, outside the timing. */
  const measure = async (
    stage: string,
    label: string,
    run: () => Promise<{ bytes: number; verify?: () => Promise<string> }>,
  ): Promise<boolean> => {
    if (isAborted()) return false;
    timeline.mark(stage);
    const sampler = startRssSampler(portico.pid, 20);
    const started = performance.now();
    try {
      const { bytes, verify } = await run();
      const seconds = (performance.now() - started) / 1000;
      const rss = sampler.stop();
      const check = verify ? await verify() : undefined;
      operations.push({ stage, label, bytes, seconds, mbPerSec: bytes / MiB / seconds, peakRssBytes: rss.peakBytes, check });
      log(`${label}: ${(bytes / MiB).toFixed(1)} MB in ${seconds.toFixed(2)} s, peak RSS ${(rss.peakBytes / MiB).toFixed(0)} MB${check ? ` (${check})` : ''}`);
      return true;
    } catch (error) {
      const rss = sampler.stop();
      const message = describeError(error);
      operations.push({ stage, label, bytes: Number.NaN, seconds: Number.NaN, mbPerSec: Number.NaN, peakRssBytes: rss.peakBytes, error: message });
      failures.push(`${label}: ${message}`);
      log(`! ${label} failed: ${message}`);
      if (portico.proc.hasExited()) log(`Portico exited; last output:\n${portico.proc.logTail()}`);
      return false;
    } finally {
      timeline.mark('between');
    }
  };

  let bigFileId: string | undefined;
  await measure('upload', `upload ${(big.bytes / MiB).toFixed(0)} MB -> 2 deployments`, async () => {
    const file = await client.files.create({
      file: createReadStream(bigPath),
      purpose: 'batch',
      target_model_names: EVERYWHERE_GROUP,
    } as unknown as OpenAI.FileCreateParams);
    bigFileId = file.id;
    if (file.bytes !== big.bytes) throw new Error(`Portico reports ${file.bytes} bytes, ${big.bytes} were sent`);
    return { bytes: big.bytes, verify: () => checkCopies(upstreams, big.bytes, big.lines) };
  });

  if (bigFileId) {
    const id = bigFileId;
    await measure('download-upload', 'download it (blob store)', async () => {
      const got = await download(client, id);
      if (got.bytes !== big.bytes || got.sha256 !== big.sha256) throw new Error(`downloaded ${got.bytes} bytes (sha256 ${got.sha256.slice(0, 12)}), uploaded ${big.bytes} (${big.sha256.slice(0, 12)})`);
      return { bytes: got.bytes, verify: async () => 'same bytes' };
    });
  }

  // The same bytes without `target_model_names` (the plain SDK flow): receive, validate, store,
  // nothing placed yet. The difference to the first row is the cost of placing the two copies.
  await measure('upload-plain', `upload ${(big.bytes / MiB).toFixed(0)} MB, no targets (store only)`, async () => {
    const before = await readUpstreamStats(upstreams);
    const file = await client.files.create({ file: createReadStream(bigPath), purpose: 'batch' });
    if (file.bytes !== big.bytes) throw new Error(`Portico reports ${file.bytes} bytes, ${big.bytes} were sent`);
    return {
      bytes: big.bytes,
      verify: async () => {
        const after = await readUpstreamStats(upstreams);
        const placed = after.files.openai.length + after.files.azure.length - before.files.openai.length - before.files.azure.length;
        if (placed !== 0) throw new Error(`${placed} provider copies appeared for a plain upload`);
        return 'validated and stored, no copy';
      },
    };
  });

  if (settings.concurrentUploads > 1) {
    const n = settings.concurrentUploads;
    await measure('upload-concurrent', `${n} uploads of ${(big.bytes / MiB).toFixed(0)} MB at once, no targets`, async () => {
      const files = await Promise.all(Array.from({ length: n }, () => client.files.create({ file: createReadStream(bigPath), purpose: 'batch' })));
      for (const file of files) if (file.bytes !== big.bytes) throw new Error(`Portico reports ${file.bytes} bytes, ${big.bytes} were sent`);
      return { bytes: n * big.bytes, verify: async () => `${n} stored` };
    });
    if (settings.concurrentTargets) {
      await measure('upload-concurrent-targets', `${n} uploads of ${(big.bytes / MiB).toFixed(0)} MB at once -> 2 deployments`, async () => {
        const files = await Promise.all(
          Array.from({ length: n }, () =>
            client.files.create({ file: createReadStream(bigPath), purpose: 'batch', target_model_names: EVERYWHERE_GROUP } as unknown as OpenAI.FileCreateParams),
          ),
        );
        for (const file of files) if (file.bytes !== big.bytes) throw new Error(`Portico reports ${file.bytes} bytes, ${big.bytes} were sent`);
        return { bytes: n * big.bytes, verify: async () => `${n} stored, each placed on 2 deployments` };
      });
    }
  }

  if (small) {
    let inputId: string | undefined;
    let outputId: string | undefined;
    let outputBytes = 0;
    await measure('upload-small', `upload ${(small.bytes / MiB).toFixed(0)} MB -> 1 deployment`, async () => {
      const file = await client.files.create({
        file: createReadStream(outputInputPath),
        purpose: 'batch',
        target_model_names: OPENAI_ONLY_GROUP,
      } as unknown as OpenAI.FileCreateParams);
      inputId = file.id;
      return { bytes: small.bytes };
    });
    if (inputId) {
      const input = inputId;
      await measure('batch', 'batch: create -> completed (output kept)', async () => {
        let batch = await client.batches.create({ input_file_id: input, endpoint: '/v1/chat/completions', completion_window: '24h' });
        while (!TERMINAL.has(batch.status)) {
          if (isAborted()) throw new Error('aborted');
          await new Promise((r) => setTimeout(r, 200));
          batch = await client.batches.retrieve(batch.id);
        }
        if (batch.status !== 'completed' || !batch.output_file_id) throw new Error(`batch ended ${batch.status}, output_file_id ${batch.output_file_id}`);
        outputId = batch.output_file_id;
        outputBytes = (await client.files.retrieve(outputId)).bytes;
        const counts = batch.request_counts;
        return { bytes: outputBytes, verify: async () => `${counts?.completed}/${counts?.total} lines` };
      });
    }
    if (outputId) {
      const id = outputId;
      await measure('download-output', 'download the batch output', async () => {
        const got = await download(client, id);
        if (got.bytes !== outputBytes) throw new Error(`downloaded ${got.bytes} bytes, the file has ${outputBytes}`);
        if (got.lines !== settings.outputLines) throw new Error(`downloaded ${got.lines} lines, expected ${settings.outputLines}`);
        return { bytes: got.bytes, verify: async () => `${got.lines} lines` };
      });
    }
  }
  const samples = timeline.stop();
  if (isAborted()) throw new Error('aborted; no report written');

  const upstreamStats = await readUpstreamStats(upstreams).catch(() => undefined);
  const results: FilesBenchResults = {
    startedAt,
    machine: machineInfo(loadAverageBefore),
    settings: { ...settings, bigFileBytes: big.bytes, bigLineBytes, outputInputBytes: small?.bytes ?? 0, outputInputLineBytes: outputLineBytes },
    portico: { nodeArgs: portico.nodeArgs, config: filesConfig(upstreams, portico.storageDir, limits), idleRssBytes },
    simulatorsRssBytes: upstreamStats?.rssBytes,
    operations,
    rssLimitBytes: settings.rssLimitBytes,
    timeline: samples,
    probe: portico.probeFile ? parseProbeLines(readFileIfThere(portico.probeFile)) : [],
    failures,
  };
  printFilesReport(results);
  log(`\nWrote ${writeResults('files', results)}`);
  return failures.length > 0 ? 1 : 0;
}

/** Streams a file's content through the SDK, counting bytes and lines and hashing them. */
async function download(client: OpenAI, id: string): Promise<{ bytes: number; lines: number; sha256: string }> {
  const response = await client.files.content(id);
  if (!response.body) throw new Error('no body');
  const hash = createHash('sha256');
  let bytes = 0;
  let lines = 0;
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    hash.update(chunk);
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines += 1;
  }
  return { bytes, lines, sha256: hash.digest('hex') };
}

/**
 * Both deployments must hold a copy, each with `body.model` rewritten from the group to the
 * deployment's model (`gpt-4o` on OpenAI, the deployment name on Azure): its size tells.
 */
async function checkCopies(upstreams: FilesUpstreams, bytes: number, lines: number): Promise<string> {
  const stats = await readUpstreamStats(upstreams);
  const expected = (model: string) => bytes - lines * (EVERYWHERE_GROUP.length - model.length);
  const problems: string[] = [];
  for (const [name, model] of [['openai', 'gpt-4o'], ['azure', AZURE_DEPLOYMENT]] as const) {
    const copies = stats.files[name].filter((f) => f.purpose === 'batch');
    if (copies.length !== 1) problems.push(`${name} holds ${copies.length} batch files`);
    else if (copies[0].bytes !== expected(model)) problems.push(`${name} copy has ${copies[0].bytes} bytes, expected ${expected(model)}`);
  }
  if (problems.length > 0) throw new Error(`copies not as expected: ${problems.join('; ')}`);
  return 'rewritten copy on OpenAI and on Azure';
}

function readFileIfThere(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

function describeError(error: unknown): string {
  if (error instanceof OpenAI.APIError) return `${error.status ?? 'no status'} ${error.message}`;
  return error instanceof Error ? error.message : String(error);
}

await runBench('bench:files', main);
