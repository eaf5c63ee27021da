/**
 * Driving a native batch on a provider simulator to its end through Portico, and reading its
 * result files: shared by the provider end-to-end suites (Gemini, Vertex AI, Bedrock).
 *
 *   const done = await runToEnd(client, sim, batch.id);   // sim.advanceBatches() between looks
 *   const { output, errors } = await resultLines(client, done);
 *   const ended = await waitForEnd(client, batch.id);       // a batch on Portico's engine
 */
import type OpenAI from 'openai';
import { TERMINAL_BATCH_STATUSES } from '../../src/spec/openai-objects.ts';
import { parseJsonl, readContent } from '../e2e/managed/managed-fixtures.ts';

/** A simulator whose batches move one step per call. */
export interface AdvancesBatches {
  advanceBatches(): Promise<unknown>;
}

/**
 * Retrieves through Portico, advancing the simulator's batches in between, until the batch ends.
 * `pauseMs` between steps lets time-based waits pass (a refused create's backoff: 1 s, 2 s, ...).
 */
export async function runToEnd(client: OpenAI, sim: AdvancesBatches, batchId: string, maxSteps = 10, pauseMs = 0): Promise<OpenAI.Batches.Batch> {
  let batch = await client.batches.retrieve(batchId);
  for (let step = 0; step < maxSteps && !TERMINAL_BATCH_STATUSES.has(batch.status); step += 1) {
    if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    await sim.advanceBatches();
    batch = await client.batches.retrieve(batchId);
  }
  return batch;
}

/** Retrieves through Portico every 100 ms until the batch ends: for batches Portico's own engine runs. */
export async function waitForEnd(client: OpenAI, batchId: string, maxSteps = 100): Promise<OpenAI.Batches.Batch> {
  let batch = await client.batches.retrieve(batchId);
  for (let step = 0; step < maxSteps && !TERMINAL_BATCH_STATUSES.has(batch.status); step += 1) {
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
