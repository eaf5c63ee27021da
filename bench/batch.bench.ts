/**
 * `npm run bench:batch`: Portico's batch engine on a deployment without a batch API.
 *
 * Starts, each as its own process, a simulated model server (`lib/batch-upstream-server.ts`,
 * 50 ms per answer, no concurrency limit) and Portico (`bin/portico.js`, a `hosted_vllm/`
 * deployment with `batch_concurrency: 64`, SQLite unless BENCH_DATABASE_URL says otherwise).
 * Then, through the official `openai` SDK:
 *   1. live chat requests one at a time, without a batch (baseline latency), through Portico
 *      and then straight to the upstream;
 *   2. a 10,000-line file uploaded, then BENCH_BATCH_ROUNDS (3) batches of it one after another:
 *      create, poll until completed, while live requests keep going one at a time on the same
 *      deployment, through Portico and straight to the upstream in turn (the second shows what
 *      the upstream itself adds under the batch's load);
 *   3. each batch's output file is downloaded and checked (every custom_id exactly once).
 * Each batch's own figures are printed as a table; the live requests of all of them are pooled.
 * Reports lines per second against the ideal (concurrency / latency), where create -> completed
 * goes as timed at the upstream (create -> first batch line's arrival, first arrival -> last
 * line's answer, last answer -> completed seen by the client's 100 ms poll), the gateway's peak RSS
 * during the batch, and live latency during the batch versus without it. Writes
 * `results/latest-batch.json`.
 *
 * | variable | default | meaning |
 * | BENCH_BATCH_LINES | 10000 | lines in the batch |
 * | BENCH_BATCH_LATENCY_MS | 50 | upstream time per answer |
 * | BENCH_BATCH_CONCURRENCY | 64 | `batch_concurrency` of the deployment |
 * | BENCH_LIVE_BASELINE | 200 | live requests measured without a batch |
 * | BENCH_BATCH_ROUNDS | 3 | batches run one after another; their live requests are pooled (about 85 each), so that the p99 during a batch rests on about as many as the 200 without |
 * | BENCH_DATABASE_URL | SQLite in a temp dir | e.g. postgres://postgres@127.0.0.1:5432/bench (must exist) |
 * | BENCH_MAX_S | 600 | hard stop |
 * | BENCH_PORTICO_NODE_ARGS | | extra node flags for Portico, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` |
 * | BENCH_TRACE | | 1: when the create was sent (epoch ms, to line up with the gateway's own logs), the batch's status and counts at each poll, and each live request over 1.2x the baseline p99, on stderr; `all`: also every block of live latencies |
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI, { toFile } from 'openai';
import { createBenchClient } from './lib/client.ts';
import { getFreePort, installCleanupHandlers, makeTempDir, nodeBinary, porticoLaunch, porticoNodeArgs, repoRoot, runBench, startProcess, stopAll, warmCompileCache, type ManagedProcess } from './lib/processes.ts';
import { readCpuSeconds } from './lib/cpu.ts';
import { readRssBytes, startRssSampler } from './lib/rss.ts';
import { summarizeLatencies, type LatencySummary } from './lib/stats.ts';
import { fmtInt, fmtMB, fmtMs, fmtPercent, formatTable } from './lib/table.ts';

const LINES = Number(process.env.BENCH_BATCH_LINES ?? 10_000);
const LATENCY_MS = Number(process.env.BENCH_BATCH_LATENCY_MS ?? 50);
const CONCURRENCY = Number(process.env.BENCH_BATCH_CONCURRENCY ?? 64);
const LIVE_BASELINE = Number(process.env.BENCH_LIVE_BASELINE ?? 200);
// A batch gives the live loop about 85 requests; three pool about 255, so that the p99 during the
// batches rests on as many requests as the one without (200), not on the slowest of 85.
const ROUNDS = Math.max(1, Number(process.env.BENCH_BATCH_ROUNDS ?? 3));
const MAX_S = Number(process.env.BENCH_MAX_S ?? 600);
const UPSTREAM_KEY = 'sk-upstream';
const MASTER_KEY = 'sk-bench-master';
const MODEL = 'bench-model';

installCleanupHandlers();
const watchdog = setTimeout(() => {
  process.stderr.write(`\nbench:batch: BENCH_MAX_S=${MAX_S} reached, stopping\n`);
  void stopAll().finally(() => process.exit(1));
}, MAX_S * 1000);
watchdog.unref();

async function startUpstream(): Promise<{ proc: ManagedProcess; origin: string }> {
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const proc = await startProcess({
    name: 'upstream',
    command: nodeBinary(),
    args: [join(repoRoot, 'bench', 'lib', 'batch-upstream-server.ts'), '--port', String(port), '--latency-ms', String(LATENCY_MS), '--api-key', UPSTREAM_KEY],
    ready: { url: `${origin}/health` },
  });
  return { proc, origin };
}

async function startPortico(upstreamOrigin: string): Promise<{ proc: ManagedProcess; origin: string; database: string }> {
  const dir = makeTempDir('portico-batch-bench-');
  const configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    `model_list:
  - model_name: ${MODEL}
    litellm_params:
      model: hosted_vllm/${MODEL}
      api_base: ${upstreamOrigin}/v1
      api_key: ${UPSTREAM_KEY}
      batch_concurrency: ${CONCURRENCY}
general_settings:
  master_key: ${MASTER_KEY}
portico_settings:
  files:
    storage_dir: ${join(dir, 'files')}
  batch:
    poll_interval_ms: 200
    refresh_after_seconds: 1
`,
  );
  const port = await getFreePort();
  const origin = `http://127.0.0.1:${port}`;
  const database = process.env.BENCH_DATABASE_URL ?? `file:${join(dir, 'bench.db')}`;
  await warmCompileCache(porticoNodeArgs());
  const proc = await startProcess({
    name: 'portico',
    command: nodeBinary(),
    // BENCH_PORTICO_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof", profiles the gateway.
    args: [...porticoNodeArgs(), ...(process.env.BENCH_PORTICO_NODE_ARGS ?? '').split(/\s+/).filter(Boolean), join(repoRoot, 'bin', 'portico.js'), '--config', configPath, '--port', String(port)],
    env: { ...porticoLaunch().env, DATABASE_URL: database, LOG_LEVEL: 'warn' },
    stdinPipe: false,
    ready: { url: `${origin}/health/liveliness`, timeoutMs: 30_000 },
  });
  return { proc, origin, database: database.startsWith('file:') ? 'SQLite' : 'PostgreSQL' };
}

function batchJsonl(): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < LINES; i++) {
    lines.push(JSON.stringify({ custom_id: `line-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model: MODEL, messages: [{ role: 'user', content: `Question ${i}: what is ${i} + ${i}?` }], max_tokens: 20 } }));
  }
  return Buffer.from(lines.join('\n') + '\n');
}

async function main(): Promise<number> {
  const upstream = await startUpstream();
  const portico = await startPortico(upstream.origin);
  const client = new OpenAI({ apiKey: MASTER_KEY, baseURL: `${portico.origin}/v1`, maxRetries: 0, timeout: 120_000 });
  const live = createBenchClient(
    {
      origin: portico.origin,
      path: '/v1/chat/completions',
      request: {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${MASTER_KEY}` },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'A live question.' }] }),
      },
    },
    1,
  );
  // The same live request sent straight to the upstream: what the upstream itself adds under
  // the batch's load, so that the gateway's own share of the live latency can be read off.
  const direct = createBenchClient(
    {
      origin: upstream.origin,
      path: '/v1/chat/completions',
      request: {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${UPSTREAM_KEY}` },
        body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'A live question.' }] }),
      },
    },
    1,
  );

  process.stdout.write(`bench:batch: ${fmtInt(LINES)} lines, upstream ${LATENCY_MS} ms per answer, batch_concurrency ${CONCURRENCY}, ${portico.database}\n`);
  await live.timeRequests({ count: 20, concurrency: 1, until: 'complete' }); // warm-up
  const baseline = await live.timeRequests({ count: LIVE_BASELINE, concurrency: 1, until: 'complete' });
  const directBaseline = await direct.timeRequests({ count: LIVE_BASELINE, concurrency: 1, until: 'complete' });
  const slowAfterMs = summarizeLatencies(baseline.latenciesMs).p99Ms;

  const uploadStarted = Date.now();
  const file = await client.files.create({ file: await toFile(batchJsonl(), 'bench.jsonl'), purpose: 'batch' });
  const uploadMs = Date.now() - uploadStarted;

  // One batch of the uploaded file: its table printed, what the summary needs answered.
  const runRound = async (round: number) => {
    await fetch(`${upstream.origin}/stats/reset`, { method: 'POST' });
    const rssBefore = readRssBytes(portico.proc.pid) ?? Number.NaN;
    const sampler = startRssSampler(portico.proc.pid);
    const cpuBefore = readCpuSeconds(portico.proc.pid);
    const createdAt = Date.now();
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    if (process.env.BENCH_TRACE) process.stderr.write(`create sent at ${createdAt} (epoch ms)\n`);
    let batch = created;
    let firstProgressAt: number | undefined;
    let linesDoneAt: number | undefined;
    let inProgressSeenAt: number | undefined;
    // When the poll saw the batch finished: the end of create -> completed. Not the end of the live
    // loop's last block of requests, which may still be running (up to five live calls later).
    let finishedSeenAt: number | undefined;
    const duringBatch: number[] = [];
    const directDuringBatch: number[] = [];
    let liveErrors = 0;

    const poll = (async () => {
      while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        batch = await client.batches.retrieve(created.id);
        const done = batch.request_counts ? batch.request_counts.completed + batch.request_counts.failed : 0;
        const now = Date.now();
        if (batch.status !== 'validating') inProgressSeenAt ??= now;
        if (done > 0) firstProgressAt ??= now;
        if (done === LINES) linesDoneAt ??= now;
        if (['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) finishedSeenAt ??= now;
        if (process.env.BENCH_TRACE) process.stderr.write(`${now - createdAt} ms ${batch.status} ${done}\n`);
      }
    })();
    const liveLoop = (async () => {
      while (!['completed', 'failed', 'expired', 'cancelled'].includes(batch.status)) {
        const runAt = Date.now() - createdAt;
        const run = await live.timeRequests({ count: 5, concurrency: 1, until: 'complete' });
        // Live requests over the aim (1.2x the p99 without a batch), with when their block began.
        if (process.env.BENCH_TRACE) for (const ms of run.latenciesMs) if (ms > 1.2 * slowAfterMs) process.stderr.write(`slow live request: ${ms.toFixed(1)} ms, in the block begun ${runAt} ms after the create\n`);
        if (process.env.BENCH_TRACE === 'all') process.stderr.write(`live block at ${runAt} ms: ${run.latenciesMs.map((ms) => ms.toFixed(1)).join(' ')}\n`);
        duringBatch.push(...run.latenciesMs);
        liveErrors += run.errors;
        const straight = await direct.timeRequests({ count: 5, concurrency: 1, until: 'complete' });
        directDuringBatch.push(...straight.latenciesMs);
        liveErrors += straight.errors;
      }
    })();
    await Promise.all([poll, liveLoop]);
    const finishedAt = finishedSeenAt ?? Date.now();
    const rss = sampler.stop();
    // Includes the live requests served meanwhile (about 1% of the lines) and the polls.
    const cpuAfter = readCpuSeconds(portico.proc.pid);
    const cpuSeconds = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;

    const outputText = batch.output_file_id ? await (await client.files.content(batch.output_file_id)).text() : '';
    const outputIds = outputText
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => (JSON.parse(l) as { custom_id: string }).custom_id);
    const unique = new Set(outputIds).size;
    const stats = (await (await fetch(`${upstream.origin}/stats`)).json()) as {
      requests: number;
      maxInFlight: number;
      averageInFlight: number;
      arrivals?: { p99PerMs: number; maxPerMs: number; idleMsShare: number };
      batchLines?: { firstArrivedAt: number; lastAnsweredAt: number };
    };

    const ideal = CONCURRENCY / (LATENCY_MS / 1000);
    const lineSpan = stats.batchLines !== undefined && stats.batchLines.firstArrivedAt > 0 && stats.batchLines.lastAnsweredAt > 0 ? stats.batchLines : undefined;
    const engineSeconds = ((linesDoneAt ?? finishedAt) - (firstProgressAt ?? createdAt)) / 1000;
    const engineRate = LINES / engineSeconds;
    const endToEndRate = LINES / ((finishedAt - createdAt) / 1000);

    process.stdout.write(ROUNDS > 1 ? `\nBatch, round ${round} of ${ROUNDS}\n` : '\nBatch\n');
    process.stdout.write(
      formatTable(
        ['measure', 'value'],
        [
          ['status', batch.status],
          ['request_counts', `${batch.request_counts?.completed} completed, ${batch.request_counts?.failed} failed of ${batch.request_counts?.total}`],
          ['output lines (unique custom_ids)', `${fmtInt(outputIds.length)} (${fmtInt(unique)})`],
          ['upload of the input file', fmtMs(uploadMs)],
          ['create -> in_progress seen', fmtMs((inProgressSeenAt ?? finishedAt) - createdAt)],
          ['lines per second (first to last line, from request_counts, refreshed once a second)', `${fmtInt(engineRate)} / ideal ${fmtInt(ideal)} = ${fmtPercent(engineRate / ideal)}`],
          ['lines per second (create -> completed)', `${fmtInt(endToEndRate)} = ${fmtPercent(endToEndRate / ideal)} of ideal`],
          ['gateway CPU create -> completed (all threads): per line / share of one core', cpuSeconds === undefined ? 'n/a' : `${fmtInt((cpuSeconds * 1e6) / LINES)} us / ${fmtPercent(cpuSeconds / ((finishedAt - createdAt) / 1000))}`],
          // Counts are stored with `finalizing`, so this is about the finalisation (files, registration, cost) plus a poll.
          ['every line counted -> completed seen', linesDoneAt === undefined ? 'n/a' : fmtMs(finishedAt - linesDoneAt)],
          // Where create -> completed goes, timed at the upstream (a batch line's arrival and answer): the
          // start (create, load, first call), the lines themselves, and the finish (last answer ->
          // counted, finalised, seen by a poll every 100 ms).
          [
            'create -> first line at the upstream / lines (first arrival -> last answer) / last answer -> completed seen',
            lineSpan === undefined
              ? 'n/a'
              : `${fmtMs(lineSpan.firstArrivedAt - createdAt)} / ${fmtMs(lineSpan.lastAnsweredAt - lineSpan.firstArrivedAt)} (${fmtPercent(LINES / ((lineSpan.lastAnsweredAt - lineSpan.firstArrivedAt) / 1000) / ideal)} of ideal) / ${fmtMs(finishedAt - lineSpan.lastAnsweredAt)}`,
          ],
          ['upstream requests during the batch / most / average at once', `${fmtInt(stats.requests)} / ${fmtInt(stats.maxInFlight)} / ${stats.averageInFlight.toFixed(1)}`],
          // Calls that travel in waves: most milliseconds idle, then dozens at once (their answers are handled back to back).
          [
            'upstream calls arriving in one ms: p99 / most; ms with none',
            stats.arrivals === undefined ? 'n/a' : `${stats.arrivals.p99PerMs} / ${stats.arrivals.maxPerMs}; ${fmtPercent(stats.arrivals.idleMsShare)}`,
          ],
          ['gateway RSS before the batch (after the live baseline)', fmtMB(rssBefore)],
          ['gateway peak RSS during the batch', fmtMB(rss.peakBytes)],
          // This batch's live requests alone: their p99 is about their slowest (see ROUNDS).
          ['live requests through Portico during this batch: count / p99 / p99 without a batch', `${fmtInt(duringBatch.length)} / ${fmtMs(summarizeLatencies(duringBatch).p99Ms)} / ${fmtMs(slowAfterMs)}`],
        ],
      ) + '\n',
    );
    const ok = batch.status === 'completed' && unique === LINES && outputIds.length === LINES;
    if (!ok) process.stderr.write(`bench:batch: round ${round}: the batch did not complete with every line exactly once (see above)\n`);
    return {
      ok,
      duringBatch,
      directDuringBatch,
      liveErrors,
      result: {
        status: batch.status,
        requestCounts: batch.request_counts,
        outputLines: outputIds.length,
        uniqueOutputIds: unique,
        linesPerSecond: engineRate,
        createSentAtMs: createdAt,
        completedSeenAtMs: finishedAt,
        endToEndLinesPerSecond: endToEndRate,
        gatewayCpuSeconds: cpuSeconds,
        upstream: stats,
        rssBeforeBytes: rssBefore,
        peakRssBytes: rss.peakBytes,
      },
    };
  };
  const rounds = [];
  for (let round = 1; round <= ROUNDS; round++) rounds.push(await runRound(round));
  await live.close();
  await direct.close();
  const liveErrors = rounds.reduce((sum, each) => sum + each.liveErrors, 0);
  const base = summarizeLatencies(baseline.latenciesMs);
  const during = summarizeLatencies(rounds.flatMap((each) => each.duringBatch));
  const directBase = summarizeLatencies(directBaseline.latenciesMs);
  const directDuring = summarizeLatencies(rounds.flatMap((each) => each.directDuringBatch));
  process.stdout.write(`\nLive requests on the same deployment (one at a time${ROUNDS > 1 ? `; during the batch: ${ROUNDS} rounds pooled` : ''})\n`);
  const row = (name: string, s: LatencySummary, errors: number) => [name, fmtInt(s.count), fmtMs(s.p50Ms), fmtMs(s.p90Ms), fmtMs(s.p99Ms), fmtMs(s.maxMs), fmtInt(errors)];
  process.stdout.write(
    formatTable(
      ['', 'requests', 'p50', 'p90', 'p99', 'max', 'errors'],
      [
        row('without a batch', base, baseline.errors),
        row('during the batch', during, liveErrors),
        row('straight to the upstream, without a batch', directBase, directBaseline.errors),
        row('straight to the upstream, during the batch', directDuring, 0),
      ],
    ) + '\n',
  );
  process.stdout.write(
    `live p99 during / without the batch: through Portico ${(during.p99Ms / base.p99Ms).toFixed(2)}x, straight to the upstream ${(directDuring.p99Ms / directBase.p99Ms).toFixed(2)}x; ` +
      `Portico's own part of the live p99 (through minus straight): ${fmtMs(base.p99Ms - directBase.p99Ms)} without, ${fmtMs(during.p99Ms - directDuring.p99Ms)} during the batch\n`,
  );

  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(
    join(repoRoot, 'bench', 'results', 'latest-batch.json'),
    JSON.stringify(
      {
        lines: LINES,
        latencyMs: LATENCY_MS,
        concurrency: CONCURRENCY,
        database: portico.database,
        uploadMs,
        idealLinesPerSecond: CONCURRENCY / (LATENCY_MS / 1000),
        rounds: rounds.map((each) => each.result),
        liveWithoutBatch: base,
        liveDuringBatch: during,
        liveErrorsDuringBatch: liveErrors,
        directWithoutBatch: directBase,
        directDuringBatch: directDuring,
      },
      null,
      2,
    ) + '\n',
  );
  const ok = rounds.every((each) => each.ok) && liveErrors === 0;
  if (liveErrors > 0) process.stderr.write(`bench:batch: ${liveErrors} live requests failed during the batches\n`);
  return ok ? 0 : 1;
}

await runBench('bench:batch', main);
