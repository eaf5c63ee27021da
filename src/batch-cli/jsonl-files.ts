/**
 * The CLI's JSONL work, one line in memory at a time: checking a batch input file before it is
 * uploaded (and giving every line one model when asked), and building the input of a retry from
 * the lines whose `custom_id`s are in a batch's error file.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { CliUsageError } from './exit-codes.ts';

/** A file written for an upload, removed by `remove()` once the upload is over. */
export interface TempFile {
  path: string;
  remove(): Promise<void>;
}

async function tempFile(name: string): Promise<TempFile> {
  const dir = await mkdtemp(join(tmpdir(), 'portico-batch-'));
  return { path: join(dir, name), remove: () => rm(dir, { recursive: true, force: true }) };
}

async function writeLine(out: Writable, line: string): Promise<void> {
  if (!out.write(`${line}\n`)) await once(out, 'drain');
}

async function closeWriter(out: Writable): Promise<void> {
  out.end();
  await once(out, 'finish');
}

export interface CheckedInput {
  /** The file to upload: the input itself, or a rewritten copy (remove it afterwards). */
  upload: TempFile | { path: string; remove(): Promise<void> };
  lines: number;
  /** The `url` every line names, when they all name the same one. */
  commonUrl: string | undefined;
  /** With a model given: how many lines named another one, by that name (the copy asks for the given one). */
  replacedModels: Map<string, number>;
}

/**
 * Checks every line of a batch input file (JSON objects with `custom_id`, `method`, `url` and a
 * `body` object; `custom_id`s unique) and, with `model`, writes a copy whose lines all ask for it.
 *
 * A batch runs on one model, at OpenAI (one model per input file) as at Portico (a batch runs on
 * one model group: `src/managed/batches/batch-model.ts`). So `model` replaces `body.model` in
 * every line, and the caller tells the user which lines named another one; without it the lines
 * must all name the same model, or the file is refused here rather than after its upload.
 */
export async function checkBatchInput(path: string, model: string | undefined): Promise<CheckedInput> {
  const source = createReadStream(path);
  const opened = once(source, 'open').catch((error: NodeJS.ErrnoException) => {
    throw new CliUsageError(`cannot read ${path}: ${error.code === 'ENOENT' ? 'no such file' : error.message}`);
  });
  await opened;
  const copy = model === undefined ? undefined : await tempFile('input.jsonl');
  const out = copy ? createWriteStream(copy.path) : undefined;
  const seen = new Set<string>();
  let lines = 0;
  let lineNumber = 0;
  const urls = new Set<string>();
  const models = new Map<string, number>();
  const replacedModels = new Map<string, number>();
  try {
    for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
      lineNumber += 1;
      if (text.trim() === '') continue;
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        throw new CliUsageError(`${path}, line ${lineNumber}: not valid JSON`);
      }
      if (line === null || typeof line !== 'object' || Array.isArray(line)) throw new CliUsageError(`${path}, line ${lineNumber}: not a JSON object`);
      for (const field of ['custom_id', 'method', 'url'] as const) {
        if (typeof line[field] !== 'string' || line[field] === '') throw new CliUsageError(`${path}, line ${lineNumber}: "${field}" must be a non-empty string`);
      }
      const body = line.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new CliUsageError(`${path}, line ${lineNumber}: "body" must be an object`);
      const customId = line.custom_id as string;
      if (seen.has(customId)) throw new CliUsageError(`${path}, line ${lineNumber}: custom_id "${customId}" appears twice`);
      seen.add(customId);
      urls.add(line.url as string);
      const named = (body as { model?: unknown }).model;
      if (model === undefined) {
        if (typeof named !== 'string' || named === '') throw new CliUsageError(`${path}, line ${lineNumber}: the body names no model; pass --model M to give every line one`);
        models.set(named, (models.get(named) ?? 0) + 1);
      } else if (typeof named === 'string' && named !== model) {
        replacedModels.set(named, (replacedModels.get(named) ?? 0) + 1);
      }
      lines += 1;
      if (out) await writeLine(out, JSON.stringify({ ...line, body: { ...body, model } }));
    }
    if (out) await closeWriter(out);
  } catch (error) {
    out?.destroy();
    await copy?.remove();
    throw error;
  } finally {
    source.destroy();
  }
  if (lines === 0 || models.size > 1) {
    await copy?.remove();
    if (lines === 0) throw new CliUsageError(`${path}: no request lines`);
    throw new CliUsageError(`${path}: the lines name ${models.size} models (${countsText(models)}), and a batch runs on one: pass --model M to give every line one`);
  }
  return {
    upload: copy ?? { path, remove: async () => undefined },
    lines,
    commonUrl: urls.size === 1 ? [...urls][0] : undefined,
    replacedModels,
  };
}

/** `a: 3, b: 1`, the most named first, at most five. */
export function countsText(counts: ReadonlyMap<string, number>): string {
  const sorted = [...counts].sort((a, b) => b[1] - a[1]);
  const shown = sorted.slice(0, 5).map(([name, count]) => `${name.slice(0, 100)}: ${count}`);
  return sorted.length > 5 ? `${shown.join(', ')}, ...` : shown.join(', ');
}

/** The `custom_id` of every line of a batch's error file. */
export async function customIdsOf(errorFile: Readable): Promise<Set<string>> {
  const ids = new Set<string>();
  for await (const text of createInterface({ input: errorFile, crlfDelay: Infinity })) {
    if (text.trim() === '') continue;
    try {
      const id = (JSON.parse(text) as { custom_id?: unknown }).custom_id;
      if (typeof id === 'string') ids.add(id);
    } catch {
      // A line that is not JSON names no request to retry.
    }
  }
  return ids;
}

/** Writes the input lines whose `custom_id` is in `ids` to a new file; answers it and how many. */
export async function selectLines(input: Readable, ids: ReadonlySet<string>): Promise<{ file: TempFile; lines: number }> {
  const file = await tempFile('retry.jsonl');
  const out = createWriteStream(file.path);
  let lines = 0;
  try {
    for await (const text of createInterface({ input, crlfDelay: Infinity })) {
      if (text.trim() === '') continue;
      let id: unknown;
      try {
        id = (JSON.parse(text) as { custom_id?: unknown }).custom_id;
      } catch {
        continue;
      }
      if (typeof id === 'string' && ids.has(id)) {
        await writeLine(out, text);
        lines += 1;
      }
    }
    await closeWriter(out);
  } catch (error) {
    out.destroy();
    await file.remove();
    throw error;
  }
  return { file, lines };
}
