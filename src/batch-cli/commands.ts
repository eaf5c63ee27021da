/**
 * The `portico batch` subcommands, over the official `openai` SDK, so that they work against
 * Portico and against any OpenAI-compatible endpoint. Each answers the process's exit code.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type OpenAI from 'openai';
import { EXIT, exitCodeOfBatch } from './exit-codes.ts';
import { checkBatchInput, customIdsOf, selectLines } from './jsonl-files.ts';
import { createProgressReporter } from './progress.ts';

export interface CommandIo {
  client: OpenAI;
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Progress redrawn in place (a terminal), or plain lines. */
  isTerminal: boolean;
  /** Seconds between two looks at a watched batch. */
  pollSeconds: number;
  /** Aborted by Ctrl-C: a watch stops, the batch keeps running. */
  interrupt: AbortSignal;
}

const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

export interface SubmitOptions {
  file: string;
  model: string | undefined;
  endpoint: string | undefined;
  completionWindow: string;
  wait: boolean;
  outDir: string;
  metadata: Record<string, string> | undefined;
}

export async function submit(io: CommandIo, options: SubmitOptions): Promise<number> {
  const input = await checkBatchInput(options.file, options.model);
  let batch: OpenAI.Batches.Batch;
  try {
    const file = await io.client.files.create({ file: createReadStream(input.upload.path), purpose: 'batch' });
    batch = await io.client.batches.create({
      input_file_id: file.id,
      endpoint: (options.endpoint ?? input.commonUrl ?? '/v1/chat/completions') as OpenAI.Batches.BatchCreateParams['endpoint'],
      completion_window: options.completionWindow as '24h',
      ...(options.metadata && { metadata: options.metadata }),
    });
  } finally {
    await input.upload.remove();
  }
  io.out.write(`${batch.id} created (${input.lines} lines, input file ${batch.input_file_id})\n`);
  if (!options.wait) return EXIT.ok;
  return watch(io, batch.id, options.outDir);
}

/** Follows a batch until it ends, then downloads its files into `outDir`. */
export async function watch(io: CommandIo, batchId: string, outDir: string): Promise<number> {
  const progress = createProgressReporter(io.out, io.isTerminal);
  let batch = await io.client.batches.retrieve(batchId);
  for (;;) {
    progress.update(batch);
    if (TERMINAL.has(batch.status)) break;
    if (!(await pause(io.pollSeconds * 1000, io.interrupt))) {
      progress.finish();
      io.err.write(`Stopped watching. Batch ${batchId} keeps running; watch it again with:\n  portico batch watch ${batchId}\n`);
      return EXIT.interrupted;
    }
    batch = await io.client.batches.retrieve(batchId);
  }
  progress.finish();
  io.out.write(`${summary(batch)}\n`);
  await downloadFiles(io, batch, outDir);
  return exitCodeOfBatch(batch) ?? EXIT.ok;
}

export async function status(io: CommandIo, batchId: string): Promise<number> {
  const batch = await io.client.batches.retrieve(batchId);
  const rows: Array<[string, string]> = [
    ['id', batch.id],
    ['status', batch.status],
    ['endpoint', batch.endpoint],
    ['model', (batch as { model?: string }).model ?? ''],
    ['requests', countsText(batch)],
    ['created', isoTime(batch.created_at)],
    ['finished', isoTime(batch.completed_at ?? batch.failed_at ?? batch.expired_at ?? batch.cancelled_at ?? null)],
    ['input file', batch.input_file_id],
    ['output file', batch.output_file_id ?? ''],
    ['error file', batch.error_file_id ?? ''],
  ];
  for (const error of batch.errors?.data ?? []) rows.push(['error', `${error.code ?? ''}: ${error.message ?? ''}${error.line != null ? ` (line ${error.line})` : ''}`]);
  const width = Math.max(...rows.map(([name]) => name.length));
  for (const [name, value] of rows) if (value !== '') io.out.write(`${name.padEnd(width)}  ${value}\n`);
  return exitCodeOfBatch(batch) ?? EXIT.ok;
}

export async function list(io: CommandIo, limit: number): Promise<number> {
  const page = await io.client.batches.list({ limit });
  const rows = page.data.map((batch) => [batch.id, batch.status, countsText(batch), isoTime(batch.created_at), (batch as { model?: string }).model ?? batch.endpoint]);
  const header = ['ID', 'STATUS', 'REQUESTS', 'CREATED', 'MODEL'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) io.out.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  if (rows.length === 0) io.out.write('(no batches)\n');
  return EXIT.ok;
}

export async function cancel(io: CommandIo, batchId: string): Promise<number> {
  const batch = await io.client.batches.cancel(batchId);
  io.out.write(`${batch.id} ${batch.status}\n`);
  return EXIT.ok;
}

export async function download(io: CommandIo, batchId: string, outDir: string): Promise<number> {
  const batch = await io.client.batches.retrieve(batchId);
  if (!batch.output_file_id && !batch.error_file_id) {
    io.err.write(`Batch ${batch.id} is ${batch.status} and has no output or error file${TERMINAL.has(batch.status) ? '' : ' yet'}.\n`);
    return TERMINAL.has(batch.status) ? (exitCodeOfBatch(batch) ?? EXIT.ok) : EXIT.usage;
  }
  await downloadFiles(io, batch, outDir);
  return exitCodeOfBatch(batch) ?? EXIT.ok;
}

/** A new batch of the lines of `batchId` that are in its error file (same endpoint and window). */
export async function retryFailed(io: CommandIo, batchId: string, options: { wait: boolean; outDir: string }): Promise<number> {
  const batch = await io.client.batches.retrieve(batchId);
  if (!batch.error_file_id) {
    io.out.write(`Batch ${batch.id} (${batch.status}) has no failed lines to retry.\n`);
    return EXIT.ok;
  }
  const failed = await customIdsOf(await contentStream(io.client, batch.error_file_id));
  const { file, lines } = await selectLines(await contentStream(io.client, batch.input_file_id), failed);
  let retry: OpenAI.Batches.Batch;
  try {
    if (lines === 0) {
      io.err.write(`None of the ${failed.size} failed custom_ids of ${batch.id} was found in its input file ${batch.input_file_id}.\n`);
      return EXIT.apiError;
    }
    const uploaded = await io.client.files.create({ file: createReadStream(file.path), purpose: 'batch' });
    retry = await io.client.batches.create({
      input_file_id: uploaded.id,
      endpoint: batch.endpoint as OpenAI.Batches.BatchCreateParams['endpoint'],
      completion_window: batch.completion_window as '24h',
      metadata: { retry_of: batch.id },
    });
  } finally {
    await file.remove();
  }
  io.out.write(`${retry.id} created: ${lines} failed lines of ${batch.id}\n`);
  if (!options.wait) return EXIT.ok;
  return watch(io, retry.id, options.outDir);
}

async function downloadFiles(io: CommandIo, batch: OpenAI.Batches.Batch, outDir: string): Promise<void> {
  const files: Array<[string | null | undefined, string]> = [
    [batch.output_file_id, `${batch.id}_output.jsonl`],
    [batch.error_file_id, `${batch.id}_errors.jsonl`],
  ];
  if (!files.some(([id]) => id)) return;
  await mkdir(outDir, { recursive: true });
  for (const [id, name] of files) {
    if (!id) continue;
    const path = resolve(join(outDir, name));
    await pipeline(await contentStream(io.client, id), createWriteStream(path));
    io.out.write(`wrote ${path}\n`);
  }
}

async function contentStream(client: OpenAI, fileId: string): Promise<Readable> {
  const response = await client.files.content(fileId);
  if (!response.body) return Readable.from([]);
  return Readable.fromWeb(response.body as unknown as WebReadableStream<Uint8Array>);
}

/** Waits `ms`; answers false when interrupted first. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((done) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      done(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      done(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function countsText(batch: OpenAI.Batches.Batch): string {
  const c = batch.request_counts;
  return c ? `${c.completed}/${c.total} completed, ${c.failed} failed` : '';
}

function isoTime(seconds: number | null | undefined): string {
  return typeof seconds === 'number' && seconds > 0 ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '';
}

function summary(batch: OpenAI.Batches.Batch): string {
  const failed = batch.request_counts?.failed ?? 0;
  const what = batch.status === 'completed' && failed > 0 ? `completed with ${failed} failed line${failed === 1 ? '' : 's'}` : batch.status;
  return `${batch.id} ${what} (${countsText(batch)})`;
}
