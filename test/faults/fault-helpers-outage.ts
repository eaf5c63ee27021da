/**
 * What the store-outage suites (postgres-restart, redis-restart, disk-full) check alike: a batch
 * input whose lines the simulator's log tells apart, the error envelope of a server-side
 * condition, and a graceful stop while a store is down mid-batch.
 */
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { toFile } from 'openai';
import type { PorticoProcess } from '../scale-out/portico-process.ts';
import { waitFor } from '../scale-out/redis-helpers.ts';
import type { SimulatorRequestLog } from '../simulators/openai-simulator.ts';
import { upstreamExecutions } from './fault-helpers-store.ts';

/** `count` chat lines for `model`, each with its custom id (`<tag>-<i>`) as its user text, which `upstreamExecutions` counts. */
export function chatBatchInput(tag: string, count: number, model = 'emulated'): string {
  return Array.from({ length: count }, (_, i) =>
    JSON.stringify({ custom_id: `${tag}-${i}`, method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: `${tag}-${i}` }] } }),
  ).join('\n');
}

/** `answer` is `status` with `code`, in OpenAI's envelope (exactly its four fields), of type `server_error`. */
export function assertServerErrorEnvelope(answer: { status: number; body: any }, status: number, code: string, what: string): void {
  assert.equal(answer.status, status, `${what}: ${JSON.stringify(answer.body)}`);
  assert.deepEqual(Object.keys(answer.body.error).sort(), ['code', 'message', 'param', 'type'], what);
  assert.equal(answer.body.error.code, code, what);
  assert.equal(answer.body.error.type, 'server_error', what);
}

export interface StoreOutage {
  down(): Promise<void>;
  up(): Promise<void>;
}

/**
 * A SIGTERM while a store is down mid-batch: a batch of `lines` lines on the `emulated` model
 * starts, and once `underWay` of them ran upstream the store goes down and Portico is stopped. It
 * must exit 0 within `exitWithinMs`. The store comes back up whatever happens.
 */
export async function assertSigtermWhileDownExits(
  portico: PorticoProcess,
  simulator: { readonly requests: readonly SimulatorRequestLog[] },
  outage: StoreOutage,
  options: { lines: number; underWay: number; exitWithinMs: number },
): Promise<void> {
  const client = portico.client();
  const file = await client.files.create({ file: await toFile(Buffer.from(chatBatchInput('term', options.lines)), 'term.jsonl'), purpose: 'batch' });
  await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  await waitFor(() => upstreamExecutions(simulator.requests, 'term-').size >= options.underWay, 30_000, 'the batch to be under way');
  await outage.down();
  try {
    const stopping = Date.now();
    const exit = await portico.stop();
    assert.deepEqual(exit, { code: 0, signal: null });
    console.log(`# exited after ${Date.now() - stopping} ms`);
    assert.ok(Date.now() - stopping < options.exitWithinMs, `exited after ${Date.now() - stopping} ms`);
  } finally {
    await outage.up();
  }
}

/** The custom_ids in a finished batch's output file, sorted. */
export async function customIdsOf(client: OpenAI, batch: OpenAI.Batches.Batch): Promise<string[]> {
  const output = (await (await client.files.content(batch.output_file_id as string)).text()).trim().split('\n');
  return output.map((line) => (JSON.parse(line) as { custom_id: string }).custom_id).sort();
}

/** Polls until the batch ends (a retrieve that fails, the store being down, counts as not yet). */
export async function waitForBatchEnd(client: OpenAI, id: string, timeoutMs: number): Promise<OpenAI.Batches.Batch> {
  let batch: OpenAI.Batches.Batch | undefined;
  await waitFor(async () => {
    batch = await client.batches.retrieve(id).catch(() => undefined);
    return batch !== undefined && ['completed', 'failed', 'expired', 'cancelled'].includes(batch.status);
  }, timeoutMs, `batch ${id} to end`);
  return batch as OpenAI.Batches.Batch;
}
