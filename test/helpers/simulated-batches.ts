/**
 * Driving a native batch on a provider simulator to its end through Portico, and reading its
 * result files: shared by the provider end-to-end suites (Gemini, Vertex AI, Bedrock).
 *
 *   const done = await runToEnd(client, sim, batch.id);   // sim.advanceBatches() between looks
 *   const { output, errors } = await resultLines(client, done);
 *   const ended = await waitForEnd(client, batch.id);       // a batch on Portico's engine
 *   const { created, done } = await runRefusedToEnd(client, sim, lines, 2);   // creates refused (429) twice first
 *   const expired = await expireRefused(portico, client, sim, lines);       // refused until its window ends
 *   await refusedAcrossInstances(start, sim, lines, expected);             // the backoff kept in the database
 */
import assert from 'node:assert/strict';
import type OpenAI from 'openai';
import { TERMINAL_BATCH_STATUSES } from '../../src/spec/openai-objects.ts';
import { parseJsonl, readContent, uploadBatchFile } from '../e2e/managed/managed-fixtures.ts';
import type { PorticoUnderTest } from './portico.ts';

/** A simulator whose batches move one step per call. */
export interface AdvancesBatches {
  advanceBatches(): Promise<unknown>;
}

/**
 * How long the drivers below keep looking, whatever their step count: on a loaded CI machine a
 * step count alone ran out while one sync still held the batch's lease.
 */
export const MIN_LOOKING_MS = 20_000;

/**
 * Retrieves through Portico, advancing the simulator's batches in between, until the batch ends.
 * `pauseMs` between steps lets time-based waits pass (a refused create's backoff: 1 s, 2 s, ...),
 * and, by default, the poller finish a sync it holds the batch's lease for: a retrieve meanwhile
 * answers the stored state, so ten looks without a pause could all fall inside one finalisation.
 */
export async function runToEnd(client: OpenAI, sim: AdvancesBatches, batchId: string, maxSteps = 40, pauseMs = 25): Promise<OpenAI.Batches.Batch> {
  let batch = await client.batches.retrieve(batchId);
  const lookUntil = Date.now() + MIN_LOOKING_MS;
  for (let step = 0; (step < maxSteps || Date.now() < lookUntil) && !TERMINAL_BATCH_STATUSES.has(batch.status); step += 1) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await sim.advanceBatches();
    batch = await client.batches.retrieve(batchId);
  }
  return batch;
}

/** Retrieves through Portico every 100 ms until the batch ends: for batches Portico's own engine runs. */
export async function waitForEnd(client: OpenAI, batchId: string, maxSteps = 100): Promise<OpenAI.Batches.Batch> {
  let batch = await client.batches.retrieve(batchId);
  const lookUntil = Date.now() + MIN_LOOKING_MS;
  for (let step = 0; (step < maxSteps || Date.now() < lookUntil) && !TERMINAL_BATCH_STATUSES.has(batch.status); step += 1) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    batch = await client.batches.retrieve(batchId);
  }
  return batch;
}

/** `/v1/embeddings` batch lines, `<prefix>-<i>` their custom_ids. */
export function embeddingLines(model: string, options: { count: number; prefix: string }): string {
  const lines = Array.from({ length: options.count }, (_, i) => JSON.stringify({ custom_id: `${options.prefix}-${i}`, method: 'POST', url: '/v1/embeddings', body: { model, input: `text number ${i}` } }));
  return `${lines.join('\n')}\n`;
}

/** The lines of the batch's output and error files (none for a file it has not). */
export async function resultLines(client: OpenAI, batch: OpenAI.Batches.Batch): Promise<{ output: Record<string, unknown>[]; errors: Record<string, unknown>[] }> {
  return {
    output: batch.output_file_id ? parseJsonl(await readContent(client, batch.output_file_id)) : [],
    errors: batch.error_file_id ? parseJsonl(await readContent(client, batch.error_file_id)) : [],
  };
}

/**
 * Moves a batch's `expires_at` `seconds` into the past: a part still waiting for its create
 * expires when the batch's window ends (`src/providers/batching/queued-creates.ts`), so a test
 * sees it end without waiting a day.
 */
export async function endWindow(portico: PorticoUnderTest, batchId: string, seconds = 1): Promise<void> {
  const store = portico.services.managed!.batchStore;
  const batch = await store.getById(batchId);
  assert.ok(batch?.providerBatchId?.split(',').some((id) => id.startsWith('queued-')), `batch ${batchId} has no queued part: ${batch?.providerBatchId}`);
  assert.ok(await store.update(batchId, { expiresAt: Math.floor(Date.now() / 1000) - seconds }));
}

/** A simulator that can refuse batch creates with its provider's throttling error. */
export interface RefusesBatchCreates extends AdvancesBatches {
  refuseBatchCreates(count: number): void;
  readonly batchCreateRefusals: number;
}

/**
 * Creates a `/v1/chat/completions` batch of `lines` while the simulator refuses its first
 * `refusals` creates, checks it waits in `validating` with a warning, and retrieves it (pausing
 * for the backoff: 1 s, 2 s, ...) until it ends.
 */
export async function runRefusedToEnd(client: OpenAI, sim: RefusesBatchCreates, lines: string, refusals: number): Promise<{ created: OpenAI.Batches.Batch; done: OpenAI.Batches.Batch }> {
  const before = sim.batchCreateRefusals;
  sim.refuseBatchCreates(refusals);
  const file = await uploadBatchFile(client, lines);
  const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
  assert.equal(created.status, 'validating');
  assert.match(String(created.metadata?.portico_translation_warnings ?? ''), /refused the batch .*create for its quota/);
  const done = await runToEnd(client, sim, created.id, 60, 250);
  assert.equal(sim.batchCreateRefusals - before, refusals, 'every refusal was used');
  return { created, done };
}

/**
 * Creates a batch of `lines` the simulator keeps refusing and cancels it while it waits: it must
 * end `cancelled`, no output, every line `batch_cancelled` under its custom_id (a part never
 * created answers its lines too).
 */
export async function cancelRefused(client: OpenAI, sim: RefusesBatchCreates, lines: string, customIds: readonly string[]): Promise<OpenAI.Batches.Batch> {
  sim.refuseBatchCreates(1_000);
  try {
    const file = await uploadBatchFile(client, lines);
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    assert.equal(created.status, 'validating');
    await client.batches.cancel(created.id);
    const done = await runToEnd(client, sim, created.id, 40, 100);
    assert.equal(done.status, 'cancelled');
    const { output, errors } = await resultLines(client, done);
    assert.equal(output.length, 0);
    assert.deepEqual(errors.map((l) => l.custom_id).sort(), [...customIds].sort());
    assert.ok(errors.every((l) => (l.error as { code: string }).code === 'batch_cancelled'), JSON.stringify(errors));
    return done;
  } finally {
    sim.refuseBatchCreates(0);
  }
}

/**
 * Creates a batch of `lines` the simulator keeps refusing, moves its wait a day back, and
 * retrieves it until it ends: it must be `expired`, `<upstream> refused ...` and the provider's
 * message (`refusal`) in its `errors`, no output, every line `batch_expired` under its custom_id.
 */
export async function expireRefused(portico: PorticoUnderTest, client: OpenAI, sim: RefusesBatchCreates, lines: string, expected: { upstream: string; refusal: RegExp; customIds: string[] }): Promise<OpenAI.Batches.Batch> {
  sim.refuseBatchCreates(1_000);
  try {
    const file = await uploadBatchFile(client, lines);
    const created = await client.batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    assert.equal(created.status, 'validating');
    await endWindow(portico, created.id);
    return await assertExpiredRefused(client, sim, created.id, expected);
  } finally {
    sim.refuseBatchCreates(0);
  }
}

/** Retrieves a refused batch whose window ended until it ends: expired, as `expireRefused` says. */
async function assertExpiredRefused(client: OpenAI, sim: RefusesBatchCreates, batchId: string, expected: { upstream: string; refusal: RegExp; customIds: string[] }): Promise<OpenAI.Batches.Batch> {
  const done = await runToEnd(client, sim, batchId, 40, 100);
  assert.equal(done.status, 'expired');
  assert.ok(done.expired_at);
  assert.ok(done.expires_at !== null && done.expires_at !== undefined && done.expires_at <= done.expired_at, 'expired at the end of its window');
  const error = done.errors?.data?.[0];
  assert.equal(error?.code, 'batch_create_refused');
  assert.ok(error?.message?.startsWith(`${expected.upstream} refused the batch create (429) until its completion window ended: `), error?.message);
  assert.match(error?.message ?? '', expected.refusal);
  const { output, errors } = await resultLines(client, done);
  assert.equal(output.length, 0);
  assert.deepEqual(errors.map((l) => l.custom_id).sort(), [...expected.customIds].sort());
  assert.ok(errors.every((l) => (l.error as { code: string }).code === 'batch_expired'));
  return done;
}

/**
 * A refused create's backoff survives its instance: instances that share one database (`start`
 * starts one more on it) go on with the schedule the database keeps, and one that never saw a
 * refusal expires the batch with the provider's last words.
 *
 * First and second run side by side: a batch created on the first (refused once, the next try
 * 1 s later) is not tried again at once by the second; after 1 s one more try is made (by either
 * instance, or a poller), and the first, which did not make it, does not try again at once (the
 * wait has doubled). Both are then stopped; the batch's window is ended and a third instance,
 * started afresh, finds it expired with the provider's refusal in its errors.
 */
export async function refusedAcrossInstances(start: () => Promise<PorticoUnderTest>, sim: RefusesBatchCreates, lines: string, expected: { upstream: string; refusal: RegExp; customIds: string[] }): Promise<OpenAI.Batches.Batch> {
  sim.refuseBatchCreates(1_000);
  const running: PorticoUnderTest[] = [];
  try {
    const first = await start();
    running.push(first);
    const second = await start();
    running.push(second);
    const refusedBefore = sim.batchCreateRefusals;
    const file = await uploadBatchFile(first.client(), lines);
    const created = await first.client().batches.create({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    const createdAt = Date.now();
    assert.equal(created.status, 'validating');
    assert.equal(sim.batchCreateRefusals - refusedBefore, 1);
    assert.equal((await second.client().batches.retrieve(created.id)).status, 'validating');
    assert.equal(sim.batchCreateRefusals - refusedBefore, 1, 'another instance waits out the backoff the first one started');
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, createdAt + 1_100 - Date.now())));
    assert.equal((await second.client().batches.retrieve(created.id)).status, 'validating');
    assert.equal(sim.batchCreateRefusals - refusedBefore, 2, 'tried once more after 1 s');
    assert.equal((await first.client().batches.retrieve(created.id)).status, 'validating');
    assert.equal(sim.batchCreateRefusals - refusedBefore, 2, 'the first instance follows the wait the second one doubled');
    await Promise.all(running.splice(0).map((portico) => portico.close()));
    const third = await start();
    running.push(third);
    await endWindow(third, created.id);
    const done = await assertExpiredRefused(third.client(), sim, created.id, expected);
    assert.equal(sim.batchCreateRefusals - refusedBefore, 2, 'no create once the window ended');
    return done;
  } finally {
    sim.refuseBatchCreates(0);
    await Promise.all(running.map((portico) => portico.close()));
  }
}

/**
 * The key's spend, read through `/key/info`, is `expected` (what its one batch cost): counted once
 * though the ended batch is retrieved again, by the client and by the poller.
 */
export async function assertKeySpend(portico: PorticoUnderTest, client: OpenAI, key: string, batchId: string, expected: number): Promise<void> {
  await Promise.all(Array.from({ length: 4 }, () => client.batches.retrieve(batchId)));
  await portico.jobs.poller.runOnce();
  const info = (await (await portico.fetch(`/key/info?key=${key}`)).json()) as { info: { spend: number } };
  assert.ok(Math.abs(info.info.spend - expected) < 1e-12, `spend ${info.info.spend} must be ${expected}`);
}

/**
 * A chat batch's results: `answered` came back as a chat.completion saying `content`, and
 * `failed` is the one line of the error file, a 400 `invalid_request_error`. Answers the lines.
 */
export async function assertOneFailedLine(client: OpenAI, batch: OpenAI.Batches.Batch, expected: { answered: string; content: string; failed: string }): Promise<{ output: Record<string, unknown>[]; errors: Record<string, unknown>[] }> {
  const lines = await resultLines(client, batch);
  const first = lines.output.find((l) => l.custom_id === expected.answered)!.response as { status_code: number; body: { object: string; choices: Array<{ message: { content: string } }> } };
  assert.equal(first.status_code, 200);
  assert.equal(first.body.object, 'chat.completion');
  assert.equal(first.body.choices[0]!.message.content, expected.content);
  assert.deepEqual(lines.errors.map((l) => l.custom_id), [expected.failed]);
  const failed = lines.errors[0]!.response as { status_code: number; body: { error: { type: string } } };
  assert.equal(failed.status_code, 400);
  assert.equal(failed.body.error.type, 'invalid_request_error');
  return lines;
}

/**
 * The end of a provider suite's config: its master key, three retries, files kept in `storage`,
 * and batches refreshed on every retrieve and polled every 200 ms (so a test sees changes at once).
 */
export function simulatedBatchSettings(masterKey: string, storage: string): string {
  return `general_settings:
  master_key: ${masterKey}
router_settings:
  num_retries: 3
portico_settings:
  files: { storage_dir: ${storage} }
  batch: { refresh_after_seconds: 0, poll_interval_ms: 200 }
`;
}
