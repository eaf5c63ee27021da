/**
 * CPU per spend-ledger row, in-process: `node bench/spend-ledger.bench.ts [rows]` (default 50,000).
 * Rows are built first, then recorded 25 per event-loop turn and written by the ledger's own
 * flushes into a fresh SQLite file, with the spend counters on, as in production. Prints the
 * event loop's CPU per row (`process.threadCpuUsage()`) and the whole process's (`process.cpuUsage()`,
 * the SQLite worker included). Compare two trees by running each one's copy, alternated.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_DEFAULTS } from '../src/config/load-config.ts';
import { GatewayMetrics } from '../src/observability/metrics.ts';
import { SpendLedger } from '../src/spend/spend-ledger.ts';
import { timeOrderedId } from '../src/spend/time-ordered-id.ts';
import { openDatabase } from '../src/storage/database.ts';
import { SpendLogStore, type SpendLogRow } from '../src/storage/spend-log-store.ts';

const rows = Number(process.argv[2] ?? 50_000);
const dir = mkdtempSync(join(tmpdir(), 'portico-ledger-bench-'));
const db = await openDatabase(`file:${join(dir, 'bench.db')}`);
const metrics = new GatewayMetrics({ modelGroups: ['bench-model'] });
const ledger = new SpendLedger({ store: new SpendLogStore(db), flushIntervalMs: CONFIG_DEFAULTS.spendLogs.flushIntervalMs, onWritten: (written) => metrics.observeSpendRows(written) });

const row = (i: number): SpendLogRow => {
  const now = Date.now() / 1000;
  return { id: timeOrderedId(), requestId: `req_${i}_${now}`, callType: '/chat/completions', keyId: null, userId: null, teamId: null, modelGroup: 'bench-model', deploymentId: 'dep-1', provider: 'openai', model: 'bench-model', promptTokens: 20, completionTokens: 9, cachedTokens: 0, reasoningTokens: 0, totalTokens: 29, spend: 0.0001, status: 'success', latencyMs: 1.5, startedAt: now, endedAt: now, batchId: null, requestCount: 1 };
};

async function record(batch: readonly SpendLogRow[]): Promise<void> {
  for (let i = 0; i < batch.length; i += 25) {
    for (const each of batch.slice(i, i + 25)) ledger.record(each);
    await new Promise((resolve) => setImmediate(resolve));
  }
  await ledger.flushAll();
}

await record(Array.from({ length: 5_000 }, (_, i) => row(i))); // warm-up
const batch = Array.from({ length: rows }, (_, i) => row(i));
const thread = process.threadCpuUsage();
const whole = process.cpuUsage();
await record(batch);
const perRow = (usage: NodeJS.CpuUsage) => ((usage.user + usage.system) / rows).toFixed(2);
console.log(`${rows} rows: event loop ${perRow(process.threadCpuUsage(thread))} us/row, whole process ${perRow(process.cpuUsage(whole))} us/row`);
await ledger.close();
await db.close();
rmSync(dir, { recursive: true, force: true });
