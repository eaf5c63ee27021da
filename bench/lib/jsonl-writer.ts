/**
 * Writes a valid batch input file (JSONL, chat completions) to disk as a stream: one chunk of a
 * few hundred lines in memory at a time, whatever the file's size.
 *
 * API:
 *   batchLine(options: BatchLineOptions, index: number): string   // one line, without "\n" (pure)
 *   writeBatchFile(path, options: BatchFileOptions): Promise<{ bytes, lines, sha256 }>
 *       `lines` lines of exactly `lineBytes` bytes each ("\n" included) when lineBytes leaves room
 *       for the JSON around the text; custom_ids `${prefix}-000001`..., unique; one model
 *
 * Every line is what OpenAI's Batch API accepts: `custom_id`, `method: "POST"`,
 * `url: "/v1/chat/completions"`, `body: { model, messages }`; no `max_tokens`, so the
 * simulators' echo model answers with the whole user text (an output as large as the input).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface BatchLineOptions {
  model: string;
  /** Bytes per line, "\n" included. */
  lineBytes: number;
  prefix?: string;
}

export interface BatchFileOptions extends BatchLineOptions {
  lines: number;
}

/** Printable ASCII that JSON does not escape. */
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789 .,;:!?-';
const POOL_CHARS = 1 << 20;
let pool: string | undefined;

/** 1 MiB of pseudo-random text (xorshift32, fixed seed), built once; lines take slices of it. */
function textPool(): string {
  if (pool !== undefined) return pool;
  let state = 2463534242;
  const out = new Array<string>(POOL_CHARS);
  for (let i = 0; i < POOL_CHARS; i += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    out[i] = ALPHABET[state % ALPHABET.length];
  }
  pool = out.join('');
  return pool;
}

/** `length` characters of varied text, different per seed, so the file does not compress to nothing. */
function filler(length: number, seed: number): string {
  const text = textPool();
  let out = '';
  let offset = (seed * 7919) % POOL_CHARS;
  while (out.length < length) {
    const take = Math.min(length - out.length, POOL_CHARS - offset);
    out += text.slice(offset, offset + take);
    offset = 0;
  }
  return out;
}

export function batchLine(options: BatchLineOptions, index: number): string {
  const customId = `${options.prefix ?? 'request'}-${String(index + 1).padStart(6, '0')}`;
  const shell = (text: string) =>
    JSON.stringify({
      custom_id: customId,
      method: 'POST',
      url: '/v1/chat/completions',
      body: { model: options.model, messages: [{ role: 'user', content: text }] },
    });
  const overhead = shell('').length + 1;
  return shell(filler(Math.max(1, options.lineBytes - overhead), index + 1));
}

export async function writeBatchFile(path: string, options: BatchFileOptions): Promise<{ bytes: number; lines: number; sha256: string }> {
  let bytes = 0;
  const hash = createHash('sha256');
  async function* chunks(): AsyncGenerator<Buffer> {
    const perChunk = 256;
    for (let start = 0; start < options.lines; start += perChunk) {
      const parts: string[] = [];
      for (let i = start; i < Math.min(options.lines, start + perChunk); i += 1) parts.push(batchLine(options, i), '\n');
      const chunk = Buffer.from(parts.join(''), 'utf8');
      bytes += chunk.length;
      hash.update(chunk);
      yield chunk;
    }
  }
  // pipeline waits for the write stream's backpressure: at most a chunk or two in memory.
  await pipeline(Readable.from(chunks(), { objectMode: false }), createWriteStream(path, { flags: 'wx' }));
  return { bytes, lines: options.lines, sha256: hash.digest('hex') };
}
