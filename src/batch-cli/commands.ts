/**
 * The `portico batch` subcommands, over the official `openai` SDK, so that they work against
 * Portico and against any OpenAI-compatible endpoint. Each answers the process's exit code.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import OpenAI from 'openai';
import { describeError, isTransient } from './api-errors.ts';
import { CliUsageError, EXIT, exitCodeOfBatch } from './exit-codes.ts';
import { checkBatchInput, countsText, customIdsOf, selectLines } from './jsonl-files.ts';
import { createProgressReporter, formatDuration } from './progress.ts';

export interface CommandIo {
  client: OpenAI;
  out: NodeJS.WriteStream | NodeJS.WritableStream;
  err: NodeJS.WritableStream;
  /** Progress redrawn in place (a terminal), or plain lines. */
  isTerminal: boolean;
  /** Seconds between two looks at a watched batch. */
  pollSeconds: number;
  /** How long a watch keeps looking while the endpoint is unreachable or failing (5xx, 429). */
  giveUpAfterMs: number;
  /** Aborted by Ctrl-C: every request in flight stops; a watch stops, the batch keeps running. */
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
  noteReplacedModels(io, options.model, input.replacedModels);
  let batch: OpenAI.Batches.Batch;
  try {
    batch = await uploadAndCreate(io, input.upload.path, {
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

/** A model changed is said, never done silently. */
function noteReplacedModels(io: CommandIo, model: string | undefined, replaced: ReadonlyMap<string, number>): void {
  if (replaced.size === 0) return;
  const count = [...replaced.values()].reduce((sum, n) => sum + n, 0);
  io.err.write(`note: --model ${model} replaces the model of ${count} line${count === 1 ? '' : 's'} (${countsText(replaced)}): a batch runs on one model\n`);
}

/**
 * Uploads a batch input file and creates its batch. When the endpoint refuses the batch, the
 * uploaded file is deleted again (nothing is left behind); when the create's outcome is unknown
 * (no answer, Ctrl-C) it is kept, since a batch may be running on it.
 */
async function uploadAndCreate(io: CommandIo, path: string, params: Omit<OpenAI.Batches.BatchCreateParams, 'input_file_id'>): Promise<OpenAI.Batches.Batch> {
  const file = await io.client.files.create({ file: createReadStream(path), purpose: 'batch' }, { signal: io.interrupt });
  try {
    return await io.client.batches.create({ ...params, input_file_id: file.id }, { signal: io.interrupt });
  } catch (error) {
    const refused = error instanceof OpenAI.APIError && error.status !== undefined;
    if (refused) await io.client.files.delete(file.id).catch(() => undefined);
    else io.err.write(`The input was uploaded as ${file.id}; whether a batch was created on it is unknown (see "portico batch list").\n`);
    throw error;
  }
}

/** Follows a batch until it ends, then downloads its files into `outDir`. */
export async function watch(io: CommandIo, batchId: string, outDir: string): Promise<number> {
  const progress = createProgressReporter(io.out, io.isTerminal);
  const stopped = () => {
    progress.finish();
    io.err.write(`Stopped watching. Batch ${batchId} keeps running; watch it again with:\n  portico batch watch ${batchId}\n`);
    return EXIT.interrupted;
  };
  let batch: OpenAI.Batches.Batch;
  try {
    batch = await io.client.batches.retrieve(batchId, { signal: io.interrupt });
  } catch (error) {
    if (io.interrupt.aborted) return stopped();
    throw error;
  }
  let failingSince: number | undefined;
  for (;;) {
    progress.update(batch);
    if (TERMINAL.has(batch.status)) break;
    if (!(await pause(io.pollSeconds * 1000, io.interrupt))) return stopped();
    try {
      batch = await io.client.batches.retrieve(batchId, { signal: io.interrupt });
      if (failingSince !== undefined) io.err.write(`Reached the endpoint again; still watching ${batchId}.\n`);
      failingSince = undefined;
    } catch (error) {
      if (io.interrupt.aborted) return stopped();
      if (!isTransient(error)) throw error;
      // A gateway restarting or a proxy's hiccup must not end an hours-long watch; a failure
      // that lasts is reported like any other.
      if (failingSince === undefined) {
        failingSince = Date.now();
        progress.finish();
        io.err.write(`Cannot look at ${batchId} (${describeError(error).text}); trying again for up to ${formatDuration(io.giveUpAfterMs / 1000)}.\n`);
      } else if (Date.now() - failingSince >= io.giveUpAfterMs) {
        io.err.write(`Batch ${batchId} may still be running; watch it again with:\n  portico batch watch ${batchId}\n`);
        throw error;
      }
    }
  }
  progress.finish();
  io.out.write(`${summary(batch)}\n`);
  await downloadFiles(io, batch, outDir);
  return exitCodeOfBatch(batch) ?? EXIT.ok;
}

export async function status(io: CommandIo, batchId: string): Promise<number> {
  const batch = await io.client.batches.retrieve(batchId, { signal: io.interrupt });
  const rows: Array<[string, string]> = [
    ['id', batch.id],
    ['status', batch.status],
    ['endpoint', batch.endpoint],
    ['model', (batch as { model?: string }).model ?? ''],
    ['requests', countsOf(batch)],
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
  const page = await io.client.batches.list({ limit }, { signal: io.interrupt });
  const rows = page.data.map((batch) => [batch.id, batch.status, countsOf(batch), isoTime(batch.created_at), (batch as { model?: string }).model ?? batch.endpoint]);
  const header = ['ID', 'STATUS', 'REQUESTS', 'CREATED', 'MODEL'];
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) io.out.write(`${row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd()}\n`);
  if (rows.length === 0) io.out.write('(no batches)\n');
  return EXIT.ok;
}

export async function cancel(io: CommandIo, batchId: string): Promise<number> {
  const batch = await io.client.batches.cancel(batchId, { signal: io.interrupt });
  io.out.write(`${batch.id} ${batch.status}\n`);
  return EXIT.ok;
}

export async function download(io: CommandIo, batchId: string, outDir: string): Promise<number> {
  const batch = await io.client.batches.retrieve(batchId, { signal: io.interrupt });
  if (!batch.output_file_id && !batch.error_file_id) {
    io.err.write(`Batch ${batch.id} is ${batch.status} and has no output or error file${TERMINAL.has(batch.status) ? '' : ' yet'}.\n`);
    return TERMINAL.has(batch.status) ? (exitCodeOfBatch(batch) ?? EXIT.ok) : EXIT.usage;
  }
  await downloadFiles(io, batch, outDir);
  return exitCodeOfBatch(batch) ?? EXIT.ok;
}

export interface RetryOptions {
  wait: boolean;
  outDir: string;
  /** Run the retried lines on this model instead of the one they name. */
  model: string | undefined;
  /** The batch's input as submitted, for endpoints that do not serve batch input files back. */
  inputPath: string | undefined;
}

/** A new batch of the lines of `batchId` that are in its error file (same endpoint and window). */
export async function retryFailed(io: CommandIo, batchId: string, options: RetryOptions): Promise<number> {
  const batch = await io.client.batches.retrieve(batchId, { signal: io.interrupt });
  if (!batch.error_file_id) {
    io.out.write(`Batch ${batch.id} (${batch.status}) has no failed lines to retry.\n`);
    return EXIT.ok;
  }
  const failed = await customIdsOf(await contentStream(io, batch.error_file_id));
  const input = options.inputPath !== undefined ? await openLocal(options.inputPath) : await inputOf(io, batch);
  const selected = await selectLines(input, failed);
  let retry: OpenAI.Batches.Batch;
  let lines = selected.lines;
  try {
    if (lines === 0) {
      io.err.write(`None of the ${failed.size} failed custom_ids of ${batch.id} is in ${options.inputPath ?? `its input file ${batch.input_file_id}`}.\n`);
      return EXIT.usage;
    }
    if (lines < failed.size) io.err.write(`note: ${failed.size - lines} failed custom_ids of ${batch.id} are not in its input; retrying the other ${lines}.\n`);
    let upload: { path: string; remove(): Promise<void> } = selected.file;
    if (options.model !== undefined) {
      const checked = await checkBatchInput(selected.file.path, options.model);
      noteReplacedModels(io, options.model, checked.replacedModels);
      upload = checked.upload;
      lines = checked.lines;
    }
    try {
      retry = await uploadAndCreate(io, upload.path, {
        endpoint: batch.endpoint as OpenAI.Batches.BatchCreateParams['endpoint'],
        completion_window: batch.completion_window as '24h',
        metadata: { retry_of: batch.id },
      });
    } finally {
      if (upload !== selected.file) await upload.remove();
    }
  } finally {
    await selected.file.remove();
  }
  io.out.write(`${retry.id} created: ${lines} failed lines of ${batch.id}${options.model !== undefined ? ` on ${options.model}` : ''}\n`);
  if (!options.wait) return EXIT.ok;
  return watch(io, retry.id, options.outDir);
}

async function openLocal(path: string): Promise<Readable> {
  const stream = createReadStream(path);
  await once(stream, 'open').catch((error: NodeJS.ErrnoException) => {
    throw new CliUsageError(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  return stream;
}

/** The batch's input file from the endpoint; OpenAI-compatible servers may refuse to serve it back. */
async function inputOf(io: CommandIo, batch: OpenAI.Batches.Batch): Promise<Readable> {
  try {
    return await contentStream(io, batch.input_file_id);
  } catch (error) {
    if (error instanceof OpenAI.APIError && error.status !== undefined && error.status < 500) {
      io.err.write(`The endpoint does not give back the input file ${batch.input_file_id}; pass the file you submitted with --input FILE.jsonl.\n`);
    }
    throw error;
  }
}

/** Writes each file to `NAME.part`, renamed once whole: an interrupted download leaves nothing half-written. */
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
    const partial = `${path}.part`;
    try {
      await pipeline(await contentStream(io, id), createWriteStream(partial), { signal: io.interrupt });
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      if (io.interrupt.aborted) io.err.write(`Download stopped. Get the files of ${batch.id} with:\n  portico batch download ${batch.id}\n`);
      throw error;
    }
    io.out.write(`wrote ${path}\n`);
  }
}

async function contentStream(io: CommandIo, fileId: string): Promise<Readable> {
  const response = await io.client.files.content(fileId, { signal: io.interrupt });
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

function countsOf(batch: OpenAI.Batches.Batch): string {
  const c = batch.request_counts;
  return c ? `${c.completed}/${c.total} completed, ${c.failed} failed` : '';
}

function isoTime(seconds: number | null | undefined): string {
  return typeof seconds === 'number' && seconds > 0 ? new Date(seconds * 1000).toISOString().replace('.000Z', 'Z') : '';
}

function summary(batch: OpenAI.Batches.Batch): string {
  const failed = batch.request_counts?.failed ?? 0;
  const what = batch.status === 'completed' && failed > 0 ? `completed with ${failed} failed line${failed === 1 ? '' : 's'}` : batch.status;
  return `${batch.id} ${what} (${countsOf(batch)})`;
}
